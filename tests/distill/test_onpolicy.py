"""On-policy KD (GKD's λ > 0) runs for real: every batch sampled from the student and
scored by the live tiny teacher, with finite losses written to metrics.jsonl."""
import json

import numpy as np
import pytest


def metric_rows(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_on_policy_kd_with_a_live_teacher(compose_kd, toy_cache, tmp_path):
    from mighty.distill.config import load_run_config
    from mighty.distill.train import run_training

    run_cfg = load_run_config(compose_kd("experiment=kd_tiny", f"label_cache={toy_cache}",
                                         f"run_dir={tmp_path}", "kd.lam=1.0", "kd.steps=4",
                                         "kd.eval.every=4", "kd.eval.n_generate=0", "kd.ckpt_every=0"))
    run_training(run_cfg, tmp_path)
    steps = [r for r in metric_rows(tmp_path / "metrics.jsonl") if "kd/loss" in r]
    assert len(steps) == 4 and all(r["kd/on_policy"] == 1.0 for r in steps)  # λ = 1: every batch
    assert all(np.isfinite(r["kd/loss"]) for r in steps)
