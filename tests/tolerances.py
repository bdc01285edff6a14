"""Tolerances derived from the dtype, for comparing two computation orders of the same maths.

Reordering a sum of n float32 terms moves it by at most ~n·eps·Σ|terms| (worst case) and by
~sqrt(n)·eps·Σ|terms| typically (rounding errors are independent). Gradients are sums over
tokens, rows and microbatches, so they agree to `grad_atol`. Adam is different: its first step
is −lr·g/(|g| + ε) ≈ −lr·sign(g), so an entry whose gradient is itself at the rounding level
can flip sign and move by up to 2·lr on one CPU family and not on another (AMD vs Intel give
different summation orders in XLA's CPU kernels). `assert_adam_steps_match` therefore holds
entries with a clearly non-zero gradient to a tight bound and allows entries with a
rounding-level gradient up to the 2·lr that Adam can legitimately give them.
"""
from __future__ import annotations

import jax
import numpy as np

F32_EPS = float(np.finfo(np.float32).eps)  # 1.19e-7


def grad_atol(reference: np.ndarray, n_terms: int, safety: float = 8.0) -> float:
    """Absolute tolerance of a float32 gradient summed over `n_terms` contributions."""
    return safety * np.sqrt(n_terms) * F32_EPS * float(np.max(np.abs(reference)) + F32_EPS)


def assert_trees_close(got, want, atol_fn, what: str) -> None:
    for path, (a, b) in zip(jax.tree_util.tree_leaves_with_path(want),
                            zip(jax.tree.leaves(got), jax.tree.leaves(want))):
        b_ = np.asarray(b, np.float64)
        np.testing.assert_allclose(np.asarray(a, np.float64), b_, rtol=0, atol=atol_fn(b_),
                                   err_msg=f"{what} {jax.tree_util.keystr(path[0])}")


def assert_adam_steps_match(params_got, params_want, params_init, grads, *, lr: float,
                            noise: float) -> None:
    """Params after one Adam step from `params_init`: entries with |g| > 100·noise agree to
    lr·1e-3 (there Adam's ±lr·sign(g) is decided, and g/(|g|+ε) moves by ≤ noise/|g|·2);
    entries at the rounding level may differ by up to 2·lr (a sign flip), never more."""
    for got, want, g in zip(jax.tree.leaves(params_got), jax.tree.leaves(params_want), jax.tree.leaves(grads)):
        got, want, g = (np.asarray(x, np.float64) for x in (got, want, g))
        decided = np.abs(g) > 100 * noise
        diff = np.abs(got - want)
        assert np.all(diff[decided] <= lr * 1e-3 + 1e-7), float(diff[decided].max(initial=0))
        assert np.all(diff <= 2 * lr * (1 + 1e-3)), float(diff.max())
