"""GRPO's technical reward has within-group variance from step 0 on a grounded run.

The issue's closed-book default never hit a required step (`reward/tech/mean` 0.0 at step 0,
every group flat), so the only learnable signal was length. Grounded, the packaged 135M
model sees the retrieved entry's steps and some samples of a group cover more of them than
others. This runs one real GRPO step of the packaged model through `python -m mighty.rl.train`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.heavy  # a 135M policy's GRPO step on 16 grounded rollouts: 6.2 GB peak RSS (8.7 in one batch)
def test_technical_reward_varies_within_groups_on_a_grounded_run(tmp_path):
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "mighty.rl.train", "experiment=grpo_tiny", f"run_dir={run_dir}",
           "policy.source=smollm2-135m-instruct", "policy.model=null", "policy.tokenizer=",
           "grpo.num_generations=4", "grpo.prompts_per_step=4", "grpo.mu=1",
           "grpo.dynamic_sampling=false", "grpo.micro_batches=4", "grpo.rollout.max_new_tokens=64",
           "grpo.rollout.max_prompt_len=512", "grpo.rollout.overlong_buffer=8",
           "train.steps=1", "train.eval_every=0", "train.table_every=0", "train.ckpt_every=0",
           f"hydra.run.dir={run_dir}/hydra"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    first = next(row for row in rows if "diag/flat_share/tech" in row)
    assert first["reward/tech/mean"] > 0, first  # some sample covers a required step
    assert first["diag/flat_share/tech"] < 1.0, first  # and not all samples of every group alike
