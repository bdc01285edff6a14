"""Every configured path runs for real, not only composes (on-policy KD with a live teacher:
tests/distill/test_onpolicy.py): GRPO with π_ref = the teacher and = the base student, a judge inside the GRPO reward, the
Optuna sweeper over two trials and the submitit local launcher. Each run must finish and
write its metrics."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]


def env() -> dict:
    return {**os.environ, "JAX_PLATFORMS": "cpu", "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}


def run(cmd: list[str], timeout: int = 1500) -> str:
    out = subprocess.run(cmd, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out.stdout + out.stderr


def metric_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """grpo_tiny's policy architecture, random, saved with the real tokenizer: the teacher,
    base student and judge of the runs below (one vocabulary with the policy)."""
    from flax import nnx
    from omegaconf import OmegaConf

    from mighty.models import ModelConfig, Transformer, load_pretrained, save_checkpoint

    exp = OmegaConf.load(ROOT / "mighty" / "conf" / "experiment" / "grpo_tiny.yaml")
    cfg = ModelConfig(**OmegaConf.to_container(exp.policy.model))
    out = tmp_path_factory.mktemp("tiny") / "model"
    save_checkpoint(Transformer(cfg, rngs=nnx.Rngs(7)), out, tokenizer=load_pretrained("smollm2-135m-instruct")[1])
    return out


def grpo_cmd(run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "mighty.rl.train", "experiment=grpo_tiny", f"run_dir={run_dir}",
            "train.steps=2", "train.eval_every=2", "train.ckpt_every=0", "train.table_every=0",
            f"hydra.run.dir={run_dir}/hydra", *extra]


@pytest.mark.parametrize("reference", ["teacher", "base_student"])
def test_grpo_with_a_loaded_reference(reference, tiny_checkpoint, tmp_path):
    run(grpo_cmd(tmp_path, f"grpo.reference={reference}", f"grpo.reference_path={tiny_checkpoint}"))
    rows = metric_rows(tmp_path / "metrics.jsonl")
    kl = [r["grpo/kl"] for r in rows if "grpo/kl" in r]
    # a reference other than π_θ's start: the KL is positive from the first update
    assert kl and kl[0] > 1e-6 and all(np.isfinite(kl))


def test_grpo_with_a_judge_in_the_reward(tiny_checkpoint, tmp_path):
    run(grpo_cmd(tmp_path, "judge=jax", f"judge.source={tiny_checkpoint}", "judge.cache=null",
                 "reward.components.tech.judge=${judge}"))
    rows = metric_rows(tmp_path / "metrics.jsonl")
    assert any(k.startswith("judge/") for r in rows for k in r), rows[-1].keys()
    assert all(np.isfinite(r["reward/tech/mean"]) for r in rows if "reward/tech/mean" in r)


def test_optuna_sweeper_runs_two_trials(tmp_path):
    sweep = tmp_path / "sweep"
    # the shipped Optuna experiment on the smoke pipeline, two trials instead of twelve
    run([sys.executable, "-m", "mighty.experiments.pipeline", "experiment=[smoke,tune_reward_weights]",
         "hydra.sweeper.n_trials=2", f"store={tmp_path / 'store'}", f"hydra.sweep.dir={sweep}"],
        timeout=2400)
    best = (sweep / "optimization_results.yaml").read_text()
    assert "best_params" in best and "reward.weights.tech" in best
    reports = sorted(sweep.glob("*/report/report.md"))
    assert len(reports) == 2, reports


@pytest.mark.heavy  # a submitit job and its pipeline: 5.6 GB peak (children), cold compilation cache
def test_submitit_local_launcher_runs_a_tiny_config(tmp_path):
    sweep = tmp_path / "sweep"
    cmd = grpo_cmd(tmp_path / "unused", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=20",
                   "train.steps=1", "train.eval_every=0", f"hydra.sweep.dir={sweep}", "run_dir=null",
                   "seed=0,1")
    run([*cmd[:3], "-m", *cmd[3:]])  # multirun: two jobs through submitit's local executor
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit())
    assert len(jobs) == 2, list(sweep.iterdir())
    for job in jobs:
        rows = metric_rows(job / "metrics.jsonl")
        assert rows and rows[-1]["step"] == 1
    assert any((sweep / ".submitit").rglob("*_result.pkl"))
