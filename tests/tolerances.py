"""Comparing two computation orders of the same training step, at tolerances derived from float32.

What the maths guarantees is the *gradient*: microbatches, meshes and process counts only
reorder sums, so the gradients agree to float rounding (`grad_atol`). `capture_grads` reads
them exactly, ahead of any optimizer, so a test compares them instead of parameters that an
optimizer has reshaped.

Adam is the reason not to compare parameters: its first step is −lr·a/(|a| + ε) per entry
(a: the clipped gradient), ≈ −lr·sign(a), so rounding noise in a near-zero gradient becomes a
full-size move, and a sign decided by noise flips between CPU families (AMD and Intel run
different XLA kernels, so different summation orders). `adam_first_step_atol` bounds that
move per entry from the two gradients themselves; the one end-to-end Adam comparison
(tests/rl/test_step.py) uses it.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

F32_EPS = float(np.finfo(np.float32).eps)  # 1.19e-7: the spacing of float32 at 1


def capture_grads() -> optax.GradientTransformation:
    """Passes updates through unchanged and keeps them as its state: first in an
    `optax.chain`, the state after a step is that step's gradient, bit for bit."""
    return optax.GradientTransformation(lambda params: jax.tree.map(jnp.zeros_like, params),
                                        lambda updates, state, params=None: (updates, updates))


def grad_atol(reference, n_terms: int, ulps: float = 8.0) -> float:
    """Absolute tolerance for a float32 gradient leaf whose entries each sum `n_terms`
    contributions (rows × tokens), computed in two orders.

    Reordering a sum of n float32 terms moves it by ≤ n·eps·Σ|terms| in the worst case and by
    ~sqrt(n)·eps·Σ|terms| when the rounding errors are independent (they are: the orders
    differ in blocking, not systematically). Σ|terms| of one entry is not observable, so the
    leaf's largest gradient stands for it; the forward pass's own reordering (matmuls blocked
    for other shapes) perturbs activations by a few ulps that backprop carries linearly, so
    the budget is `ulps` ulps rather than one.
    """
    scale = float(np.max(np.abs(np.asarray(reference, np.float64)), initial=0.0))
    return ulps * np.sqrt(n_terms) * F32_EPS * scale + np.finfo(np.float32).tiny


def assert_grads_close(got, want, n_terms: int, what: str) -> None:
    """Every leaf of two gradient trees within `grad_atol` of the reference's leaf."""
    for (path, w), g in zip(jax.tree_util.tree_leaves_with_path(want), jax.tree.leaves(got), strict=True):
        w, g = np.asarray(w, np.float64), np.asarray(g, np.float64)
        np.testing.assert_allclose(g, w, rtol=0, atol=grad_atol(w, n_terms),
                                   err_msg=f"{what} {jax.tree_util.keystr(path)}")


def clipped(grads, max_norm: float):
    """The gradient as Adam sees it behind `optax.clip_by_global_norm(max_norm)` (float64)."""
    g = [np.asarray(x, np.float64) for x in jax.tree.leaves(grads)]
    norm = np.sqrt(sum(float(np.sum(x * x)) for x in g))
    scale = min(1.0, max_norm / norm) if max_norm and norm > 0 else 1.0
    return [x * scale for x in g]


def adam_first_step_atol(a, a_other, p, *, lr: float, eps: float) -> np.ndarray:
    """Per-entry bound on |Δ params| between two first Adam steps from the same params `p`
    whose (clipped) gradients are `a` and `a_other`.

    Step 1 moves p by −lr·f(a) with f(a) = a/(|a| + ε) (bias-corrected m̂ = a, v̂ = a²).
    f is increasing, |f| < 1 and f'(a) = ε/(|a| + ε)², so with Δ = |a − a_other|:
      - |a| > Δ (the sign is decided): |f(a) − f(a_other)| ≤ Δ·ε/(|a| − Δ + ε)², far below
        one ulp of lr for any gradient clearly above the noise;
      - |a| ≤ Δ (a rounding-level gradient): the sign may flip, up to 2 (a move of 2·lr).
    On top: float32 rounding of m̂, v̂, the square root and the division (≤ 16 ulps of f) and
    of the parameter add (1 ulp of |p| + lr).
    """
    a, a_other, p = (np.asarray(x, np.float64) for x in (a, a_other, p))
    delta = np.abs(a - a_other)
    f_bound = np.where(undecided(a, a_other), 2.0, delta * eps / (np.maximum(np.abs(a) - delta, 0.0) + eps) ** 2)
    return lr * (np.minimum(f_bound, 2.0) + 16 * F32_EPS) + F32_EPS * (np.abs(p) + lr)


