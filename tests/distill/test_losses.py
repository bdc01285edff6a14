"""KD losses against hand-worked numbers and a naive NumPy loop reference."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.distill.losses import DIVERGENCES, kd_loss
from tests.distill.loss_cases import B, K, T, V, _inputs, _loss, _topk, _value_and_grad, ref_kd


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
