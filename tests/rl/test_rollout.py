"""Rollout: group-contiguous layout, per-group keys, truncation masking, overlong shaping."""
from __future__ import annotations

import jax
import numpy as np
from flax import nnx

from mighty.rl.config import GRPOConfig, RolloutConfig
from mighty.rl.rollout import Rollout, Rollouts, overlong_penalty


def test_overlong_penalty_hand_values():
    lengths = np.array([0, 6, 7, 8, 9, 10])
    got = overlong_penalty(lengths, max_len=10, buffer=4, penalty=2.0)
    np.testing.assert_allclose(got, [0, 0, -0.5, -1.0, -1.5, -2.0])
    np.testing.assert_array_equal(overlong_penalty(lengths, max_len=10, buffer=0, penalty=2.0), 0)


def _rollouts(policy, tokenizer, encode, reward, **rollout):
    cfg = GRPOConfig(num_generations=3, prompts_per_step=3, beta=0.0,
                     rollout=RolloutConfig(**{"max_new_tokens": 6, **rollout}))
    graphdef, params = nnx.split(policy, nnx.Param)
    return Rollouts(graphdef, tokenizer, encode, reward, cfg), nnx.to_pure_dict(params)


def test_groups_depend_only_on_their_prompt_and_index(tiny_policy, tokenizer, encode, reward, prompts):
    """Swapping the middle prompt leaves groups 0 and 2 unchanged (keys per group, not per batch);
    within a group the G completions differ (distinct row keys)."""
    ro, params = _rollouts(tiny_policy, tokenizer, encode, reward)
    a, b, c, x = prompts(4, 7)
    key = jax.random.key(5)
    r1 = ro.sample(params, [a, b, c], key)
    r2 = ro.sample(params, [a, x, c], key)
    t1, t2 = np.asarray(r1.tokens), np.asarray(r2.tokens)
    np.testing.assert_array_equal(t1[:3], t2[:3])
    np.testing.assert_array_equal(t1[6:], t2[6:])
    assert len({tuple(t) for t in t1[:3]}) > 1
    assert r1.texts[:3] == [tokenizer.decode(t[:n]) for t, n in zip(t1[:3], r1.lengths[:3])]
    assert [rec["prompt_id"] for rec in r1.records] == [a["prompt_id"], b["prompt_id"], c["prompt_id"]]
    # a different round key gives different completions
    r3 = ro.sample(params, [a, b, c], jax.random.fold_in(key, 1))
    assert not np.array_equal(np.asarray(r3.tokens), t1)


def test_mask_truncated_and_overlong_component(tiny_policy, tokenizer, encode, reward, prompts):
    ro, params = _rollouts(tiny_policy, tokenizer, encode, reward, mask_truncated=True,
                           overlong_buffer=2, overlong_penalty=1.0)
    r = ro.sample(params, prompts(3, 1), jax.random.key(0))
    assert r.truncated.any()  # a random policy rarely stops within 6 tokens
    mask = np.asarray(r.mask)
    np.testing.assert_array_equal(mask[r.truncated], 0)
    assert (mask[~r.truncated].sum(1) == r.lengths[~r.truncated]).all()
    np.testing.assert_allclose(r.components["overlong"][r.truncated], -1.0)
    base = reward(None, r.texts)
    np.testing.assert_allclose(r.rewards, base + r.components["overlong"])


def test_select_and_concat_realign_rows(tiny_policy, tokenizer, encode, reward, prompts):
    ro, params = _rollouts(tiny_policy, tokenizer, encode, reward)
    ps = prompts(3, 2)
    ps[0]["question"] = " ".join(["w9"] * 40)  # a longer prompt: a wider pow2 bucket
    r1 = ro.sample(params, ps, jax.random.key(0))
    r2 = ro.sample(params, prompts(3, 3), jax.random.key(1))
    assert r1.prompt_ids.shape[1] > r2.prompt_ids.shape[1]
    both = Rollout.concat([r2.select_groups(np.array([2])), r1.select_groups(np.array([0, 1]))])
    assert both.num_groups == 3 and both.prompt_ids.shape == (9, r1.prompt_ids.shape[1])
    np.testing.assert_array_equal(np.asarray(both.tokens[:3]), np.asarray(r2.tokens[6:9]))
    np.testing.assert_array_equal(np.asarray(both.tokens[3:]), np.asarray(r1.tokens[:6]))
    assert both.texts[3:] == r1.texts[:6] and both.records[0] is r2.records[2]
    # left re-padding keeps every prompt's real tokens flush right
    w = r2.prompt_ids.shape[1]
    np.testing.assert_array_equal(np.asarray(both.prompt_ids[:3, -w:]), np.asarray(r2.prompt_ids[6:9]))
    assert int(np.asarray(both.prompt_mask[:3, :-w]).sum()) == 0


def test_min_prompt_width_pads_every_batch_to_one_shape(tiny_policy, tokenizer, encode, reward, prompts):
    """Batches whose longest prompt falls in different buckets share one width (one compile of
    sampler, π_ref and update) once min_prompt_width covers them; the prompt tokens are the same,
    only more left padding, and the completions of a greedy sampler do not change."""
    ro, params = _rollouts(tiny_policy, tokenizer, encode, reward, temperature=0.0)
    ps = prompts(3, 3)
    ids, mask = ro.prompt_batch(ps)
    wide = ids.shape[1] + 64
    ro_wide, _ = _rollouts(tiny_policy, tokenizer, encode, reward, temperature=0.0, min_prompt_width=wide)
    ids_w, mask_w = ro_wide.prompt_batch(ps)
    assert ids_w.shape == (3, wide)
    for row, row_w, m, m_w in zip(ids, ids_w, mask, mask_w):
        np.testing.assert_array_equal(row[m == 1], row_w[m_w == 1])
        assert m_w[: wide - ids.shape[1]].sum() == 0
    key = jax.random.key(0)
    np.testing.assert_array_equal(np.asarray(ro.sample(params, ps, key).tokens),
                                  np.asarray(ro_wide.sample(params, ps, key).tokens))


def test_min_prompt_width_rejects_a_negative_width():
    import pytest

    with pytest.raises(ValueError, match="min_prompt_width"):
        RolloutConfig(min_prompt_width=-1)
