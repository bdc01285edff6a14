"""KD losses against hand-worked numbers and a naive NumPy loop reference."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.distill.losses import DIVERGENCES, generalized_jsd, kd_loss, soft_divergence

B, T, V, K = 2, 5, 11, 4

# ----------------------------------------------------------------------------- reference


def _np_softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def _np_kl(a, b):
    return sum(ai * np.log(ai / bi) for ai, bi in zip(a, b) if ai > 0)


def _np_div(p, q, name, beta, skew):
    if name == "forward_kl":
        return _np_kl(p, q)
    if name == "reverse_kl":
        return _np_kl(q, p)
    if name == "jsd":
        m = beta * p + (1 - beta) * q
        return beta * _np_kl(p, m) + (1 - beta) * _np_kl(q, m)
    if name == "skew_forward_kl":
        return _np_kl(p, skew * p + (1 - skew) * q)
    return _np_kl(q, skew * q + (1 - skew) * p)


def _np_bucket(probs_k, temp):
    """K probabilities + tail 1 − Σ, tempered as K + 1 outcomes."""
    full = np.append(probs_k, max(1.0 - probs_k.sum(), 0.0)) ** (1.0 / temp)
    return full / full.sum()


def ref_kd(s, teacher, labels, mask, temp, alpha, name, beta=0.5, skew=0.1):
    """Loop over (b, t) in float64; the definition, with nothing shared with the code."""
    s = np.asarray(s, np.float64)
    alpha = np.broadcast_to(np.asarray(alpha, np.float64), mask.shape)
    total, count = 0.0, 0
    for b in range(mask.shape[0]):
        for t in range(mask.shape[1]):
            if not mask[b, t]:
                continue
            q1 = _np_softmax(s[b, t])
            ce = -np.log(q1[labels[b, t]])
            if isinstance(teacher, tuple):
                ids, lps = (np.asarray(x) for x in teacher)
                p = _np_bucket(np.exp(lps[b, t].astype(np.float64)), temp)
                q = _np_bucket(q1[ids[b, t]], temp)
            else:
                p = _np_softmax(np.asarray(teacher, np.float64)[b, t] / temp)
                q = _np_softmax(s[b, t] / temp)
            d = _np_div(p, q, name, beta, skew)
            total += alpha[b, t] * ce + (1 - alpha[b, t]) * temp**2 * d
            count += 1
    return total / max(count, 1)


def _inputs(seed, v=V):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(B, T, v)).astype(np.float32) * 2
    t = rng.normal(size=(B, T, v)).astype(np.float32) * 2
    labels = rng.integers(0, v, size=(B, T)).astype(np.int32)
    mask = (rng.random((B, T)) < 0.7).astype(np.int32)
    mask[0, 0] = 1
    alpha = rng.random((B, T)).astype(np.float32)
    return s, t, labels, mask, alpha


def _topk(teacher_logits, k, seed=0):
    """Top-k ids by teacher probability (in a shuffled order) and their T=1 log-probs."""
    lp = jax.nn.log_softmax(jnp.asarray(teacher_logits), -1)
    ids = jnp.argsort(-lp, axis=-1)[..., :k]
    ids = jax.random.permutation(jax.random.PRNGKey(seed), ids, axis=-1, independent=True)
    return ids.astype(jnp.int32), jnp.take_along_axis(lp, ids, -1)


_STATIC = ("temperature", "divergence", "beta", "skew")


@functools.partial(jax.jit, static_argnames=_STATIC)
def _loss(*args, **kw):
    return kd_loss(*args, **kw)[0]


_value_and_grad = jax.jit(jax.value_and_grad(_loss), static_argnames=_STATIC)


# ----------------------------------------------------------------------------- hand-worked

P = np.array([0.75, 0.25])  # teacher, logits (log 3, 0)
Q = np.array([0.5, 0.5])  # student, logits (0, 0)
HAND = {
    "forward_kl": 0.75 * np.log(1.5) + 0.25 * np.log(0.5),  # 0.130812
    "reverse_kl": 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(2.0),  # 0.143841
    # m = (0.625, 0.375)
    "jsd": 0.5 * (0.75 * np.log(1.2) + 0.25 * np.log(2 / 3))
    + 0.5 * (0.5 * np.log(0.8) + 0.5 * np.log(4 / 3)),  # 0.033822
    # skew 0.1: m = 0.1 p + 0.9 q = (0.525, 0.475)
    "skew_forward_kl": 0.75 * np.log(0.75 / 0.525) + 0.25 * np.log(0.25 / 0.475),
    # m = 0.1 q + 0.9 p = (0.725, 0.275)
    "skew_reverse_kl": 0.5 * np.log(0.5 / 0.725) + 0.5 * np.log(0.5 / 0.275),
}


@pytest.mark.parametrize("name", DIVERGENCES)
def test_hand_worked_two_outcomes(name):
    s = jnp.zeros((1, 1, 2))
    t = jnp.log(jnp.array([[[3.0, 1.0]]]))
    labels, mask = jnp.zeros((1, 1), jnp.int32), jnp.ones((1, 1))
    loss, m = kd_loss(s, t, labels, mask, alpha=0.5, divergence=name)
    np.testing.assert_allclose(m["kd/ce"], np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(m["kd/divergence"], HAND[name], rtol=1e-5)
    np.testing.assert_allclose(loss, 0.5 * np.log(2.0) + 0.5 * HAND[name], rtol=1e-5)


def test_hand_worked_topk_tail_is_not_renormalised():
    # teacher (0.5, 0.3, 0.2), top-1 = id 0: buckets (0.5, 0.5); uniform student: (1/3, 2/3).
    # Renormalising the top-1 would put all mass on id 0 for both and give 0.
    s = jnp.zeros((1, 1, 3))
    teacher = (jnp.array([[[0]]], jnp.int32), jnp.log(jnp.array([[[0.5]]])))
    labels, mask = jnp.zeros((1, 1), jnp.int32), jnp.ones((1, 1))
    loss, m = kd_loss(s, teacher, labels, mask, alpha=0.0)
    np.testing.assert_allclose(loss, 0.5 * np.log(1.5) + 0.5 * np.log(0.75), rtol=1e-5)
    np.testing.assert_allclose(m["kd/teacher_tail_mass"], 0.5, rtol=1e-6)
    np.testing.assert_allclose(m["kd/student_tail_mass"], 2 / 3, rtol=1e-6)
    assert m["kd/top1_agreement"] == 1.0  # argmax of uniform logits is id 0


def test_metrics_count_agreement_and_ignore_padding():
    s = jnp.array([[[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 9.0]]])
    t = jnp.array([[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [9.0, 0.0, 0.0]]])
    labels, mask = jnp.zeros((1, 3), jnp.int32), jnp.array([[1, 1, 0]])
    _, m = kd_loss(s, t, labels, mask)
    assert int(m["kd/tokens"]) == 2
    np.testing.assert_allclose(m["kd/top1_agreement"], 0.5)
    _, m = kd_loss(s, t, labels, mask, alpha=jnp.array([[0.2, 0.4, 0.9]]))
    np.testing.assert_allclose(m["kd/alpha_mean"], 0.3, rtol=1e-6)


# ----------------------------------------------------------------------------- reference


@pytest.mark.parametrize("temp", [1.0, 2.5])
@pytest.mark.parametrize("name", DIVERGENCES)
def test_full_logits_match_numpy_loop(name, temp):
    s, t, labels, mask, alpha = _inputs(1)
    kw = dict(temperature=temp, alpha=alpha, divergence=name, beta=0.3, skew=0.2)
    got = _loss(s, t, labels, mask, **kw)
    want = ref_kd(s, t, labels, mask, temp, alpha, name, beta=0.3, skew=0.2)
    np.testing.assert_allclose(got, want, rtol=2e-5)


@pytest.mark.parametrize("temp", [1.0, 0.7, 2.5])
@pytest.mark.parametrize("name", DIVERGENCES)
def test_topk_with_tail_matches_numpy_loop(name, temp):
    s, t, labels, mask, alpha = _inputs(2)
    teacher = _topk(t, K)
    kw = dict(temperature=temp, alpha=alpha, divergence=name, beta=0.7, skew=0.1)
    got = _loss(s, teacher, labels, mask, **kw)
    want = ref_kd(s, teacher, labels, mask, temp, alpha, name, beta=0.7, skew=0.1)
    np.testing.assert_allclose(got, want, rtol=2e-5)


def test_scalar_alpha_equals_constant_array_and_ends_select_terms():
    s, t, labels, mask, _ = _inputs(3)
    const = _loss(s, t, labels, mask, alpha=0.3)
    arr = _loss(s, t, labels, mask, alpha=jnp.full((B, T), 0.3))
    np.testing.assert_allclose(const, arr, rtol=1e-6)
    _, m = kd_loss(s, t, labels, mask, alpha=1.0, temperature=2.0)
    np.testing.assert_allclose(m["kd/loss"], m["kd/ce"], rtol=1e-6)
    _, m = kd_loss(s, t, labels, mask, alpha=0.0, temperature=2.0)
    np.testing.assert_allclose(m["kd/loss"], 4.0 * m["kd/divergence"], rtol=1e-6)


# ----------------------------------------------------------------------------- properties


@pytest.mark.parametrize("temp", [1.0, 2.0])
@pytest.mark.parametrize("name", DIVERGENCES)
def test_identical_distributions_give_zero_soft_loss(name, temp):
    s, _, labels, mask, _ = _inputs(4)
    kw = dict(temperature=temp, alpha=0.0, divergence=name)
    assert abs(float(_loss(s, s + 3.0, labels, mask, **kw))) < 1e-5  # shift-invariant
    ids = _topk(s, K)[0]
    own = jnp.take_along_axis(jax.nn.log_softmax(jnp.asarray(s), -1), ids, -1)
    assert abs(float(_loss(s, (ids, own), labels, mask, **kw))) < 1e-5
    assert float(_loss(s, _topk(-s, K), labels, mask, **kw)) > 1e-2  # and can fail


@pytest.mark.parametrize("temp", [1.0, 2.0])
@pytest.mark.parametrize("name", DIVERGENCES)
def test_topk_with_k_equal_v_equals_full_logits(name, temp):
    s, t, labels, mask, alpha = _inputs(5)
    kw = dict(temperature=temp, alpha=alpha, divergence=name)
    full, m_full = kd_loss(s, t, labels, mask, **kw)
    topk, m_topk = kd_loss(s, _topk(t, V), labels, mask, **kw)
    np.testing.assert_allclose(topk, full, rtol=1e-5)
    assert float(m_topk["kd/teacher_tail_mass_max"]) < 1e-6
    np.testing.assert_allclose(m_topk["kd/top1_agreement"], m_full["kd/top1_agreement"])
    g_full = _value_and_grad(jnp.asarray(s), t, labels, mask, **kw)[1]
    g_topk = _value_and_grad(jnp.asarray(s), _topk(t, V), labels, mask, **kw)[1]
    np.testing.assert_allclose(g_topk, g_full, atol=1e-6)


def test_loss_at_temperature_is_t_squared_times_tempered_divergence():
    s, t, labels, mask, _ = _inputs(6)
    for temp in (0.5, 3.0):
        at_t = _loss(s, t, labels, mask, alpha=0.0, temperature=temp)
        tempered = _loss(s / temp, t / temp, labels, mask, alpha=0.0, temperature=1.0)
        np.testing.assert_allclose(at_t, temp**2 * tempered, rtol=1e-5)


@pytest.mark.parametrize("name", ["forward_kl", "reverse_kl"])
def test_t_squared_keeps_soft_gradient_magnitude_at_large_t(name):
    # ∂ T²·D(p_T‖q_T)/∂z_s → (centred z_s − centred z_t)/V per token as T → ∞
    s, t, labels, _, _ = _inputs(7)
    mask = np.ones((B, T), np.int32)
    centre = lambda z: z - z.mean(-1, keepdims=True)
    limit = (centre(s) - centre(t)) / V / (B * T)
    errors = []
    for temp in (1.0, 30.0, 300.0):
        _, g = _value_and_grad(jnp.asarray(s), t, labels, mask, alpha=0.0, temperature=temp,
                               divergence=name)
        errors.append(np.linalg.norm(g - limit) / np.linalg.norm(limit))
    assert errors[0] > 0.2  # far from the limit at T = 1: the check has teeth
    assert errors[1] < 0.1 and errors[2] < 0.01 and errors[2] < errors[1] / 5


@pytest.mark.parametrize("teacher_kind", ["full", "topk"])
@pytest.mark.parametrize("name", DIVERGENCES)
def test_gradient_matches_finite_differences_float64(name, teacher_kind):
    with jax.enable_x64(True):
        rng = np.random.default_rng(8)
        s = rng.normal(size=(1, 2, 5))
        t = rng.normal(size=(1, 2, 5))
        teacher = t if teacher_kind == "full" else _topk(t, 2)
        labels, mask = np.array([[1, 3]]), np.ones((1, 2))
        f = functools.partial(_loss, teacher=teacher, labels_bt=labels, mask_bt=mask,
                              alpha=np.array([[0.3, 0.6]]), temperature=1.7, divergence=name)
        g = np.asarray(jax.grad(f)(jnp.asarray(s)))
        assert g.dtype == np.float64
        fd, h = np.zeros_like(s), 1e-6
        for idx in np.ndindex(s.shape):
            d = np.zeros_like(s)
            d[idx] = h
            fd[idx] = (float(f(s + d)) - float(f(s - d))) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("teacher_kind", ["full", "topk"])
def test_padding_with_garbage_changes_nothing(teacher_kind):
    s, t, labels, mask, alpha = _inputs(9)
    pad = 3
    garbage = np.full((B, pad, V), np.nan, np.float32)
    garbage[:, 1] = 1e30
    s_pad = np.concatenate([s, garbage], 1)
    t_pad = np.concatenate([t, -garbage], 1)
    labels_pad = np.concatenate([labels, np.full((B, pad), -100, np.int32)], 1)
    mask_pad = np.concatenate([mask, np.zeros((B, pad), np.int32)], 1)
    alpha_pad = np.concatenate([alpha, np.full((B, pad), np.nan, np.float32)], 1)
    if teacher_kind == "full":
        teacher, teacher_pad = t, t_pad
    else:
        teacher = _topk(t, K)
        teacher_pad = tuple(
            np.concatenate([np.asarray(x), np.full((B, pad, K), fill, x.dtype)], 1)
            for x, fill in zip(teacher, (10**6, np.nan))
        )
    for name in ("forward_kl", "jsd"):  # sanitising happens before any divergence
        kw = dict(divergence=name, temperature=2.0)
        loss, g = _value_and_grad(jnp.asarray(s), teacher, labels, mask,
                                            alpha=alpha, **kw)
        loss_p, g_p = _value_and_grad(jnp.asarray(s_pad), teacher_pad, labels_pad,
                                                mask_pad, alpha=alpha_pad, **kw)
        np.testing.assert_allclose(loss_p, loss, rtol=1e-6)
        np.testing.assert_allclose(g_p[:, :T], g, rtol=1e-5, atol=1e-9)
        assert not np.any(g_p[:, T:])


@pytest.mark.parametrize("teacher_kind", ["full", "topk"])
def test_all_padding_gives_zero_loss_and_finite_metrics(teacher_kind):
    s, t, labels, _, _ = _inputs(10)
    teacher = t if teacher_kind == "full" else _topk(t, K)
    mask = np.zeros((B, T), np.int32)
    (loss, metrics), g = jax.value_and_grad(kd_loss, has_aux=True)(
        jnp.asarray(s), teacher, labels, mask, divergence="jsd", temperature=2.0)
    assert float(loss) == 0.0 and not np.any(g)
    assert all(np.isfinite(v) for v in metrics.values())


@pytest.mark.parametrize("name", DIVERGENCES)
def test_zero_teacher_probabilities_stay_finite(name):
    s, t, labels, mask, _ = _inputs(11)
    t = np.where(np.arange(V) < 3, -np.inf, t).astype(np.float32)  # p = 0 on 3 ids
    loss, g = _value_and_grad(jnp.asarray(s), t, labels, mask, divergence=name,
                                        alpha=0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(g))
    if name in ("forward_kl", "jsd", "skew_forward_kl", "skew_reverse_kl"):  # finite in truth
        np.testing.assert_allclose(loss, ref_kd(s, t, labels, mask, 1.0, 0.0, name),
                                   rtol=1e-5)
    ids, lps = _topk(t, K + 3)  # includes −inf log-probs
    loss, g = _value_and_grad(jnp.asarray(s), (ids, lps), labels, mask,
                                        divergence=name, alpha=0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(g))


def test_student_mass_all_on_teacher_ids_keeps_gradients_finite():
    # student puts ~all mass on the K ids: tail below float32 resolution
    s = np.full((1, 1, 6), -200.0, np.float32)
    s[..., :2] = 0.0
    teacher = (jnp.array([[[0, 1]]], jnp.int32), jnp.log(jnp.array([[[0.6, 0.3]]])))
    for name in DIVERGENCES:
        loss, g = _value_and_grad(jnp.asarray(s), teacher, np.zeros((1, 1), int),
                                            np.ones((1, 1)), divergence=name)
        assert np.isfinite(loss) and np.all(np.isfinite(g)), name


# ----------------------------------------------------------------------------- divergences


def test_generalized_jsd_limits_follow_gkd_convention():
    rng = np.random.default_rng(12)
    logp = jax.nn.log_softmax(jnp.asarray(rng.normal(size=(3, 7))), -1)
    logq = jax.nn.log_softmax(jnp.asarray(rng.normal(size=(3, 7))), -1)
    fkl = soft_divergence(logp, logq, "forward_kl")
    rkl = soft_divergence(logp, logq, "reverse_kl")
    b = 1e-3
    np.testing.assert_allclose(generalized_jsd(logp, logq, b) / b, fkl, rtol=2e-2)
    np.testing.assert_allclose(generalized_jsd(logp, logq, 1 - b) / b, rkl, rtol=2e-2)
    # β = 1/2 is the symmetric JSD
    np.testing.assert_allclose(generalized_jsd(logp, logq, 0.5),
                               generalized_jsd(logq, logp, 0.5), rtol=1e-5)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="beta"):
            soft_divergence(logp, logq, "jsd", beta=bad)


def test_skew_zero_is_plain_kl_and_skew_shrinks_divergence():
    rng = np.random.default_rng(13)
    logp = jax.nn.log_softmax(jnp.asarray(rng.normal(size=(4, 9)) * 3), -1)
    logq = jax.nn.log_softmax(jnp.asarray(rng.normal(size=(4, 9)) * 3), -1)
    for skewed, plain in (("skew_forward_kl", "forward_kl"), ("skew_reverse_kl", "reverse_kl")):
        np.testing.assert_array_equal(soft_divergence(logp, logq, skewed, skew=0.0),
                                      soft_divergence(logp, logq, plain))
        # the skewed mixture is closer to the first argument, so the divergence shrinks
        assert np.all(soft_divergence(logp, logq, skewed, skew=0.3)
                      < soft_divergence(logp, logq, plain))
        with pytest.raises(ValueError, match="skew"):
            soft_divergence(logp, logq, skewed, skew=1.0)


def test_bad_arguments_raise():
    s, t, labels, mask, _ = _inputs(14)
    with pytest.raises(ValueError, match="unknown divergence"):
        kd_loss(s, t, labels, mask, divergence="kl")
    with pytest.raises(ValueError, match="temperature"):
        kd_loss(s, t, labels, mask, temperature=0.0)


def test_jits_once_per_static_configuration():
    s, t, labels, mask, alpha = _inputs(15)
    traces = []

    @functools.partial(jax.jit, static_argnames=("divergence",))
    def f(s, t, alpha, divergence):
        traces.append(divergence)
        return kd_loss(s, t, labels, mask, alpha=alpha, divergence=divergence)[0]

    first = f(s, t, alpha, "jsd")
    f(s + 1.0, t, alpha * 0.5, "jsd")
    assert len(traces) == 1
    np.testing.assert_allclose(first, _loss(s, t, labels, mask, alpha=alpha,
                                            divergence="jsd"), rtol=1e-6)


def test_beta_and_skew_may_be_traced():
    s, t, labels, mask, alpha = _inputs(16)
    teacher = _topk(t, K)
    for name, kw in (("jsd", "beta"), ("skew_forward_kl", "skew"), ("skew_reverse_kl", "skew")):
        for value in (0.0, 0.3) if kw == "skew" else (0.3,):
            traced = jax.jit(lambda v: kd_loss(s, teacher, labels, mask, divergence=name,
                                               **{kw: v})[0])(value)
            static = _loss(s, teacher, labels, mask, divergence=name, **{kw: value})
            np.testing.assert_allclose(traced, static, rtol=1e-5, err_msg=f"{name} {value}")


# ----------------------------------------------------------------------------- top-K form


def _log_softmax_forward_kl(s, ids, logp, labels, mask, alpha):
    """The (B, T, V) log_softmax form of the top-K loss at T = 1 (what kd_loss computed before
    it switched to a logsumexp plus gathered columns); forward KL on K + 1 outcomes."""
    logq_v = jax.nn.log_softmax(s, -1)
    ce = -jnp.take_along_axis(logq_v, labels[..., None], -1)[..., 0]

    def tail(lp):
        return jnp.concatenate([lp, jnp.log(1 - jnp.exp(lp).sum(-1, keepdims=True))], -1)

    logq, logp = tail(jnp.take_along_axis(logq_v, ids, -1)), tail(logp)
    kl = jnp.sum(jnp.exp(logp) * (logp - logq), -1)
    return jnp.sum((alpha * ce + (1 - alpha) * kl) * mask) / jnp.sum(mask)


def test_topk_loss_and_gradient_equal_the_log_softmax_form():
    s, t, labels, mask, alpha = _inputs(12)
    ids, logp = _topk(t, K)
    got, g = _value_and_grad(jnp.asarray(s), (ids, logp), labels, mask, alpha=alpha)
    want, g_want = jax.value_and_grad(_log_softmax_forward_kl)(jnp.asarray(s), ids, logp, labels,
                                                               mask, alpha)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(g, g_want, rtol=1e-5, atol=1e-8)
    _, m = kd_loss(jnp.asarray(s), (ids, logp), labels, mask)
    real = mask > 0
    ce = -np.take_along_axis(np.asarray(jax.nn.log_softmax(s, -1)), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(m["kd/ce"], ce[real].mean(), rtol=1e-6)
    top1 = np.take_along_axis(np.asarray(ids), np.asarray(logp).argmax(-1)[..., None], -1)[..., 0]
    np.testing.assert_allclose(m["kd/top1_agreement"], (s.argmax(-1) == top1)[real].mean())


@pytest.mark.parametrize("teacher_kind", ["full", "topk"])
def test_top1_agreement_takes_the_first_of_tied_maxima(teacher_kind):
    s = jnp.array([[[1.0, 3.0, 3.0], [3.0, 3.0, 0.0]]])  # np.argmax: 1, then 0
    top1 = np.array([[2, 0]])  # disagree (a tie is not the first maximum), agree
    if teacher_kind == "full":
        teacher = jax.nn.one_hot(top1, 3) * 5.0
    else:
        teacher = (jnp.asarray(top1[..., None], jnp.int32), jnp.full((1, 2, 1), -0.1))
    _, m = kd_loss(s, teacher, jnp.zeros((1, 2), jnp.int32), jnp.ones((1, 2)))
    np.testing.assert_allclose(m["kd/top1_agreement"], 0.5)
