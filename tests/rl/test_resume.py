"""In-process resume: a run continued from its checkpoint logs what an uninterrupted run logs,
and a checkpoint refuses to resume against a different initial policy or reference."""
from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

from mighty.models import Transformer
from mighty.rl.config import GRPOConfig, GRPOOptimConfig, RolloutConfig, TrainConfig
from mighty.rl.learner import Learner

CFG = GRPOConfig(num_generations=4, prompts_per_step=2, mu=2, beta=0.04, dynamic_sampling=True,
                 ds_max_rounds=1, rollout=RolloutConfig(max_new_tokens=6, overlong_buffer=2),
                 optim=GRPOOptimConfig(lr=1e-2, warmup_steps=1))


@pytest.fixture
def make(tiny_cfg, tokenizer, encode, reward, prompts):
    def build(run_dir, steps, seed=0):
        policy = Transformer(tiny_cfg, rngs=nnx.Rngs(seed))
        graphdef, params = nnx.split(policy, nnx.Param)
        ref = (graphdef, jax.tree.map(jnp.copy, nnx.to_pure_dict(params)))
        train = TrainConfig(steps=steps, eval_every=2, eval_prompts=4, ckpt_every=2,
                            table_every=1, progress=False)
        return Learner(CFG, train, policy=policy, tokenizer=tokenizer, encode=encode,
                       reward_fn=reward, train_prompts=prompts(12, 0),
                       heldout=prompts(4, 1, prefix="h"), run_dir=run_dir, reference=ref)
    return build


def _rows(path):
    return [{k: v for k, v in json.loads(line).items() if not k.startswith("perf/")}
            for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_resume_matches_uninterrupted_run(make, tmp_path):
    make(tmp_path / "full", 3).run()
    make(tmp_path / "part", 2).run()  # stops after its step-2 checkpoint, like a killed run
    resumed = make(tmp_path / "part", 3)
    assert resumed.start == 2 and resumed.prompts.cursor > 0
    resumed.run()
    assert _rows(tmp_path / "part" / "metrics.jsonl") == _rows(tmp_path / "full" / "metrics.jsonl")
    steps = [json.loads(r)["step"] for r in (tmp_path / "part" / "samples.jsonl").read_text().splitlines()]
    assert sorted(set(steps)) == [1, 2, 3] and steps == sorted(steps)  # no duplicate tables


def test_resume_refuses_a_different_initial_policy(make, tmp_path):
    make(tmp_path, 2).run()
    with pytest.raises(RuntimeError, match="policy_init"):
        make(tmp_path, 3, seed=1)
