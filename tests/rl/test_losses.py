"""GRPO loss and KL estimators against hand-worked numbers and a NumPy loop reference."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.rl.advantages import group_advantages
from mighty.rl.losses import AGGREGATIONS, KL_ESTIMATORS, grpo_loss, kl_estimate, token_entropy

_STATIC = ("eps_low", "eps_high", "beta", "kl_estimator", "aggregation", "max_len",
           "entropy_coef")
loss_fn = jax.jit(grpo_loss, static_argnames=_STATIC)


def _scalar_loss(logp_new, *args, **kw):
    return grpo_loss(logp_new, *args, **kw)[0]


grad_fn = jax.jit(jax.grad(_scalar_loss), static_argnames=_STATIC)

# ----------------------------------------------------------------------------- hand-worked
# seq 0: ratios (1.5, 0.9, pad), A = +1; seq 1: ratio (0.5, pad, pad), A = −1
MASK = jnp.array([[1, 1, 0], [1, 0, 0]])
OLD = jnp.log(jnp.array([[0.2, 0.5, 0.3], [0.4, 0.1, 0.1]]))
NEW = OLD + jnp.log(jnp.array([[1.5, 0.9, 7.0], [0.5, 3.0, 3.0]]))
ADV = jnp.array([1.0, -1.0])
# ε_low 0.2, ε_high 0.28: token losses −min(1.5, 1.28) = −1.28, −min(0.9, 0.9) = −0.9,
# −min(−0.5, −0.8) = 0.8
HAND = {
    "token": (-1.28 - 0.9 + 0.8) / 3,  # −0.46
    "sequence": ((-1.28 - 0.9) / 2 + 0.8) / 2,  # −0.145
    "dr_grpo": (-1.28 - 0.9 + 0.8) / (2 * 3),  # −0.23 (max_len = T = 3)
}


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_hand_worked_losses_and_metrics(aggregation):
    loss, m = loss_fn(NEW, OLD, None, ADV, MASK, eps_low=0.2, eps_high=0.28, beta=0.0,
                      aggregation=aggregation)
    np.testing.assert_allclose(loss, HAND[aggregation], rtol=1e-5)
    np.testing.assert_allclose(m["grpo/clip_frac_low"], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(m["grpo/clip_frac_high"], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(m["grpo/clip_frac"], 2 / 3, rtol=1e-6)
    np.testing.assert_allclose(m["grpo/ratio_mean"], (1.5 + 0.9 + 0.5) / 3, rtol=1e-5)
    np.testing.assert_allclose(m["grpo/ratio_min"], 0.5, rtol=1e-5)
    np.testing.assert_allclose(m["grpo/ratio_max"], 1.5, rtol=1e-5)
    assert int(m["grpo/tokens"]) == 3


def test_dr_grpo_uses_the_given_max_len():
    loss, _ = loss_fn(NEW, OLD, None, ADV, MASK, eps_low=0.2, eps_high=0.28,
                      aggregation="dr_grpo", max_len=4)
    np.testing.assert_allclose(loss, (-1.28 - 0.9 + 0.8) / (2 * 4), rtol=1e-5)


def test_kl_estimators_hand_worked():
    # π = 0.5, π_ref = 0.25: log ρ = log 2
    logp, logp_ref = jnp.log(0.5), jnp.log(0.25)
    np.testing.assert_allclose(kl_estimate(logp, logp_ref, "k1"), np.log(2), rtol=1e-6)
    np.testing.assert_allclose(kl_estimate(logp, logp_ref, "k2"), 0.5 * np.log(2) ** 2,
                               rtol=1e-6)
    np.testing.assert_allclose(kl_estimate(logp, logp_ref, "k3"), 0.5 - 1 + np.log(2),
                               rtol=1e-6)


def test_kl_estimators_formulas_sign_and_direction():
    rng = np.random.default_rng(0)
    logp = jax.nn.log_softmax(jnp.asarray(rng.normal(size=(4, 9)) * 2, jnp.float32), -1)
    logp_ref = jax.nn.log_softmax(jnp.asarray(rng.normal(size=(4, 9)) * 2, jnp.float32), -1)
    lr = np.asarray(logp - logp_ref, np.float64)
    np.testing.assert_allclose(kl_estimate(logp, logp_ref, "k1"), lr, rtol=1e-5)
    np.testing.assert_allclose(kl_estimate(logp, logp_ref, "k2"), 0.5 * lr**2, rtol=1e-5)
    np.testing.assert_allclose(kl_estimate(logp, logp_ref, "k3"), np.exp(-lr) - 1 + lr,
                               rtol=1e-4, atol=1e-6)
    assert np.all(np.asarray(kl_estimate(logp, logp_ref, "k3")) >= 0)
    # E_{x~π}[k1] = E_{x~π}[k3] = KL(π ‖ π_ref) exactly, and ≠ KL(π_ref ‖ π)
    p, p_ref = np.exp(np.asarray(logp, np.float64)), np.exp(np.asarray(logp_ref, np.float64))
    kl_fwd = np.sum(p * (np.log(p) - np.log(p_ref)), -1)
    kl_bwd = np.sum(p_ref * (np.log(p_ref) - np.log(p)), -1)
    for est in ("k1", "k3"):
        expect = np.sum(p * np.asarray(kl_estimate(logp, logp_ref, est)), -1)
        np.testing.assert_allclose(expect, kl_fwd, rtol=1e-4)
        assert np.all(np.abs(expect - kl_bwd) > 1e-3)
    with pytest.raises(ValueError, match="unknown estimator"):
        kl_estimate(logp, logp_ref, "k4")


# ----------------------------------------------------------------------------- reference


def ref_grpo(new, old, ref, adv, mask, *, eps_low, eps_high, beta, est, agg, max_len,
             ent, coef):
    new, old, ref, ent = (np.asarray(x, np.float64) for x in (new, old, ref, ent))
    n_b, n_t = mask.shape
    per = np.zeros((n_b, n_t))
    for b in range(n_b):
        for t in range(n_t):
            if not mask[b, t]:
                continue
            r, a = np.exp(new[b, t] - old[b, t]), adv[b]
            surrogate = min(r * a, min(max(r, 1 - eps_low), 1 + eps_high) * a)
            lr = new[b, t] - ref[b, t]
            k = {"k1": lr, "k2": 0.5 * lr * lr, "k3": np.exp(-lr) - 1 + lr}[est]
            per[b, t] = -surrogate + beta * k - coef * ent[b, t]
    if agg == "token":
        return per.sum() / mask.sum()
    if agg == "sequence":
        return np.mean([per[b].sum() / max(mask[b].sum(), 1) for b in range(n_b)])
    return per.sum() / (n_b * max_len)


def _random_batch(seed, n_b=6, n_t=7):
    rng = np.random.default_rng(seed)
    old = np.log(rng.uniform(0.05, 1.0, size=(n_b, n_t))).astype(np.float32)
    new = (old + rng.normal(scale=0.3, size=(n_b, n_t))).astype(np.float32)
    ref = (old + rng.normal(scale=0.3, size=(n_b, n_t))).astype(np.float32)
    adv = rng.normal(size=n_b).astype(np.float32)
    lengths = rng.integers(1, n_t + 1, size=n_b)
    mask = (np.arange(n_t)[None] < lengths[:, None]).astype(np.int32)
    ent = rng.uniform(0, 3, size=(n_b, n_t)).astype(np.float32)
    return new, old, ref, adv, mask, ent


@pytest.mark.parametrize("est", KL_ESTIMATORS)
@pytest.mark.parametrize("agg", AGGREGATIONS)
def test_matches_numpy_loop(agg, est):
    new, old, ref, adv, mask, ent = _random_batch(1)
    kw = dict(eps_low=0.2, eps_high=0.28, beta=0.05)
    for max_len in (None, 10):
        loss, m = loss_fn(new, old, ref, adv, mask, kl_estimator=est, aggregation=agg,
                          max_len=max_len, entropy_bt=ent, entropy_coef=0.01, **kw)
        want = ref_grpo(new, old, ref, adv, mask, est=est, agg=agg, ent=ent, coef=0.01,
                        max_len=max_len or mask.shape[1], **kw)
        np.testing.assert_allclose(loss, want, rtol=1e-5)
    assert 0 < float(m["grpo/clip_frac"]) < 1  # the batch exercises both regimes
    kl = np.asarray(kl_estimate(new, ref, est))
    np.testing.assert_allclose(m["grpo/kl"], kl[mask > 0].mean(), rtol=1e-5)
    np.testing.assert_allclose(m["grpo/entropy"], ent[mask > 0].mean(), rtol=1e-5)


def test_aggregations_weigh_lengths_differently():
    new, old, ref, adv, mask, _ = _random_batch(2)
    losses = {a: float(loss_fn(new, old, ref, adv, mask, aggregation=a)[0])
              for a in AGGREGATIONS}
    assert len({round(v, 6) for v in losses.values()}) == 3
    full = np.ones_like(mask)  # equal lengths T: all three coincide
    same = [float(loss_fn(new, old, ref, adv, full, aggregation=a)[0]) for a in AGGREGATIONS]
    np.testing.assert_allclose(same, same[0], rtol=1e-6)


# ----------------------------------------------------------------------------- gradients


def test_equal_rewards_give_zero_policy_gradient():
    new, old, ref, _, mask, _ = _random_batch(3, n_b=6)
    rewards = jnp.array([0.3, 0.3, 0.3, 1.0, 1.0, 1.0])
    adv = group_advantages(rewards, 3)
    assert np.all(np.asarray(adv) == 0.0)
    for agg in AGGREGATIONS:
        g = grad_fn(jnp.asarray(new), old, ref, adv, mask, beta=0.0, aggregation=agg)
        assert np.all(np.asarray(g) == 0.0)
    g = grad_fn(jnp.asarray(new), old, ref, adv, mask, beta=0.1)  # the KL term still pulls
    assert np.any(np.asarray(g) != 0.0)


@pytest.mark.parametrize(
    "ratio, adv, clipped",
    [
        (1.5, 1.0, True),  # above 1 + ε_high, A > 0
        (0.5, -1.0, True),  # below 1 − ε_low, A < 0
        (1.5, -1.0, False),  # above, A < 0: ratio·A is the smaller term
        (0.5, 1.0, False),  # below, A > 0
        (1.1, 1.0, False),  # inside the trust region
        (0.9, -1.0, False),
    ],
)
def test_clipping_zeroes_gradient_only_on_the_clipped_side(ratio, adv, clipped):
    old = jnp.log(jnp.full((1, 1), 0.3))
    new = old + jnp.log(ratio)
    mask = jnp.ones((1, 1))
    g = float(grad_fn(new, old, None, jnp.array([adv]), mask, eps_low=0.2, eps_high=0.28)[0, 0])
    # d/dlogπ of −ρ·A is −A·ρ when unclipped
    np.testing.assert_allclose(g, 0.0 if clipped else -adv * ratio, rtol=1e-5, atol=0)


def test_single_iteration_ratio_is_one_and_gradient_is_policy_gradient():
    new, _, _, adv, mask, _ = _random_batch(4)
    new = jnp.asarray(new)
    loss, m = loss_fn(new, new, None, adv, mask)
    np.testing.assert_allclose(m["grpo/ratio_min"], 1.0)
    np.testing.assert_allclose(m["grpo/ratio_max"], 1.0)
    g = jax.grad(lambda x: grpo_loss(x, x, None, adv, mask)[0])(new)  # old = new, μ = 1
    np.testing.assert_allclose(g, -adv[:, None] * mask / mask.sum(), rtol=1e-5, atol=1e-8)


def test_kl_gradient_pulls_towards_reference():
    new, old, ref, adv, mask, _ = _random_batch(5)
    g = grad_fn(jnp.asarray(new), old, ref, jnp.zeros_like(adv), mask, beta=1.0,
                kl_estimator="k3")
    # ∂k3/∂logπ = 1 − exp(logπ_ref − logπ): positive where π > π_ref
    want = (1 - np.exp(ref - new)) * mask / mask.sum()
    np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-7)


# ----------------------------------------------------------------------------- robustness


def test_padding_with_garbage_changes_nothing():
    new, old, ref, adv, mask, ent = _random_batch(6)
    garbage = np.where(mask > 0, 0.0, np.nan).astype(np.float32)
    kw = dict(beta=0.1, entropy_coef=0.01, aggregation="sequence")
    clean = loss_fn(new, old, ref, adv, mask, entropy_bt=ent, **kw)
    dirty = loss_fn(new + garbage, old + garbage, ref + garbage, adv, mask,
                    entropy_bt=ent + garbage, **kw)
    for k in clean[1]:
        np.testing.assert_allclose(dirty[1][k], clean[1][k], rtol=1e-6, err_msg=k)
    g_clean = grad_fn(jnp.asarray(new), old, ref, adv, mask, entropy_bt=ent, **kw)
    g_dirty = grad_fn(jnp.asarray(new + garbage), old + garbage, ref + garbage, adv, mask,
                      entropy_bt=ent + garbage, **kw)
    np.testing.assert_array_equal(g_dirty, g_clean)
    assert not np.any(np.asarray(g_clean)[mask == 0])


@pytest.mark.parametrize("agg", AGGREGATIONS)
def test_empty_mask_is_finite_zero(agg):
    new, old, ref, adv, mask, _ = _random_batch(7)
    zero = np.zeros_like(mask)
    loss, m = loss_fn(new, old, ref, adv, zero, beta=0.1, aggregation=agg)
    assert float(loss) == 0.0
    assert all(np.isfinite(v) for v in m.values())
    assert not np.any(np.asarray(grad_fn(jnp.asarray(new), old, ref, adv, zero, beta=0.1)))


def test_token_entropy_and_bonus():
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(2, 3, 5)).astype(np.float32)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(token_entropy(logits), -(p * np.log(p)).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(token_entropy(jnp.zeros((1, 1, 5))), [[np.log(5)]], rtol=1e-6)
    new, old, ref, adv, mask, _ = _random_batch(9, n_b=2, n_t=3)
    ent = token_entropy(logits)
    base = loss_fn(new, old, ref, adv, mask)[0]
    bonus, m = loss_fn(new, old, ref, adv, mask, entropy_bt=ent, entropy_coef=0.1)
    np.testing.assert_allclose(base - bonus, 0.1 * m["grpo/entropy"], rtol=1e-5)
    np.testing.assert_allclose(m["grpo/entropy"], np.asarray(ent)[mask > 0].mean(), rtol=1e-5)


def test_bad_arguments_raise():
    new, old, ref, adv, mask, _ = _random_batch(10)
    with pytest.raises(ValueError, match="logp_ref_bt"):
        grpo_loss(new, old, None, adv, mask, beta=0.1)
    with pytest.raises(ValueError, match="entropy_bt"):
        grpo_loss(new, old, ref, adv, mask, entropy_coef=0.1)
    with pytest.raises(ValueError, match="unknown mode"):
        grpo_loss(new, old, ref, adv, mask, aggregation="mean")
    with pytest.raises(ValueError, match="kl_estimator"):
        grpo_loss(new, old, ref, adv, mask, kl_estimator="k5")


def test_traces_once_per_configuration():
    new, old, ref, adv, mask, _ = _random_batch(11)
    traces = []

    @functools.partial(jax.jit, static_argnames=("aggregation",))
    def f(new, adv, aggregation):
        traces.append(aggregation)
        return grpo_loss(new, old, ref, adv, mask, beta=0.04, aggregation=aggregation)[0]

    f(new, adv, "token")
    f(new * 1.1, adv * 2, "token")
    assert len(traces) == 1


def test_per_token_advantages_and_traced_coefficients():
    new, old, ref, adv, mask, ent = _random_batch(12)
    garbage = np.where(mask > 0, 0.0, np.nan).astype(np.float32)
    adv_bt = adv[:, None] * np.ones_like(new) + garbage  # NaN on padding
    kw = dict(entropy_bt=ent)
    want = loss_fn(new, old, ref, adv, mask, beta=0.1, entropy_coef=0.01, **kw)[0]
    got = loss_fn(new, old, ref, adv_bt, mask, beta=0.1, entropy_coef=0.01, **kw)[0]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    traced = jax.jit(lambda b, c: grpo_loss(new, old, ref, adv_bt, mask, beta=b,
                                            entropy_coef=c, **kw)[0])(0.1, 0.01)
    np.testing.assert_allclose(traced, want, rtol=1e-6)
    g = grad_fn(jnp.asarray(new), old, ref, adv_bt, mask, beta=0.1)
    assert np.all(np.isfinite(np.asarray(g)))
