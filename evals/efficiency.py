"""Efficiency: parameters, size, decode throughput and XLA-planned peak memory."""
from __future__ import annotations

import time

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


def decode_throughput(model, tokenizer, *, batch: int = 8, new_tokens: int = 64,
                      repeats: int = 2, seed: int = 0, temperature: float = 0.0) -> float:
    """Generated tokens per second through the eval prompt, median of `repeats` timed runs
    after a warm-up. With the eval's batch size and length this reuses the eval's compiled
    sampler, so the warm-up costs one generation, not a compile."""
    from data import format_prompt
    from models import generate

    prompt = tokenizer.chat(format_prompt("My wireless earbuds keep disconnecting from my phone."))
    ids, mask = tokenizer.batch([prompt] * batch, padding_side="left")
    key = jax.random.key(seed)

    def run(k):
        out = generate(model, ids, mask, k, max_new_tokens=new_tokens, temperature=temperature,
                       eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
        return int(np.asarray(jax.block_until_ready(out.lengths)).sum())

    run(key)
    rates = []
    for r in range(repeats):
        t0 = time.perf_counter()
        n = run(jax.random.fold_in(key, r + 1))
        rates.append(n / (time.perf_counter() - t0))
    return float(np.median(rates))
