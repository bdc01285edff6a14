"""Policy-loss variants (GSPO, CISPO, dual-clip, top-entropy-quantile masking, entropy bonus)
against hand-worked cases and NumPy references, values and gradients."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.rl.config import GRPOConfig
from mighty.rl.losses import grpo_loss, token_entropy, top_entropy_mask

_STATIC = ("eps_low", "eps_high", "beta", "aggregation", "policy_loss", "dual_clip_c",
           "top_entropy_rho", "entropy_coef")
loss_fn = jax.jit(grpo_loss, static_argnames=_STATIC)
grad_fn = jax.jit(jax.grad(lambda new, *a, **k: grpo_loss(new, *a, **k)[0]), static_argnames=_STATIC)


def _batch(seed, n_b=5, n_t=6):
    rng = np.random.default_rng(seed)
    old = np.log(rng.uniform(0.05, 1.0, size=(n_b, n_t))).astype(np.float32)
    new = (old + rng.normal(scale=0.4, size=(n_b, n_t))).astype(np.float32)
    adv = rng.normal(size=n_b).astype(np.float32)
    lengths = rng.integers(1, n_t + 1, size=n_b)
    mask = (np.arange(n_t)[None] < lengths[:, None]).astype(np.int32)
    return new, old, adv, mask


# ------------------------------------------------------------------------------ dual-clip
# one token per row, A and ρ chosen to hit each side: ε = 0.2, c = 3
DUAL = [  # (ρ, A, per-token loss, d loss / d log π_θ)
    (5.0, -1.0, 3.0, 0.0),    # A < 0, ρ > c: the lower bound c·A holds, no gradient
    (2.0, -1.0, 2.0, 2.0),    # A < 0, 1 + ε < ρ < c: unclipped ρ·A, gradient −ρ·A
    (0.5, -1.0, 0.8, 0.0),    # A < 0, ρ < 1 − ε: PPO's clip, no gradient
    (5.0, 1.0, -1.2, 0.0),    # A > 0, ρ > 1 + ε: PPO's clip (dual-clip leaves A > 0 alone)
    (0.9, 1.0, -0.9, -0.9),   # A > 0 inside the range: −ρ·A
]


def test_dual_clip_both_sides_hand_worked():
    ratio, adv, want, want_g = (np.array(x, np.float32) for x in zip(*DUAL))
    new, old, mask = jnp.log(ratio)[:, None], jnp.zeros((len(DUAL), 1)), jnp.ones((len(DUAL), 1))
    kw = dict(eps_low=0.2, eps_high=0.2, aggregation="sequence", policy_loss="ppo", dual_clip_c=3.0)
    loss, m = loss_fn(new, old, None, jnp.asarray(adv), mask, **kw)
    np.testing.assert_allclose(loss, want.mean(), rtol=1e-6)
    np.testing.assert_allclose(grad_fn(new, old, None, jnp.asarray(adv), mask, **kw)[:, 0],
                               want_g / len(DUAL), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m["grpo/clip_frac_dual"], 1 / 5)
    # plain PPO on the same batch: the ρ = 5, A < 0 token costs 5 and keeps its gradient
    plain = loss_fn(new, old, None, jnp.asarray(adv), mask, **{**kw, "dual_clip_c": 0.0})[0]
    np.testing.assert_allclose(plain, (want.sum() - 3.0 + 5.0) / 5, rtol=1e-6)


def ref_dual_clip(new, old, adv, mask, eps, c):
    per, n = 0.0, 0
    for b in range(mask.shape[0]):
        for t in range(mask.shape[1]):
            if mask[b, t]:
                r, a = math.exp(new[b, t] - old[b, t]), adv[b]
                s = min(r * a, min(max(r, 1 - eps), 1 + eps) * a)
                per += -(max(s, c * a) if a < 0 else s)
                n += 1
    return per / n


def test_dual_clip_matches_numpy_loop():
    new, old, adv, mask = _batch(0)
    new = old + 3.0 * (new - old)  # large ratios: some tokens beyond c
    loss, _ = loss_fn(new, old, None, adv, mask, eps_low=0.2, eps_high=0.2, dual_clip_c=1.5)
    np.testing.assert_allclose(loss, ref_dual_clip(new, old, adv, mask, 0.2, 1.5), rtol=1e-5)


# ---------------------------------------------------------------------------------- GSPO
def ref_gspo(new, old, adv, mask, eps_low, eps_high):
    """Per-sequence loss −min(s·A, clip(s)·A), s = exp(mean log ρ), broadcast to every token,
    token aggregation; and its gradient d loss / d log π_θ(b, t)."""
    n = mask.sum()
    loss, grad = 0.0, np.zeros(mask.shape)
    for b in range(mask.shape[0]):
        length = mask[b].sum()
        s = math.exp(((new[b] - old[b]) * mask[b]).sum() / length)
        a = adv[b]
        unclipped = s * a <= min(max(s, 1 - eps_low), 1 + eps_high) * a
        loss += -min(s * a, min(max(s, 1 - eps_low), 1 + eps_high) * a) * length
        if unclipped:  # d(−s·A)/d log π_t = −A·s/|y|, summed over the |y| tokens that carry it
            grad[b] = -a * s * mask[b]
    return loss / n, grad / n


def test_gspo_matches_numpy_value_and_gradient():
    new, old, adv, mask = _batch(1)
    kw = dict(eps_low=0.05, eps_high=0.08, policy_loss="gspo")
    loss, m = loss_fn(new, old, None, adv, mask, **kw)
    want, want_g = ref_gspo(new.astype(np.float64), old, adv, mask, 0.05, 0.08)
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    np.testing.assert_allclose(grad_fn(new, old, None, adv, mask, **kw), want_g, rtol=1e-4, atol=1e-7)
    # the ratio reported is the sequence ratio
    s = np.exp(((new - old) * mask).sum(-1) / mask.sum(-1))
    np.testing.assert_allclose(m["grpo/ratio_max"], s.max(), rtol=1e-5)
    # and it is not the token-level loss
    assert abs(float(loss_fn(new, old, None, adv, mask, eps_low=0.05, eps_high=0.08)[0]) - want) > 1e-3


def test_gspo_is_length_normalised_not_a_product():
    """Two tokens each with log ρ = 0.1: s = e^0.1, not e^0.2."""
    new, old = jnp.full((1, 2), 0.1), jnp.zeros((1, 2))
    _, m = loss_fn(new, old, None, jnp.ones(1), jnp.ones((1, 2)), eps_low=0.2, eps_high=0.2,
                   policy_loss="gspo")
    np.testing.assert_allclose(m["grpo/ratio_mean"], math.exp(0.1), rtol=1e-6)


# --------------------------------------------------------------------------------- CISPO
def test_cispo_value_and_stop_gradient_weight():
    new, old, adv, mask = _batch(2)
    kw = dict(eps_low=0.2, eps_high=0.28, policy_loss="cispo")
    w = np.clip(np.exp(new - old), 0.8, 1.28)
    n = mask.sum()
    want = -(w * adv[:, None] * new * mask).sum() / n
    np.testing.assert_allclose(loss_fn(new, old, None, adv, mask, **kw)[0], want, rtol=1e-5)
    g = np.asarray(grad_fn(new, old, None, adv, mask, **kw))
    want_g = -w * adv[:, None] * mask / n  # the weight is a constant
    np.testing.assert_allclose(g, want_g, rtol=1e-5, atol=1e-8)
    # differentiating through the weight would add −A·log π·dw/dlog π on unclipped tokens
    through = -(adv[:, None] * mask * (w + np.where((w > 0.8) & (w < 1.28), w * new, 0.0))) / n
    assert np.abs(g - through).max() > 1e-3
    # clipped tokens keep a gradient (PPO would zero them)
    clipped = (mask > 0) & ((np.exp(new - old) > 1.28) | (np.exp(new - old) < 0.8))
    assert clipped.any() and np.all(np.abs(g[clipped]) > 0)


# -------------------------------------------------------------------- top-entropy quantile
def test_top_entropy_mask_against_numpy():
    rng = np.random.default_rng(3)
    ent = rng.uniform(0, 3, size=(4, 6)).astype(np.float32)
    mask = (np.arange(6)[None] < np.array([6, 2, 4, 0])[:, None]).astype(np.int32)
    for rho in (0.2, 0.5, 1.0):
        valid = np.sort(ent[mask > 0])[::-1]
        k = math.ceil(rho * valid.size)
        want = (mask > 0) & (ent >= valid[k - 1])
        got = np.asarray(top_entropy_mask(jnp.asarray(ent), jnp.asarray(mask), rho))
        np.testing.assert_array_equal(got, want)
        assert got.sum() == k


def test_top_entropy_masking_keeps_gradient_only_on_high_entropy_tokens():
    new, old, adv, mask = _batch(4)
    ent = np.random.default_rng(5).uniform(0, 3, size=new.shape).astype(np.float32)
    kw = dict(eps_low=0.2, eps_high=0.28, top_entropy_rho=0.2)
    g = np.asarray(grad_fn(new, old, None, adv, mask, entropy_bt=jnp.asarray(ent), **kw))
    keep = np.asarray(top_entropy_mask(jnp.asarray(ent), jnp.asarray(mask), 0.2))
    assert np.all(g[~keep] == 0) and np.count_nonzero(g[keep]) > 0
    # value: the masked tokens contribute 0 but stay in the token denominator
    r = np.exp(new - old)
    surr = np.minimum(r * adv[:, None], np.clip(r, 0.8, 1.28) * adv[:, None])
    want = -(surr * keep).sum() / mask.sum()
    np.testing.assert_allclose(loss_fn(new, old, None, adv, mask, entropy_bt=jnp.asarray(ent), **kw)[0],
                               want, rtol=1e-5)


# -------------------------------------------------------------------------- entropy bonus
def test_entropy_bonus_gradient_matches_analytic():
    """d(−c·mean H)/dz_v = c·p_v(log p_v + H)/n per valid token (NumPy), through the loss."""
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(2, 3, 5)).astype(np.float32)
    mask = np.array([[1, 1, 0], [1, 0, 0]], np.int32)
    zeros, adv = jnp.zeros((2, 3)), jnp.zeros(2)

    def loss(z):
        return grpo_loss(zeros, zeros, None, adv, mask, entropy_bt=token_entropy(z), entropy_coef=0.1)[0]

    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    h = -(p * np.log(p)).sum(-1, keepdims=True)
    want = 0.1 * p * (np.log(p) + h) * mask[..., None] / mask.sum()
    np.testing.assert_allclose(jax.grad(loss)(jnp.asarray(logits)), want, rtol=1e-4, atol=1e-7)


# -------------------------------------------------------------------------------- config
def test_config_validates_variant_fields():
    GRPOConfig(policy_loss="gspo", eps_low=3e-4, eps_high=4e-4)
    GRPOConfig(dual_clip_c=3.0)
    for bad in (dict(policy_loss="ppo2"), dict(dual_clip_c=0.5), dict(dual_clip_c=3.0, policy_loss="cispo"),
                dict(top_entropy_rho=0.0), dict(top_entropy_rho=1.5)):
        with pytest.raises(ValueError, match="grpo"):
            GRPOConfig(**bad)
