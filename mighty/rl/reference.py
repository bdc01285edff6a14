"""The π_ref log-prob pass for paper-scale runs: chunked over rows, weights optionally offloaded.

Chunking (`grpo.ref_chunk` rows at a time, a `lax.map` inside one program) bounds the pass's
activations to one chunk. Offloading (`grpo.ref_offload`) keeps π_ref's weights in pinned host
memory (same sharding, memory kind `pinned_host`); the program copies them to the devices for
the pass only, so they take no device memory while the sampler and the update run.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from mighty.rl.step import completion_logprobs


def offload(params):
    """Move a params tree to pinned host memory, keeping each leaf's sharding (abstract
    `ShapeDtypeStruct` leaves, as the memory planner passes, get the host memory kind)."""
    def one(x):
        sh = x.sharding.with_memory_kind("pinned_host")
        return jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sh) if isinstance(x, jax.ShapeDtypeStruct) else sh

    host = jax.tree.map(one, params)
    if all(isinstance(x, jax.ShapeDtypeStruct) for x in jax.tree.leaves(params)):
        return host
    return jax.device_put(params, host)


class ReferencePass:
    """`ref(prompt_ids, prompt_mask, tokens, mask) -> log π_ref (N, L)` for fixed weights;
    prompts one per row or one per group (`models.transformer.completion_hidden`)."""

    def __init__(self, graphdef, params, *, chunk_rows: int = 0, offloaded: bool = False,
                 sampling: dict | None = None):
        self.graphdef, self.chunk_rows, self.offloaded = graphdef, int(chunk_rows), offloaded
        # the sampler's temperature / top-k / top-p: π_ref under the same processing as π_θ,
        # so KL(π_θ ‖ π_ref) is 0 at π_θ = π_ref whatever the sampling settings
        self.sampling = dict(sampling or {})
        self.params = offload(params) if offloaded else params
        self._fn = jax.jit(self._logprobs)

    def _logprobs(self, params, prompt_ids, prompt_mask, tokens, mask):
        if self.offloaded:  # host -> device inside the program, for this pass only
            params = jax.device_put(params, jax.memory.Space.Device)

        def one(xs):
            return completion_logprobs(self.graphdef, params, *xs, **self.sampling)[0]

        n, c = tokens.shape[0], self.chunk_rows
        if c <= 0 or c >= n:
            return one((prompt_ids, prompt_mask, tokens, mask))
        if n % c:
            raise ValueError(f"grpo.ref_chunk={c} must divide the rollout batch's {n} rows")
        if prompt_ids.shape[0] % (n // c):  # group prompts that straddle chunks: one per row
            g = n // prompt_ids.shape[0]
            prompt_ids, prompt_mask = jnp.repeat(prompt_ids, g, 0), jnp.repeat(prompt_mask, g, 0)
        blocks = jax.tree.map(lambda x: x.reshape(n // c, x.shape[0] // (n // c), *x.shape[1:]),
                              (prompt_ids, prompt_mask, tokens, mask))
        return jax.lax.map(one, blocks).reshape(n, -1)  # (N, L)

    def __call__(self, prompt_ids, prompt_mask, tokens, mask) -> jax.Array:
        return self._fn(self.params, prompt_ids, prompt_mask, tokens, mask)

    def lower(self, prompt_ids, prompt_mask, tokens, mask):
        """AOT lowering on (abstract) inputs, for the memory planner."""
        return self._fn.lower(self.params, prompt_ids, prompt_mask, tokens, mask)

