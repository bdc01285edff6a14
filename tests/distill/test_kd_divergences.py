"""KD divergences (generalized JSD, skew KL), argument checks, jit caching and the top-K log-softmax form."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.distill.losses import generalized_jsd, kd_loss, soft_divergence
from tests.distill.loss_cases import K, _inputs, _loss, _topk, _value_and_grad


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
