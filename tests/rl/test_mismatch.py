"""Sampler–trainer mismatch: metrics and TIS/MIS weights on hand-built batches, a masked
sequence leaving the loss denominator inside the real step, and the trainer's log-probs under
the sampler's temperature / top-k / top-p (against NumPy and the sampler's own draws)."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mighty.models.sampler import sample_logits
from mighty.rl.config import GRPOConfig, MismatchConfig, GRPOOptimConfig, RolloutConfig
from mighty.rl.learner import advantages, update_batch
from mighty.rl.mismatch import is_weights, mismatch_metrics, processed_logprobs
from mighty.rl.rollout import Rollouts
from mighty.rl.step import completion_logprobs, make_grpo_step

# δ = log π_trainer − log π_sampler; rows: small noise, one big token, a long drift, padding
from mighty.training import init_state, make_optimizer

# δ = log π_trainer − log π_sampler; rows: small noise, one big token, a long drift, padding
DELTA = np.array([[0.05, -0.05, 0.0, 0.0],
                  [0.0, 1.5, 0.0, 0.0],
                  [0.3, 0.3, 0.3, 0.0],
                  [0.0, 0.0, 0.0, 0.0]], np.float32)
MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]], np.int32)


def test_mismatch_metrics_hand_worked():
    m = jax.device_get(mismatch_metrics(jnp.asarray(DELTA), jnp.asarray(MASK), (0.1, 1.0)))
    tok = DELTA[MASK > 0]  # 8 tokens
    np.testing.assert_allclose(m["mismatch/token_logratio_mean"], tok.mean(), rtol=1e-6)
    np.testing.assert_allclose(m["mismatch/token_logratio_abs_mean"], np.abs(tok).mean(), rtol=1e-6)
    np.testing.assert_allclose(m["mismatch/token_logratio_abs_max"], 1.5)
    np.testing.assert_allclose(m["mismatch/token_frac_abs_gt_0.1"], 4 / 8)  # 1.5, 0.3 ×3
    np.testing.assert_allclose(m["mismatch/token_frac_abs_gt_1"], 1 / 8)
    np.testing.assert_allclose(m["mismatch/token_kl_k3"], np.mean(np.expm1(tok) - tok), rtol=1e-5)
    seq = np.array([0.0, 1.5, 0.9])  # Σ_t δ of the three non-empty rows
    np.testing.assert_allclose(m["mismatch/seq_logratio_mean"], seq.mean(), rtol=1e-6)
    np.testing.assert_allclose(m["mismatch/seq_logratio_abs_max"], 1.5, rtol=1e-6)
    np.testing.assert_allclose(m["mismatch/seq_frac_abs_gt_1"], 1 / 3)


def test_tis_and_mis_weights_hand_built():
    d, mask = jnp.asarray(DELTA), jnp.asarray(MASK)
    e = np.exp(DELTA) * MASK
    # token TIS: min(e^δ, 2), the mask unchanged
    w, keep = is_weights(d, mask, correction="tis", level="token", cap=2.0)
    np.testing.assert_allclose(w, np.minimum(e, 2.0), rtol=1e-6)
    np.testing.assert_array_equal(keep, MASK > 0)
    # token MIS: the e^1.5 = 4.48 token leaves, the rest keep their weight
    w, keep = is_weights(d, mask, correction="mis", level="token", cap=2.0)
    want_keep = (MASK > 0) & (e <= 2.0)
    np.testing.assert_array_equal(keep, want_keep)
    np.testing.assert_allclose(w, np.where(want_keep, e, 0.0), rtol=1e-6)
    # sequence MIS: row 1 (Π = e^1.5) and row 2 (e^0.9 = 2.46) leave whole; row 0 stays at e^0
    w, keep = is_weights(d, mask, correction="mis", level="sequence", cap=2.0)
    np.testing.assert_array_equal(keep, (MASK > 0) & (np.arange(4) == 0)[:, None])
    np.testing.assert_allclose(np.asarray(w)[0, :2], [1.0, 1.0], rtol=1e-6)
    # geometric: row 2's mean log-ratio 0.3 → 1.35 stays, row 1's 0.5 → 1.65 stays, cap 1.5 drops it
    w, keep = is_weights(d, mask, correction="mis", level="geometric", cap=1.5)
    np.testing.assert_array_equal(keep, (MASK > 0) & (np.arange(4) != 1)[:, None])
    np.testing.assert_allclose(np.asarray(w)[2, :3], math.exp(0.3), rtol=1e-6)
    # sequence TIS: Π truncated at C, broadcast over the row
    w, _ = is_weights(d, mask, correction="tis", level="sequence", cap=2.0)
    np.testing.assert_allclose(np.asarray(w)[:3, 0], [1.0, 2.0, 2.0], rtol=1e-6)
    # the floor drops rows whose ratio is too small
    _, keep = is_weights(-d, mask, correction="mis", level="sequence", cap=2.0, floor=0.5)
    np.testing.assert_array_equal(keep.any(-1), [True, False, False, False])


def test_mismatch_config_validates():
    for bad in (dict(correction="is"), dict(level="row"), dict(cap=1.0), dict(floor=1.0),
                dict(thresholds=[0.0])):
        with pytest.raises(ValueError, match="grpo.mismatch"):
            MismatchConfig(**bad)


# ------------------------------------------------------------------- through the real step
def _setup(policy, tokenizer, encode, reward, **over):
    cfg = GRPOConfig(num_generations=4, prompts_per_step=2,
                     rollout=over.pop("rollout", RolloutConfig(max_new_tokens=6)),
                     optim=GRPOOptimConfig(lr=1e-2, warmup_steps=0), beta=0.0, **over)
    graphdef, params = nnx.split(policy, nnx.Param)
    params = nnx.to_pure_dict(params)
    return cfg, graphdef, params, Rollouts(graphdef, tokenizer, encode, reward, cfg)


def _grads_and_metrics(graphdef, params, cfg, batch):
    from tests.tolerances import capture_grads
    import optax

    tx = optax.chain(capture_grads(), make_optimizer(cfg.optim, 2)[0])
    state, m = make_grpo_step(graphdef, tx, cfg, max_len=cfg.rollout.max_new_tokens)(
        init_state(jax.tree.map(jnp.copy, params), tx), batch, jax.random.key(0))
    return state["opt_state"][0], jax.device_get(m)


def test_step_logs_mismatch_and_a_masked_sequence_leaves_the_denominator(
        tiny_policy, tokenizer, encode, reward, prompts):
    """MIS at sequence level inside `grpo_step`: a row whose sampler log-probs are off by
    more than log C drops out: the gradient equals that of the uncorrected step with the row's
    mask zeroed, and the token count (the denominator) loses its tokens."""
    mis = MismatchConfig(correction="mis", level="sequence", cap=2.0)
    cfg, graphdef, params, ro = _setup(tiny_policy, tokenizer, encode, reward, mismatch=mis)
    r = ro.sample(params, prompts(2, 0), jax.random.key(1), need_old=False)
    r.rewards = np.arange(8, dtype=np.float64)  # every row has A ≠ 0
    batch = {**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)}
    # f32 on CPU: the sampler's record agrees with the trainer to rounding
    g0, m0 = _grads_and_metrics(graphdef, params, cfg, batch)
    assert m0["mismatch/token_logratio_abs_max"] < 1e-4
    assert m0["mismatch/masked_seq_frac"] == 0.0
    # the sampler "saw" row 5's first token with 3 nats less probability: Π w = e^3 > C
    bad = {**batch, "sampler_logp": batch["sampler_logp"].at[5, 0].add(-3.0)}
    g1, m1 = _grads_and_metrics(graphdef, params, cfg, bad)
    np.testing.assert_allclose(m1["mismatch/token_logratio_abs_max"], 3.0, rtol=1e-4)
    np.testing.assert_allclose(m1["mismatch/masked_seq_frac"], 1 / 8)
    n5 = int(batch["mask"][5].sum())
    assert int(m1["grpo/tokens"]) == int(m0["grpo/tokens"]) - n5 > 0
    plain = GRPOConfig(**{**vars(cfg), "mismatch": MismatchConfig()})
    dropped = {**batch, "mask": batch["mask"].at[5].set(0)}
    g2, _ = _grads_and_metrics(graphdef, params, plain, dropped)
    from tests.tolerances import assert_grads_close
    assert_grads_close(g1, g2, 8 * cfg.rollout.max_new_tokens, "MIS-dropped row vs zeroed mask")
    # and the correction did something: the full-batch gradient differs
    diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(g0), jax.tree.leaves(g1)))
    assert diff > 1e-4


def test_token_tis_weights_scale_the_policy_gradient(tiny_policy, tokenizer, encode, reward, prompts):
    """Token TIS with every sampler log-prob 0.5 nats below the trainer's: w = e^0.5 on every
    token, so the policy gradient (β = 0, first iteration) is e^0.5 times the plain one."""
    tis = MismatchConfig(correction="tis", level="token", cap=4.0)
    cfg, graphdef, params, ro = _setup(tiny_policy, tokenizer, encode, reward, mismatch=tis)
    r = ro.sample(params, prompts(2, 0), jax.random.key(2), need_old=False)
    r.rewards = np.arange(8, dtype=np.float64)
    batch = {**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)}
    lp, _, raw = completion_logprobs(graphdef, params, batch["prompt_ids"], batch["prompt_mask"],
                                     batch["tokens"], batch["mask"], with_raw=True)
    shifted = {**batch, "sampler_logp": (raw - 0.5) * batch["mask"]}
    g1, m1 = _grads_and_metrics(graphdef, params, cfg, shifted)
    g0, _ = _grads_and_metrics(graphdef, params, GRPOConfig(**{**vars(cfg), "mismatch": MismatchConfig()}), batch)
    np.testing.assert_allclose(m1["mismatch/is_weight_mean"], math.exp(0.5), rtol=1e-4)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, math.exp(0.5) * b, rtol=2e-3, atol=1e-7), g1, g0)


# --------------------------------------------------- the trainer's q = the sampler's q
def ref_processed(z, y, t, k, p):
    """NumPy: log q(y) for softmax(z/T) on the top-k then top-p set, renormalised."""
    x = z / t
    order = np.argsort(-x, kind="stable")
    keep = order[:k] if k else order
    probs = np.exp(x[keep] - x[keep].max())
    probs /= probs.sum()
    before = np.cumsum(probs) - probs
    keep = keep[before < p]
    s = x[keep]
    return x[y] - (s.max() + np.log(np.exp(s - s.max()).sum()))


@pytest.mark.parametrize("t,k,p", [(0.7, 0, 1.0), (1.0, 5, 1.0), (0.8, 0, 0.9), (1.3, 6, 0.8)])
def test_processed_logprobs_match_numpy(t, k, p):
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=(3, 4, 16)).astype(np.float32)
    x = z / t
    # a token inside the support of each position: its argmax
    y = x.argmax(-1)
    got, ent = processed_logprobs(jnp.asarray(z), jnp.asarray(y), temperature=t, top_k=k, top_p=p)
    want = np.vectorize(lambda b, i: ref_processed(z[b, i], y[b, i], t, k, p))(*np.indices((3, 4)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if k == 0 and p == 1.0:  # no truncation: the tempered softmax
        np.testing.assert_allclose(got, np.take_along_axis(jax.nn.log_softmax(x), y[..., None], -1)[..., 0], atol=1e-6)
    assert np.all(np.asarray(ent) >= 0)


@pytest.mark.parametrize("t,k,p", [(0.7, 4, 1.0), (1.0, 0, 0.7), (0.5, 6, 0.9)])
def test_processed_logprobs_are_the_sampler_frequencies(t, k, p):
    """Draw 40,000 tokens with the sampler's own `sample_logits`; the empirical frequency of
    every token matches exp(log q) of `processed_logprobs` (the trainer's side)."""
    z = jnp.asarray(np.random.default_rng(1).normal(scale=1.5, size=(1, 10)), jnp.float32)
    n = 40_000
    keys = jax.random.split(jax.random.key(0), n)
    draws = sample_logits(jnp.repeat(z, n, 0), keys, jnp.float32(t), jnp.float32(p), greedy=False,
                          top_k=k, use_top_p=p < 1)
    freq = np.bincount(np.asarray(draws), minlength=10) / n
    toks = jnp.arange(10)[None]
    lq, _ = processed_logprobs(jnp.broadcast_to(z[:, None], (1, 10, 10)), toks, temperature=t,
                               top_k=k, top_p=p)
    q = np.exp(np.asarray(lq)[0])
    support = freq > 0
    # out-of-support tokens: q here is only the "sampled token is always kept" fallback
    np.testing.assert_allclose(freq[support], q[support], atol=4 * np.sqrt(0.25 / n))
    np.testing.assert_allclose(q[support].sum(), 1.0, rtol=1e-5)
    # ignoring the processing (raw softmax) would not match
    raw = np.asarray(jax.nn.softmax(z[0]))
    assert np.abs(freq - raw).max() > 0.02


def test_trainer_logprobs_use_the_sampling_temperature(tiny_policy, tokenizer, encode, reward, prompts):
    """completion_logprobs(temperature=T) = log softmax(z/T) of the full forward, and the raw
    side (T = 1) still matches what the sampler recorded (the mismatch is measured raw)."""
    cfg, graphdef, params, ro = _setup(tiny_policy, tokenizer, encode, reward,
                                       rollout=RolloutConfig(max_new_tokens=6, temperature=0.7, top_k=20))
    r = ro.sample(params, prompts(2, 0), jax.random.key(3), need_old=True)
    ids = jnp.concatenate([r.prompt_ids, r.tokens], 1)
    m = jnp.concatenate([r.prompt_mask, r.mask], 1)
    logits = tiny_policy(ids[:, :-1], attention_mask=m[:, :-1])[:, -r.tokens.shape[1]:]
    for kw in (dict(temperature=0.7), dict(temperature=0.7, top_k=20)):
        lp, _, raw = completion_logprobs(graphdef, params, r.prompt_ids, r.prompt_mask, r.tokens,
                                         r.mask, with_raw=True, chunk=48, **kw)
        want, _ = processed_logprobs(logits, r.tokens, **kw)
        np.testing.assert_allclose(lp, want * r.mask, atol=1e-5)
        np.testing.assert_allclose(raw, r.sampler_logp * r.mask, atol=1e-4)
    # the rollout's π_old pass used the same processing (top-k 20 at T = 0.7)
    np.testing.assert_allclose(r.logp_old, lp, atol=1e-5)
    np.testing.assert_allclose(r.logp_old_raw, r.sampler_logp * r.mask, atol=1e-4)


def test_processed_logprob_gradient_is_the_truncated_score():
    """∇_z log q(y) = (e_y − q)/T on the support and 0 off it (the set is not differentiated)."""
    z = jnp.asarray(np.random.default_rng(2).normal(scale=1.5, size=(1, 1, 12)), jnp.float32)
    t, k, p = 0.8, 6, 0.9
    y = jnp.asarray([[int(jnp.argmax(z))]])
    g = jax.grad(lambda z: processed_logprobs(z, y, temperature=t, top_k=k, top_p=p)[0].sum())(z)
    lq = np.array([ref_processed(np.asarray(z[0, 0]), v, t, k, p) for v in range(12)])
    x = np.asarray(z[0, 0]) / t
    order = np.argsort(-x)[:k]
    pk = np.exp(x[order] - x[order].max()); pk /= pk.sum()
    support = np.zeros(12, bool); support[order[(np.cumsum(pk) - pk) < p]] = True
    q = np.where(support, np.exp(lq), 0.0)
    want = (np.eye(12)[int(y[0, 0])] - q) / t
    np.testing.assert_allclose(np.asarray(g)[0, 0], want, rtol=1e-5, atol=1e-6)
    assert 1 < support.sum() < 12