def undecided(a, a_other) -> np.ndarray:
    """Entries whose gradient is within its own rounding difference of 0 (and not equal in
    both orders, e.g. an exactly-zero gradient): Adam's sign there is not set by the maths."""
    delta = np.abs(np.asarray(a, np.float64) - np.asarray(a_other, np.float64))
    return (np.abs(np.asarray(a, np.float64)) <= delta) & (delta > 0)


def assert_adam_first_steps_match(params_got, params_want, params_init, grads_got, grads_want, *,
                                  lr: float, eps: float, max_norm: float, what: str) -> int:
    """Params after one Adam step (behind global-norm clipping) from `params_init`, in two
    computation orders whose gradients were captured, agree per entry to
    `adam_first_step_atol`. Returns how many entries had a rounding-level gradient (their
    sign, and so their move, is not decided by the maths) so a test can bound that count."""
    a_got, a_want = clipped(grads_got, max_norm), clipped(grads_want, max_norm)
    flips = 0
    leaves = zip(jax.tree_util.tree_leaves_with_path(params_want), jax.tree.leaves(params_got),
                 jax.tree.leaves(params_init), a_want, a_got, strict=True)
    for (path, want), got, p0, aw, ag in leaves:
        atol = adam_first_step_atol(aw, ag, p0, lr=lr, eps=eps)
        diff = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
        bad = diff > atol
        assert not bad.any(), (f"{what} {jax.tree_util.keystr(path)}: {int(bad.sum())} entries off by up "
                               f"to {float(diff[bad].max()):.3g} (bound there {float(atol[bad].min()):.3g})")
        flips += int(undecided(aw, ag).sum())
    return flips


def assert_sgd_runs_match(got: dict, want: dict, *, what: str, ulps: float = 8.0) -> None:
    """Two runs of SGD steps in two computation orders (tests/scale/cases.py: flat keys
    "['grads'][s]<path>", "['params']<path>", "['lr']", "['terms']" (row-tokens per gradient
    entry), and metrics or other outputs): gradients to `grad_atol`; params p0 − lr·Σ_s g_s
    to lr·Σ_s grad_atol(g_s) plus an ulp of p per add; anything else (losses, norms,
    log-probs: sums over row-tokens and the vocab) to 2e-4."""
    assert got.keys() == want.keys(), (what, sorted(got.keys() ^ want.keys()))
    n_terms, lr = int(want["['terms']"]), float(want["['lr']"])
    steps = sorted({int(k.split("]")[1][1:]) for k in want if k.startswith("['grads']")})
    for k in want:
        if k.startswith("['grads']"):
            rtol, atol = 0.0, grad_atol(want[k], n_terms, ulps)
        elif k.startswith("['params']"):
            path = k[len("['params']"):]
            rtol = len(steps) * F32_EPS
            atol = lr * sum(grad_atol(want[f"['grads'][{s}]{path}"], n_terms, ulps) for s in steps)
        else:
            rtol, atol = 2e-4, 32 * F32_EPS * float(np.max(np.abs(want[k]), initial=0.0)) + 1e-9
        np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=atol, err_msg=f"{what}{k}")


def assert_adam_runs_close(got, want, *, atol: float, lr: float, updates: int, what: str,
                           max_share: float = 0.01) -> None:
    """Params after `updates` Adam updates in two computation orders whose gradients are not
    at hand (a whole learner). Entries whose gradient's sign is decided agree to `atol`; an
    entry whose gradient is at the rounding level may flip sign, and Adam moves it by up to
    lr per update either way (|m̂/√v̂| ≤ 1 for b1 = 0.9, b2 = 0.99, as (1−b1) ≤ √(1−b2)), so
    it may differ by up to 2·lr·updates. Such entries are rare: at most `max_share` of them."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    diff = np.abs(got - want)
    loose = diff > atol
    assert np.all(diff <= 2 * lr * updates * (1 + 1e-3)), (what, float(diff.max()))
    assert loose.sum() <= max(1, max_share * diff.size), (
        f"{what}: {int(loose.sum())} of {diff.size} entries differ by more than {atol:g} "
        f"(up to {float(diff.max()):.3g}); only rounding-level gradients may, and they are rare")
