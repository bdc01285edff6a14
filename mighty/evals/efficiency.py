"""Efficiency: parameters, size and XLA-planned peak memory (decode throughput is timed on the
eval's own answers, `evals.answers`)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx


def param_stats(model) -> dict[str, float]:
    leaves = jax.tree.leaves(nnx.state(model, nnx.Param))
    n = sum(int(np.prod(x.shape)) for x in leaves)
    nbytes = sum(int(np.prod(x.shape)) * x.dtype.itemsize for x in leaves)
    return {"params_m": n / 1e6, "size_mb": nbytes / 2**20}


def forward_peak_mb(model, batch: int = 8, length: int = 256) -> float:
    """Peak memory XLA plans for one forward pass at (batch, length): arguments + outputs +
    temporaries from the compiled program's memory analysis (no hardware counter needed)."""
    graphdef, state = nnx.split(model)
    ids = jax.ShapeDtypeStruct((batch, length), jnp.int32)

    def fwd(state, ids):
        return nnx.merge(graphdef, state)(ids)

    mem = jax.jit(fwd).lower(state, ids).compile().memory_analysis()
    if mem is None:
        return float("nan")
    total = mem.argument_size_in_bytes + mem.output_size_in_bytes + mem.temp_size_in_bytes
    return total / 2**20
