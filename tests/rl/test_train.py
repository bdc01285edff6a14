"""`python -m mighty.rl.train experiment=grpo_tiny`: the real entry point end to end, and resume
after a SIGKILL reproduces the uninterrupted run's metrics exactly (perf/* aside)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STEPS = 4


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    """The packaged teacher's tokenizer saved once, so each subprocess loads it in ~1 s."""
    from mighty.models import load_pretrained

    out = tmp_path_factory.mktemp("tok")
    load_pretrained("smollm2-135m-instruct")[1].save(out)
    return out


def _cmd(run_dir, tokenizer_dir, *extra):
    return [sys.executable, "-m", "mighty.rl.train", "experiment=grpo_tiny", f"run_dir={run_dir}",
            f"policy.tokenizer={tokenizer_dir}", f"train.steps={STEPS}", "train.ckpt_every=2",
            "train.eval_every=2",
            f"hydra.run.dir={run_dir}/hydra", *extra]


def _env():
    return {**os.environ, "JAX_PLATFORMS": "cpu", "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}


def _rows(run_dir):
    rows = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


def _run_kill_resume(tmp_path, tokenizer_dir, *extra) -> tuple[Path, list[dict]]:
    """An uninterrupted run and one SIGKILLed after its step-2 checkpoint, side by side (the
    wall time of one run); the killed one is then resumed and must end with the same metrics.
    Returns the uninterrupted run's directory and metrics rows."""
    full, killed = tmp_path / "full", tmp_path / "killed"
    log = open(tmp_path / "full.log", "w")
    full_proc = subprocess.Popen(_cmd(full, tokenizer_dir, *extra), cwd=ROOT, env=_env(),
                                 stdout=log, stderr=subprocess.STDOUT)
    proc = subprocess.Popen(_cmd(killed, tokenizer_dir, *extra), cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 900
    while not (killed / "ckpt" / "2").is_dir() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _rows(killed)
    assert partial[-1]["step"] < STEPS
    full_proc.wait(timeout=900)
    log.close()
    assert full_proc.returncode == 0, (tmp_path / "full.log").read_text()[-3000:]
    rows = _rows(full)
    # resume the killed run: it continues from step 2 and ends with the same metrics
    subprocess.run(_cmd(killed, tokenizer_dir, *extra), cwd=ROOT, env=_env(), check=True, timeout=900)
    assert _rows(killed) == rows
    return full, rows


@pytest.mark.slow
def test_tiny_run_then_sigkill_resume_matches(tmp_path, tokenizer_dir):
    full, rows = _run_kill_resume(tmp_path, tokenizer_dir)
    assert [r["step"] for r in rows] == list(range(STEPS + 1))
    evals = [r for r in rows if "eval/reward/total/mean" in r]
    assert [r["step"] for r in evals] == [0, 2, 4]
    for r in evals:
        assert r["eval/reward/total/ci95_lo"] <= r["eval/reward/total/mean"] <= r["eval/reward/total/ci95_hi"]
    last = rows[-1]
    for key in ("reward/tech/mean", "reward/lang/mean", "reward/total/std", "reward/overlong/mean",
                "diag/corr/tech__lang", "diag/distinct_2", "diag/boilerplate_rate",
                "diag/off_topic_rate", "grpo/kl", "grpo/ds/dropped", "grpo/ds/refilled"):
        assert key in last, key
    manifest = json.loads((full / "manifest.json").read_text())
    assert manifest["stage"] == "grpo" and manifest["seed"] == 0 and manifest["tokens_processed"] > 0
    from mighty.models import load_checkpoint

    assert load_checkpoint(full / "policy").cfg.hidden_size == 32
    assert (full / "samples.jsonl").exists()


@pytest.mark.slow
def test_tiny_lora_run_resumes_after_sigkill_and_writes_merged_policy_and_peft_adapter(tmp_path, tokenizer_dir):
    """`+student/lora=tiny` through the real entry point: the checkpoints hold the adapters
    alone (a killed run resumes from them to the same metrics), the output is the merged policy
    (a plain checkpoint) and a PEFT adapter beside it."""
    from mighty.models.checkpoint import load_checkpoint

    run, rows = _run_kill_resume(tmp_path, tokenizer_dir, "+student/lora=tiny", "train.eval_every=4")
    assert sum("grpo/loss" in r for r in rows) == STEPS
    manifest = json.loads((run / "manifest.json").read_text())
    assert 0 < manifest["lora"]["trainable_bytes"] < manifest["lora"]["frozen_bytes"]
    adapter = Path(manifest["lora"]["adapter"])
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 4
    merged = load_checkpoint(manifest["output"])  # merged: loads as a plain model
    assert merged.cfg.num_layers > 0
