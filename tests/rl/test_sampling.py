"""Dynamic sampling: informative groups kept, zero-variance groups dropped, batch size fixed."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np
import pytest

from mighty.rl.config import GRPOConfig, RolloutConfig, TrainConfig
from mighty.rl.sampling import fill_groups, group_reward_std, select

G = 3


@dataclass
class FakeGroups:
    rewards: np.ndarray  # (num_groups·G,)
    ids: list  # group labels, to see which groups were picked

    @property
    def num_groups(self):
        return len(self.ids)

    def select_groups(self, idx):
        rows = (np.asarray(idx)[:, None] * G + np.arange(G)).ravel()
        return FakeGroups(self.rewards[rows], [self.ids[i] for i in idx])

    @staticmethod
    def concat(parts):
        return FakeGroups(np.concatenate([p.rewards for p in parts]), sum((p.ids for p in parts), []))


def rounds_of(spec):
    """spec: per round, per group, 'v' (varied rewards) or 'f' (flat)."""
    out = []
    for r, groups in enumerate(spec):
        rw = [([0.0, 1.0, 0.5] if g == "v" else [0.3, 0.3, 0.3]) for g in groups]
        out.append(FakeGroups(np.array(sum(rw, [])), [f"r{r}g{i}{g}" for i, g in enumerate(groups)]))
    return out


def run(spec, *, enabled=True, max_rounds=3):
    rounds = rounds_of(spec)
    drawn = []

    def draw(r):
        drawn.append(r)
        return rounds[r]

    batch, stats = fill_groups(draw, FakeGroups.concat, group_size=G, num_groups=len(spec[0]),
                               enabled=enabled, max_rounds=max_rounds, min_std=1e-6)
    return batch, stats, drawn


def test_group_reward_std():
    np.testing.assert_allclose(group_reward_std(np.array([1., 1, 1, 0, 2, 1]), 3), [0, np.std([0, 2, 1])])
    with pytest.raises(ValueError, match="group_size=4"):
        group_reward_std(np.zeros(6), 4)


def test_refill_keeps_size_and_drops_flat_groups():
    batch, stats, drawn = run(["vffv", "fvvf"])
    assert batch.num_groups == 4 and batch.rewards.shape == (4 * G,)
    assert batch.ids == ["r0g0v", "r0g3v", "r1g1v", "r1g2v"]
    assert drawn == [0, 1]  # stopped as soon as the batch was full
    assert (stats.rounds, stats.dropped, stats.refilled, stats.shortfall) == (2, 4, 2, 0)
    assert stats.zero_std_frac == 0.5
    assert (group_reward_std(batch.rewards, G) > 0).all()


def test_no_refill_needed_draws_once():
    batch, stats, drawn = run(["vv", "vv"])
    assert drawn == [0] and batch.ids == ["r0g0v", "r0g1v"] and stats.dropped == 0


def test_bounded_retries_pad_with_flat_groups():
    batch, stats, drawn = run(["fff", "ffv", "fff"], max_rounds=1)
    assert drawn == [0, 1]  # one extra round only
    assert batch.num_groups == 3
    assert batch.ids == ["r0g0f", "r0g1f", "r1g2v"]  # the informative one + the earliest flat ones
    assert stats.shortfall == 2 and stats.refilled == 1 and stats.dropped == 3


def test_disabled_returns_first_round_as_is():
    batch, stats, drawn = run(["vf", "vv"], enabled=False)
    assert drawn == [0] and batch.ids == ["r0g0v", "r0g1f"]
    assert stats.zero_std_frac == 0.5 and stats.dropped == 0


def test_select_is_pure_bookkeeping():
    sel = select([np.array([1., 1, 1, 0, 1, 2]), np.array([0., 1, 2, 5, 5, 5])], G, 2, 1e-6)
    assert [(r, idx.tolist()) for r, idx in sel.parts] == [(0, [1]), (1, [0])]


def test_learner_collect_drops_zero_variance_groups(tiny_policy, tokenizer, encode, prompts, reward,
                                                   tmp_path):
    """Real rollouts: prompts with an even id get a constant reward (zero variance); with
    dynamic sampling on, the batch holds only informative groups and keeps its size."""
    from mighty.rl.learner import Learner

    def mixed(ps, completions, **fields):
        varied = reward(ps, completions) + 0.1
        even = np.array([int(p.split()[0][1:]) % 2 == 0 for p in ps])
        return np.where(even, 1.0, varied)

    recs = prompts(24, 3)
    for r in recs:  # the first word's id decides the reward family
        w = r["question"].split()
        r["question"] = " ".join([f"w{4 + int(r['prompt_id'][1:]) % 2}"] + w[1:])
    cfg = GRPOConfig(num_generations=4, prompts_per_step=4, beta=0.0, dynamic_sampling=True,
                     ds_max_rounds=4, rollout=RolloutConfig(max_new_tokens=6))
    learner = Learner(cfg, TrainConfig(steps=1, progress=False), policy=tiny_policy,
                      tokenizer=tokenizer, encode=encode, reward_fn=mixed, train_prompts=recs,
                      heldout=[], run_dir=tmp_path)
    ro, m = learner.collect(0)
    assert ro.num_groups == 4 and ro.tokens.shape[0] == 16 and len(ro.texts) == 16
    assert (group_reward_std(ro.rewards, 4) > 1e-6).all()
    assert m["grpo/ds/dropped"] >= 1 and m["grpo/ds/rounds"] >= 2 and m["grpo/ds/shortfall"] == 0
    assert all(int(r["question"].split()[0][1:]) % 2 == 1 for r in ro.records)
    # the prompt cursor advanced by one batch of prompts per round drawn
    assert learner.prompts.cursor == 4 * m["grpo/ds/rounds"]
