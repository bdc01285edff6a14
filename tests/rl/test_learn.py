"""A tiny GRPO run raises the held-out reward under a verifiable reward (statistically clear)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mighty.rl.config import GRPOConfig, GRPOOptimConfig, RolloutConfig, TrainConfig
from mighty.rl.learner import Learner, bootstrap_ci


def test_bootstrap_ci_brackets_the_mean():
    x = np.random.default_rng(0).normal(1.0, 1.0, size=400)
    lo, hi = bootstrap_ci(x, n_boot=2000, seed=1)
    assert lo < x.mean() < hi
    assert 0.15 < hi - lo < 0.25  # ≈ 2·1.96·σ/√n = 0.196
    assert bootstrap_ci(x, seed=1) == bootstrap_ci(x, seed=1)


@pytest.mark.slow
def test_grpo_raises_heldout_reward(tiny_policy, tokenizer, encode, reward, prompts, tmp_path):
    """Reward = share of completion tokens with id ≥ 64 (≈ 0.5 for the random policy).
    μ = 2 and a KL term to the initial policy are on, so the whole update path is exercised."""
    cfg = GRPOConfig(num_generations=4, prompts_per_step=8, mu=2, beta=0.01,
                     rollout=RolloutConfig(max_new_tokens=12),
                     optim=GRPOOptimConfig(lr=3e-3, warmup_steps=2))
    train = TrainConfig(steps=24, eval_every=24, eval_prompts=48, eval_greedy=False,
                        eval_bootstrap=2000, ckpt_every=0, table_every=12, progress=False)
    from flax import nnx
    import jax
    import jax.numpy as jnp

    graphdef, params = nnx.split(tiny_policy, nnx.Param)
    ref = (graphdef, jax.tree.map(jnp.copy, nnx.to_pure_dict(params)))
    learner = Learner(cfg, train, policy=tiny_policy, tokenizer=tokenizer, encode=encode,
                      reward_fn=reward, train_prompts=prompts(96, 0),
                      heldout=prompts(48, 1, prefix="h"), run_dir=tmp_path, reference=ref)
    learner.run()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    before, after = rows[0], rows[-1]
    assert before["step"] == 0 and after["step"] == 24
    b, a = before["eval/reward/total/mean"], after["eval/reward/total/mean"]
    assert a > b + 0.15, (b, a)
    assert after["eval/reward/total/ci95_lo"] > before["eval/reward/total/ci95_hi"]
    # training-batch reward went up too, and the logged diagnostics are all there
    first, last = rows[1], rows[-1]
    assert last["reward/total/mean"] > first["reward/total/mean"]
    for key in ("grpo/kl", "grpo/clip_frac", "grpo/ratio_max", "grpo/entropy", "grpo/grad_norm",
                "reward/reward/mean", "reward/total/std", "diag/distinct_1",
                "diag/reward_length_corr", "diag/length/mean", "grpo/zero_std_frac"):
        assert key in last, key
    assert first["grpo/ratio_max_first_iter"] == 1.0 and first["grpo/kl"] >= 0
    # sampler–trainer mismatch is logged every step (f32 on CPU: rounding only; μ = 2, so the
    # second iteration compares against the rollout's stored raw log π_old)
    for row in rows[1:]:
        assert 0 <= row["mismatch/token_logratio_abs_max"] < 1e-3, row["mismatch/token_logratio_abs_max"]
        assert "mismatch/seq_frac_abs_gt_0.1" in row
    assert last["grpo/kl"] > 0  # the policy left the reference
    table = (tmp_path / "samples.jsonl").read_text().splitlines()
    assert len(table) == 2 * train.table_rows and "completion" in json.loads(table[0])
