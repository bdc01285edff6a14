"""Intent losses against naive NumPy references (the KL with T²)."""
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.distill.intent.losses import blended, hard_ce, soft_kl


def _np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_kl_t2(logits, p, t):
    q_t = _np_softmax(np.log(np.clip(p, 1e-12, 1)) / t)
    s_t = _np_softmax(logits / t)
    return t * t * np.mean([sum(q_t[i, c] * np.log(q_t[i, c] / s_t[i, c]) for c in range(p.shape[1]))
                            for i in range(p.shape[0])])


RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(5, 4)) * 2
SOFT = _np_softmax(RNG.normal(size=(5, 4)))
LABELS = np.array([0, 3, 1, 1, 2])


def test_hard_ce_matches_numpy():
    ref = -np.mean([np.log(_np_softmax(LOGITS)[i, LABELS[i]]) for i in range(5)])
    assert float(hard_ce(jnp.asarray(LOGITS), jnp.asarray(LABELS))) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("t", [1.0, 2.0, 4.0])
def test_soft_kl_has_t_squared_and_matches_numpy(t):
    got = float(soft_kl(jnp.asarray(LOGITS), jnp.asarray(SOFT), t))
    assert got == pytest.approx(_np_kl_t2(LOGITS, SOFT, t), rel=1e-4)


def test_soft_kl_zero_when_student_equals_teacher():
    assert float(soft_kl(jnp.log(jnp.asarray(SOFT)), jnp.asarray(SOFT), 3.0)) == pytest.approx(0, abs=1e-6)


def test_blend_is_alpha_mixture():
    a, t = 0.3, 2.0
    got = float(blended(jnp.asarray(LOGITS), jnp.asarray(LABELS), jnp.asarray(SOFT), alpha=a, temperature=t))
    ref = a * float(hard_ce(jnp.asarray(LOGITS), jnp.asarray(LABELS))) + (1 - a) * _np_kl_t2(LOGITS, SOFT, t)
    assert got == pytest.approx(ref, rel=1e-4)
