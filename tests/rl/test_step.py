"""The jitted GRPO step and the rollout's log-probs: exact identities and NumPy references."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mighty.models import token_logprobs
from mighty.rl.config import GRPOConfig, GRPOOptimConfig, RolloutConfig
from mighty.rl.learner import advantages, update_batch
from mighty.rl.rollout import Rollouts
from mighty.rl.reference import ReferencePass
from mighty.rl.step import chunked_entropy, completion_logprobs, group_prompts, make_grpo_step, prompt_group_size
from mighty.training import init_state, make_optimizer


@pytest.fixture
def setup(tiny_policy, tokenizer, encode, reward):
    return lambda **over: _setup(tiny_policy, tokenizer, encode, reward, **over)


def _setup(policy, tokenizer, encode, reward, **over):
    cfg = GRPOConfig(num_generations=4, prompts_per_step=3, rollout=RolloutConfig(max_new_tokens=8),
                     optim=GRPOOptimConfig(lr=1e-2, warmup_steps=0), **over)
    graphdef, params = nnx.split(policy, nnx.Param)
    params = nnx.to_pure_dict(params)
    ref = (graphdef, jax.tree.map(jnp.copy, params))
    ro = Rollouts(graphdef, tokenizer, encode, reward, cfg, reference=ref)
    return cfg, graphdef, params, ro


def test_completion_logprobs_match_full_forward(setup, prompts, tiny_policy):
    """Unembedding only the completion positions equals token_logprobs over the whole sequence."""
    cfg, graphdef, params, ro = setup()
    r = ro.sample(params, prompts(3, 0), jax.random.key(1), need_old=False)
    lp, ent = completion_logprobs(graphdef, params, r.prompt_ids, r.prompt_mask, r.tokens, r.mask,
                                  entropy=True, chunk=48)  # 48 does not divide V=128: padded chunk
    ids = jnp.concatenate([r.prompt_ids, r.tokens], 1)
    m = jnp.concatenate([r.prompt_mask, r.mask], 1)
    full = token_logprobs(tiny_policy, ids[:, :-1], m[:, :-1], ids[:, 1:])[:, -r.tokens.shape[1]:]
    np.testing.assert_allclose(lp, full * r.mask, atol=1e-5)
    # the sampler's log-probs (KV-cache decode) agree too
    np.testing.assert_allclose(lp, r.sampler_logp * r.mask, atol=1e-4)
    # entropy against the dense softmax
    logits = tiny_policy(ids[:, :-1], attention_mask=m[:, :-1])[:, -r.tokens.shape[1]:]
    p = jax.nn.softmax(logits, -1)
    np.testing.assert_allclose(ent, -(p * jax.nn.log_softmax(logits, -1)).sum(-1), atol=1e-4)


@pytest.mark.parametrize("remat", ["none", "full"])
def test_shared_prompt_pass_matches_per_row(setup, prompts, tiny_policy, remat):
    """One prompt per group (its keys/values shared by the G completions) gives the per-row
    pass's log-probs, entropies and gradients: left-padded prompts of different lengths,
    completions cut at EOS, a row with no loss tokens; with and without activation remat."""
    cfg, graphdef, params, ro = setup()
    r = ro.sample(params, prompts(3, 0), jax.random.key(1), need_old=False)
    assert len(set(np.asarray(r.prompt_mask).sum(1).tolist())) > 1  # prompts of different lengths
    mask = r.mask.at[5].set(0)
    tiny_policy.remat = remat
    graphdef = nnx.split(tiny_policy, nnx.Param)[0]
    ids_g, mask_g = group_prompts(r.prompt_ids, r.prompt_mask, cfg.num_generations)
    assert ids_g.shape == (3, r.prompt_ids.shape[1])

    def run(p, prompt_ids, prompt_mask):
        lp, ent = completion_logprobs(graphdef, p, prompt_ids, prompt_mask, r.tokens, mask,
                                      entropy=True, chunk=48)
        return jnp.sum(lp) + jnp.sum(ent * mask), (lp, ent)

    (per_row, (lp1, ent1)), g1 = jax.value_and_grad(run, has_aux=True)(params, r.prompt_ids, r.prompt_mask)
    (shared, (lp2, ent2)), g2 = jax.value_and_grad(run, has_aux=True)(params, ids_g, mask_g)
    np.testing.assert_allclose(lp2, lp1, atol=1e-5)
    np.testing.assert_allclose(ent2 * mask, ent1 * mask, atol=1e-5)
    assert float(jnp.abs(lp1).sum()) > 0 and not np.asarray(lp2[5]).any()
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_group_prompts_rejects_rows_that_do_not_share_the_prompt(setup, prompts):
    cfg, graphdef, params, ro = setup()
    r = ro.sample(params, prompts(3, 0), jax.random.key(1), need_old=False)
    ids, mask = group_prompts(r.prompt_ids, r.prompt_mask, 1)
    assert ids is r.prompt_ids  # G = 1: a prompt per row, untouched
    mixed = r.prompt_ids.at[1].set(r.prompt_ids[4])  # row 1 (group 0) holds group 1's prompt
    with pytest.raises(ValueError, match="rows of a group of 4 hold different prompts"):
        group_prompts(mixed, r.prompt_mask, 4)
    with pytest.raises(ValueError, match="3 prompts for 8 completion rows"):
        completion_logprobs(graphdef, params, r.prompt_ids[:3], r.prompt_mask[:3], r.tokens[:8], r.mask[:8])


@pytest.mark.parametrize("chunk_rows", [0, 4, 2])
def test_reference_pass_with_group_prompts(setup, prompts, chunk_rows):
    """π_ref over group prompts, in one pass, in chunks of whole groups (4 rows) and in chunks
    that split a group (2 rows: the prompts are expanded to one per row), equals the per-row pass."""
    cfg, graphdef, params, ro = setup()
    r = ro.sample(params, prompts(3, 0), jax.random.key(1), need_old=False)
    want = completion_logprobs(graphdef, params, r.prompt_ids, r.prompt_mask, r.tokens, r.mask)[0]
    ids_g, mask_g = group_prompts(r.prompt_ids, r.prompt_mask, cfg.num_generations)
    got = ReferencePass(graphdef, params, chunk_rows=chunk_rows)(ids_g, mask_g, r.tokens, r.mask)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_prompt_group_size_hand_cases():
    def size(prompts, g, blocks, share=True):
        cfg = GRPOConfig(num_generations=g, prompts_per_step=prompts, share_prompt=share)
        return prompt_group_size(cfg, blocks)

    assert size(8, 8, 1) == 8 and size(8, 8, 4) == 8  # whole groups per block
    assert size(8, 8, 16) == 4  # 16 blocks of 4 rows: one prompt per half-group
    assert size(32, 8, 16 * 8) == 2  # the paper configs: 16 microbatches × 8 batch devices
    assert size(3, 4, 2) == 2 and size(3, 4, 12) == 1  # 12 blocks of one row: a prompt per row
    assert size(8, 8, 1, share=False) == 1


LENGTHS = (8, 3, 5, 1, 8, 2, 6, 0, 7, 8, 2, 5)  # a completion length per row of 3 groups × 4


@pytest.mark.parametrize("share", [True, False])
def test_microbatches_of_whole_groups_give_the_full_batch_update(setup, prompts, share):
    """micro_batches = 3 blocks of one group each or 2 blocks of three half-groups (prompts
    shared per group / per half-group), or of strided rows (a prompt per row), give the
    full-batch gradient, and the same Adam step from it.

    The suite's one end-to-end Adam comparison (tests/tolerances.py says why the others
    compare gradients): entries with a clearly non-zero gradient agree to far below an ulp of
    lr; entries whose gradient is at its own rounding level may flip sign (a 2·lr move)."""
    from tests.tolerances import assert_adam_first_steps_match, assert_grads_close, capture_grads

    out = {}
    for m, prompt_rows in ((1, 3), (3, 3), (2, 6)):
        cfg, graphdef, params, ro = setup(beta=0.1, micro_batches=m, share_prompt=share)
        r = ro.sample(params, prompts(3, 0), jax.random.key(4), need_old=False)
        batch = {**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)}
        assert batch["prompt_ids"].shape[0] == (prompt_rows if share else 12)
        # completions of different lengths (the random policy never stops within 8 tokens), one
        # empty: the blocks hold different token counts, so the token weighting is exercised
        cut = jnp.arange(batch["mask"].shape[1]) < jnp.asarray(LENGTHS)[:, None]
        batch["mask"] = batch["mask"] * cut.astype(batch["mask"].dtype)
        tx = optax.chain(capture_grads(), make_optimizer(cfg.optim, 4)[0])
        state, metrics = make_grpo_step(graphdef, tx, cfg, max_len=cfg.rollout.max_new_tokens)(
            init_state(jax.tree.map(jnp.copy, params), tx), batch, jax.random.key(0))
        out[m] = (state["params"], state["opt_state"][0], metrics)
    init = params  # every setup() starts from the same policy weights
    p1, g1, m1 = out[1]
    assert float(m1["grpo/grad_norm"]) > 0
    n_terms = 12 * cfg.rollout.max_new_tokens  # rows × tokens summed into each gradient entry
    flips = {}
    for m in (3, 2):
        pm, gm, mm = out[m]
        assert_grads_close(gm, g1, n_terms, f"grad, {m} microbatches")
        np.testing.assert_allclose(mm["grpo/grad_norm"], m1["grpo/grad_norm"], rtol=1e-5)
        flips[m] = assert_adam_first_steps_match(pm, p1, init, gm, g1, lr=cfg.optim.lr, eps=cfg.optim.eps,
                                                 max_norm=cfg.optim.clip_norm, what=f"adam, {m} microbatches")
    # only rounding-level gradients are left undecided: ≤ 64 of 26,784 entries on a Zen 4 (each
    # may move 2·lr = 0.02; the largest seen was 0.002). Dropping the token weighting of the
    # microbatches leaves 1,816–4,363 undecided, so 1% separates the two.
    n = sum(x.size for x in jax.tree.leaves(init))
    assert max(flips.values()) <= n // 100, (flips, n)


def test_chunked_entropy_handles_peaked_rows():
    h = jax.random.normal(jax.random.key(0), (2, 3, 8)) * 30.0  # very peaked distributions
    w = jax.random.normal(jax.random.key(1), (8, 37))
    z = h @ w
    ref = -(jax.nn.softmax(z) * jax.nn.log_softmax(z)).sum(-1)
    np.testing.assert_allclose(chunked_entropy(h, w, chunk=10), ref, atol=1e-3)


def test_reference_equals_policy_at_step0_and_first_ratio_is_one(setup, prompts, tiny_policy):
    """reference=policy_init: π_ref ≡ π_θ at step 0, so KL = 0; μ=2: iteration 0 has ρ ≡ 1
    exactly, and the stored π_old equals the recomputed log-probs bit for bit."""
    cfg, graphdef, params, ro = setup(mu=2, beta=0.1)
    r = ro.sample(params, prompts(3, 0), jax.random.key(2))
    assert r.logp_ref is not None and r.logp_old is not None
    np.testing.assert_array_equal(np.asarray(r.logp_ref), np.asarray(r.logp_old))
    tx = make_optimizer(cfg.optim, 4)[0]
    step = make_grpo_step(graphdef, tx, cfg, max_len=cfg.rollout.max_new_tokens)
    state = init_state(params, tx)
    batch = update_batch(r, advantages(r.rewards, cfg), cfg)
    state, m0 = step(state, {**batch, "first": jnp.asarray(True)}, jax.random.key(0))
    m0 = jax.device_get(m0)
    assert m0["grpo/ratio_min"] == 1.0 and m0["grpo/ratio_max"] == 1.0
    assert m0["grpo/clip_frac"] == 0.0
    assert abs(m0["grpo/kl"]) < 1e-6
    assert m0["grpo/grad_norm"] > 0
    # second inner iteration: the policy moved, so ρ ≠ 1 and KL > 0
    state, m1 = step(state, {**batch, "first": jnp.asarray(False)}, jax.random.key(1))
    m1 = jax.device_get(m1)
    assert m1["grpo/ratio_max"] > 1.0 or m1["grpo/ratio_min"] < 1.0
    assert m1["grpo/kl"] > 0
    assert int(state["step"]) == 2


def test_step_is_pure_and_compiles_once(setup, prompts, tiny_policy):
    """Same state + batch -> same result; a second batch of the same shapes does not retrace."""
    import chex

    cfg, graphdef, params, ro = setup(beta=0.0)
    tx = make_optimizer(cfg.optim, 4)[0]
    step = make_grpo_step(graphdef, tx, cfg, max_len=8)
    batches = []
    for k in range(2):
        r = ro.sample(params, prompts(3, 0), jax.random.key(10 + k), need_old=False)
        batches.append({**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)})
    fresh = lambda: init_state(jax.tree.map(jnp.copy, params), tx)
    s1, m1 = step(fresh(), batches[0], jax.random.key(0))
    s2, m2 = step(fresh(), batches[0], jax.random.key(0))
    chex.assert_trees_all_equal(s1["params"], s2["params"])
    n = step._cache_size()
    step(s1, batches[1], jax.random.key(1))
    assert step._cache_size() == n


def test_zero_advantage_gives_zero_update(setup, prompts, tiny_policy):
    """Equal rewards in every group: advantages are 0, so (β = 0) the parameters do not move."""
    cfg, graphdef, params, ro = setup(beta=0.0)
    cfg.optim.weight_decay = 0.0
    r = ro.sample(params, prompts(3, 0), jax.random.key(3), need_old=False)
    r.rewards = np.ones_like(r.rewards)
    tx = make_optimizer(cfg.optim, 4)[0]
    step = make_grpo_step(graphdef, tx, cfg, max_len=8)
    before = jax.tree.map(np.asarray, params)
    state, m = step(init_state(jax.tree.map(jnp.copy, params), tx),
                    {**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)},
                    jax.random.key(0))
    assert float(m["grpo/grad_norm"]) == 0.0
    jax.tree.map(np.testing.assert_array_equal, before, jax.device_get(state["params"]))
