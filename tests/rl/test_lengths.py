"""The teacher's answer length reaches LengthPenalty: lookups by prompt, issue and overall
median, and a real GRPO step whose length reward could only be computed from it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mighty.rl.lengths import from_label_cache, from_rows

ROOT = Path(__file__).resolve().parents[2]


def test_lengths_by_prompt_then_issue_median_then_overall_median():
    t = from_rows([{"prompt_id": "a.1", "issue_id": "a", "tokens": [1] * 10},
                   {"prompt_id": "a.2", "issue_id": "a", "tokens": [1] * 30},
                   {"prompt_id": "a.3", "issue_id": "a", "tokens": [1] * 40},
                   {"prompt_id": "b.1", "issue_id": "b", "tokens": [1] * 100},
                   {"prompt_id": "c.1", "issue_id": "c", "tokens": []}])  # empty: no reference
    assert t.reference_tokens([{"prompt_id": "a.2", "issue_id": "a"},  # its own answer
                               {"prompt_id": "a.9", "issue_id": "a"},  # its issue's median
                               {"prompt_id": "z.1", "issue_id": "z"},  # median of all 4
                               {"prompt_id": "c.2", "issue_id": "c"}]) == [30, 30, 35, 35]
    with pytest.raises(ValueError, match="no teacher answer"):
        from_rows([{"prompt_id": "c.1", "issue_id": "c", "tokens": []}])


def write_label_cache(cache_dir: Path, lengths: list[int], n_max: int = 8, k: int = 2) -> Path:
    from mighty.data.logprob_cache import write_cache_manifest, write_shard

    r = len(lengths)
    arrays = {"tokens": np.ones((r, n_max), np.int32), "mask": np.ones((r, n_max), np.int8),
              "logprobs": np.zeros((r, n_max), np.float32),
              "topk_ids": np.zeros((r, n_max, k), np.int32),
              "topk_logprobs": np.zeros((r, n_max, k), np.float32),
              "lengths": np.asarray(lengths, np.int32), "truncated": np.zeros(r, np.int8)}
    rows = [{"prompt_id": f"p{i}", "issue_id": f"i{i}", "question": "q", "answer": "a", "keep": True}
            for i in range(r)]
    cache_dir.mkdir(parents=True, exist_ok=True)
    entry = write_shard(cache_dir, 0, arrays, rows, {})
    write_cache_manifest(cache_dir, {"shards": [entry]})
    return cache_dir


def test_label_cache_round_trip(tmp_path):
    t = from_label_cache(write_label_cache(tmp_path / "labels", [3, 5, 7]))
    assert t.by_prompt == {"p0": 3, "p1": 5, "p2": 7} and t.overall == 5
    with pytest.raises(FileNotFoundError, match="label stage"):
        from_label_cache(tmp_path / "nope")


@pytest.mark.slow
def test_a_real_grpo_step_scores_length_against_the_teacher(tmp_path):
    # Only the length reward counts, and it has no target_tokens: without the teacher's
    # lengths the step fails (RewardError), with them every sampled completion is scored as
    # -min(1, max(0, n / L - 1.25)) with L = 4, the one teacher answer's length.
    from mighty.models import load_pretrained

    tok_dir = tmp_path / "tok"
    load_pretrained("smollm2-135m-instruct")[1].save(tok_dir)
    cache = write_label_cache(tmp_path / "labels", [4])
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "mighty.rl.train", "experiment=grpo_tiny", f"run_dir={run_dir}",
           f"policy.tokenizer={tok_dir}", "train.steps=1", "train.eval_every=0", "train.table_every=1",
           "train.table_rows=64", "train.ckpt_every=0", f"hydra.run.dir={run_dir}/hydra",
           "reward.weights.tech=0", "reward.weights.lang=0", "reward.weights.repetition=0",
           "reward.components.length.target_tokens=null"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    bad = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert bad.returncode != 0 and "no positive reference_tokens" in bad.stderr + bad.stdout
    ok = subprocess.run([*cmd, f"label_cache={cache}"], cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=900)
    assert ok.returncode == 0, ok.stderr[-3000:]
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 8  # grpo_tiny: 2 prompts x G = 4
    for r in rows:
        expected = -min(1.0, max(0.0, r["length"] / 4 - 1.25))
        assert r["reward/length"] == pytest.approx(expected, abs=1e-9), r
    assert any(r["reward/length"] < 0 for r in rows)
