"""End-to-end KD runs on the tiny teacher: learning, and exact resume after SIGKILL."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mighty.distill.config import load_run_config

REPO = Path(__file__).resolve().parents[2]


def _rows(path):
    rows = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


@pytest.mark.slow
def test_tiny_kd_run_halves_heldout_kl(compose_kd, toy_cache, tmp_path):
    from mighty.distill.train import run_training
    from mighty.models.checkpoint import load_checkpoint

    run = load_run_config(compose_kd("experiment=kd_tiny", f"label_cache={toy_cache}",
                                     f"run_dir={tmp_path}"))
    final = run_training(run, tmp_path)
    rows = _rows(tmp_path / "metrics.jsonl")
    evals = [r for r in rows if "eval/kl" in r]
    before, after = evals[0]["eval/kl"], evals[-1]["eval/kl"]
    assert evals[0]["step"] == 0 and evals[-1]["step"] == run.kd.steps
    assert after <= 0.5 * before, (before, after)
    assert final["eval/kl"] == after and 0.0 <= final["eval/rouge_l"] <= 1.0
    assert "eval/exact_match" in final and "eval/ce" in final
    weights = {k: v for k, v in evals[0].items() if k.startswith("kd/domain_weight/")}
    assert len(weights) == 3 and sum(weights.values()) == pytest.approx(1.0)
    train_rows = [r for r in rows if "kd/loss" in r]
    assert len(train_rows) == run.kd.steps and all(np.isfinite(r["kd/loss"]) for r in train_rows)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["stage"] == "kd" and manifest["tokens_processed"] > 0
    student = load_checkpoint(manifest["student_checkpoint"])
    assert student.cfg.num_layers == 1


def _train_cmd(cache, run_dir, *extra):
    return [sys.executable, "-m", "mighty.distill.train", "experiment=kd_tiny", f"label_cache={cache}",
            f"run_dir={run_dir}", "kd.steps=24", "kd.ckpt_every=10", "kd.eval.every=8",
            "kd.eval.n_generate=0", "kd.domain.every=6", f"hydra.run.dir={run_dir}/hydra",
            "hydra.output_subdir=null", *extra]


@pytest.mark.slow
@pytest.mark.heavy  # two KD runs in subprocesses: 4.9 GB peak (children), cold compilation cache
def test_sigkill_then_resume_gives_identical_metrics(toy_cache, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu",
           "JAX_COMPILATION_CACHE_DIR": str(tmp_path / "xla_cache"),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    env.pop("MIGHTY_FAULT_KILL_AT_STEP", None)
    run = lambda *a, **kw: subprocess.run(*a, cwd=REPO, capture_output=True, text=True,  # noqa: E731
                                          timeout=600, **kw)
    full = run(_train_cmd(toy_cache, tmp_path / "full"), env=env)
    assert full.returncode == 0, full.stderr[-3000:]

    killed = run(_train_cmd(toy_cache, tmp_path / "resumed"),
                 env={**env, "MIGHTY_FAULT_KILL_AT_STEP": "15"})
    assert killed.returncode == -9, killed.stderr[-3000:]
    partial = _rows(tmp_path / "resumed" / "metrics.jsonl")
    assert partial[-1]["step"] == 15  # logged past the last checkpoint (step 10)
    assert not (tmp_path / "resumed" / "manifest.json").exists()

    resumed = run(_train_cmd(toy_cache, tmp_path / "resumed"), env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = _rows(tmp_path / "full" / "metrics.jsonl"), _rows(tmp_path / "resumed" / "metrics.jsonl")
    assert [r["step"] for r in a] == list(range(25))
    assert a == b
