"""Gradient accumulation over microbatches in one `lax.scan`, and the reduction of their
metrics: the same arithmetic for every trainer."""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp


def reduce_metrics(stacked: dict, count_key: str | None) -> dict:
    """(M, ...) per-microbatch metrics → one value each: `*_min` the minimum, `*_max` the
    maximum, `count_key` (a token count) the sum, everything else the mean weighted by
    `count_key` (plain mean without one)."""
    weight_key = count_key
    w = (jnp.ones_like(next(iter(stacked.values())), jnp.float32) if weight_key is None
         else stacked[weight_key].astype(jnp.float32))
    total = jnp.maximum(jnp.sum(w), 1e-30 if weight_key is None else 1.0)

    def one(k, v):
        if k.endswith("_min"):
            return jnp.min(v)
        if k.endswith("_max"):
            return jnp.max(v)
        if k == weight_key:
            return jnp.sum(v)
        return jnp.sum(v * w) / total
    return {k: one(k, v) for k, v in stacked.items()}


def accumulate_grads(grad_fn: Callable, params: Any, blocks: Any, *, weight_key: str | None,
                     count_key: str, keys: jax.Array | None = None) -> tuple[Any, dict]:
    """Σ_m w_m ∇ℓ_m / Σ_m w_m over the leading (microbatch) axis of `blocks`, in a `lax.scan`.

    `grad_fn(params, block[, key]) -> ((loss, metrics), grads)` with ℓ_m the block's *mean*
    loss. w_m = metrics[weight_key] (its token count: the sum is then the gradient of the
    full batch's token mean) or 1 (`weight_key=None`: blocks of equal weight, e.g. sequence
    means over equal-size blocks). Metrics are reduced by `reduce_metrics` with `count_key`
    (means weighted by it, the count summed). `keys` (M,) gives block m its own PRNG key.
    """
    xs = blocks if keys is None else (blocks, keys)

    def body(acc, x):
        (_, m), g = grad_fn(params, *x) if keys is not None else grad_fn(params, x)
        w = 1.0 if weight_key is None else m[weight_key].astype(jnp.float32)
        return jax.tree.map(lambda a, b: a + w * b, acc, g), m

    g, stacked = jax.lax.scan(body, jax.tree.map(jnp.zeros_like, params), xs)
    n = jax.tree.leaves(stacked)[0].shape[0]
    total = float(n) if weight_key is None else jnp.maximum(jnp.sum(stacked[weight_key].astype(jnp.float32)), 1.0)
    return jax.tree.map(lambda x: x / total, g), reduce_metrics(stacked, count_key)
