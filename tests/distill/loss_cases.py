"""Shared by the KD loss tests: shapes, random inputs and the naive NumPy loop reference."""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from mighty.distill.losses import kd_loss

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
