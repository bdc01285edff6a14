"""Decoder building blocks: RMSNorm, RoPE, GQA attention over a fixed-size KV cache, SwiGLU.

Parameters carry logical axis names in their `out_sharding` metadata (never a mesh axis);
models/sharding.py maps them to a mesh. Kernels are stored `[in, out]` with heads split out,
e.g. q `[embed, heads, head_dim]`, so the logical names line up with each dimension.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.models.config import ModelConfig
from mighty.models.lora import adapter_of, kernel

NEG_INF = -1e30  # finite, so fully masked rows (left padding) give a uniform row, not NaN


def param(rngs: nnx.Rngs | None, shape, axes, dtype, init="normal", scale=0.02) -> nnx.Param:
    """A parameter tagged with logical axes; `eager_sharding=False` keeps it mesh-free."""
    if init == "ones":
        value = jnp.ones(shape, dtype)
    elif init == "zeros":
        value = jnp.zeros(shape, dtype)
    else:
        value = _scaled_normal(rngs.params(), tuple(shape), dtype, scale)
    return nnx.Param(value, out_sharding=tuple(axes), eager_sharding=False)


def _scaled_normal(key, shape, dtype, scale):
    if isinstance(key, jax.core.Tracer):  # under jit / eval_shape: stay symbolic
        return (scale * jax.random.normal(key, shape, jnp.float32)).astype(dtype)
    # Eagerly, jax.random compiles one XLA program per shape (seconds each on a busy CPU);
    # numpy seeded from the JAX key is deterministic in the key and compiles nothing.
    seed = np.asarray(jax.random.key_data(key)).ravel().astype(np.uint32)
    values = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32) * scale
    return jnp.asarray(values, dtype=dtype)


class KVCache(NamedTuple):
    """Fixed-size cache; every row writes the same slot, so one scalar `index` suffices.

    keys: one `[B, kv_heads, head_dim, S]` array per layer (stored transposed, see `_attend`);
    values: `[B, kv_heads, S, head_dim]`; mask `[B, S]` int32, 1 on filled real-token slots.
    Decode reads both in place.
    """

    keys: tuple
    values: tuple
    mask: jax.Array
    index: jax.Array

    @classmethod
    def init(cls, cfg: ModelConfig, batch: int, size: int, dtype=None) -> "KVCache":
        """An empty cache; `dtype` defaults to `cache_dtype(cfg)`, the decode loop's choice."""
        dtype = cache_dtype(cfg) if dtype is None else dtype

        def zeros(*shape):
            return tuple(jnp.zeros(shape, dtype) for _ in range(cfg.num_layers))

        k, d = cfg.num_kv_heads, cfg.head_dim
        return cls(zeros(batch, k, d, size), zeros(batch, k, size, d),
                   jnp.zeros((batch, size), jnp.int32), jnp.zeros((), jnp.int32))

    def repeat_rows(self, g: int) -> "KVCache":
        """Each row's cache repeated for g consecutive rows (one prompt, g continuations)."""
        rep = lambda x: jnp.repeat(x, g, axis=0)
        return self._replace(keys=tuple(map(rep, self.keys)), values=tuple(map(rep, self.values)),
                             mask=rep(self.mask))


def cache_dtype(cfg: ModelConfig):
    """The KV cache's dtype: the compute dtype, but at least float32 on CPU. XLA:CPU has no
    bf16 elementwise ops, so a bf16 cache update is widened to f32 and copies the whole cache
    of every layer on every decode step (~10% of a bf16 SmolLM2 decode step); in f32 the
    update is in place, and decode attention over the cache runs in f32 (a few % of the FLOPs)."""
    if jax.default_backend() == "cpu":
        return jnp.promote_types(cfg.jnp_dtype, jnp.float32)
    return cfg.jnp_dtype


class RMSNorm(nnx.Module):
    def __init__(self, dim: int, eps: float, dtype, param_dtype):
        self.scale = param(None, (dim,), ("embed",), param_dtype, init="ones")
        self.eps, self.dtype = eps, dtype

    def __call__(self, x):
        xf = x.astype(jnp.float32)
        xf = xf * jax.lax.rsqrt(jnp.mean(xf * xf, axis=-1, keepdims=True) + self.eps)
        return (self.scale[...].astype(self.dtype) * xf.astype(self.dtype))


@functools.lru_cache(maxsize=32)
def rope_inv_freq(cfg: ModelConfig) -> np.ndarray:
    """`[head_dim/2]` float32 inverse frequencies, with linear/llama3 scaling as in HF."""
    dim = cfg.head_dim
    inv = (1.0 / (cfg.rope_theta ** (np.arange(0, dim, 2, dtype=np.float32) / dim))).astype(np.float32)
    s = cfg.rope_scaling
    if not s:
        return inv
    if s["rope_type"] == "linear":
        return (inv / s["factor"]).astype(np.float32)
    old, lo, hi, factor = (s["original_max_position_embeddings"], s["low_freq_factor"],
                           s["high_freq_factor"], s["factor"])
    wavelen = 2 * math.pi / inv
    scaled = np.where(wavelen > old / lo, inv / factor, inv)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= old / hi) & (wavelen <= old / lo)
    return np.where(medium, smoothed, scaled).astype(np.float32)


def rope_tables(positions, cfg: ModelConfig, dtype, bound: int | None = None):
    """positions `[B, T]` int -> (cos, sin), each `[B, T, 1, Dh/2]` in `dtype`, shared by every
    layer's q and k.

    With `bound` (positions known to lie in [0, bound) at trace time) they are gathered from
    a NumPy table: computed in the graph, XLA fuses cos/sin into each consumer and evaluates
    them per head, per layer and, in decode, inside the key cache's update (~20% of a
    config-A decode step)."""
    inv_freq = rope_inv_freq(cfg)
    if bound is None:
        freqs = positions.astype(jnp.float32)[..., None] * inv_freq  # (B, T, Dh/2)
        cos, sin = jnp.cos(freqs), jnp.sin(freqs)
    else:
        freqs = np.arange(bound, dtype=np.float32)[:, None] * inv_freq  # same f32 products
        cos, sin = (jnp.take(jnp.asarray(f(freqs)), positions, axis=0) for f in (np.cos, np.sin))
    return cos[:, :, None, :].astype(dtype), sin[:, :, None, :].astype(dtype)


def apply_rope(x, rope):
    """x `[B, T, N, Dh]`, rope = `rope_tables(...)` -> rotated x (HF rotate_half convention)."""
    cos, sin = rope
    x1, x2 = jnp.split(x, 2, axis=-1)
    return jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def project(module, name: str, x2d):
    """x `[N, in]` through `module`'s kernel `name` (flattened to `[in, out]`) -> `[N, out]`,
    plus its LoRA adapter's s·x·A·B when it has one (models/lora.py; the base may be stored
    quantised and is dequantised here, inside the jitted forward)."""
    w = kernel(module, name, x2d.dtype)
    y = dense(x2d, w.reshape(x2d.shape[-1], -1))
    adapter = adapter_of(module, name)
    return y if adapter is None else y + adapter.delta(x2d)


def dense(x, w):
    """x @ w in x's dtype, accumulated in at least float32.

    For bf16 compute this is both more accurate and faster: XLA:CPU runs bf16 x bf16 -> f32
    dots on AMX/AVX512-BF16 (2.5-3.5x float32 on this machine), whereas bf16 -> bf16 dots run
    no faster than float32 (benchmarks/README.md, "bf16"). float32/float64 are plain matmuls.
    """
    acc = jnp.promote_types(x.dtype, jnp.float32)
    return jnp.matmul(x, w.astype(x.dtype), preferred_element_type=acc).astype(x.dtype)


class Attention(nnx.Module):
    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        d, h, k, hd, pd = cfg.hidden_size, cfg.num_heads, cfg.num_kv_heads, cfg.head_dim, cfg.jnp_param_dtype
        self.q = param(rngs, (d, h, hd), ("embed", "heads", "head_dim"), pd)
        self.k = param(rngs, (d, k, hd), ("embed", "kv_heads", "head_dim"), pd)
        self.v = param(rngs, (d, k, hd), ("embed", "kv_heads", "head_dim"), pd)
        self.o = param(rngs, (h, hd, d), ("heads", "head_dim", "embed"), pd)
        if cfg.qkv_bias:
            self.q_bias = param(None, (h, hd), ("heads", "head_dim"), pd, init="zeros")
            self.k_bias = param(None, (k, hd), ("kv_heads", "head_dim"), pd, init="zeros")
            self.v_bias = param(None, (k, hd), ("kv_heads", "head_dim"), pd, init="zeros")
        self.cfg = cfg

    def _proj(self, x, name):
        """x `[B,T,D]` -> `[B,T,N,Dh]` as one 2-D matmul (no per-step weight transposes)."""
        b, t, d = x.shape
        n = self.cfg.num_heads if name == "q" else self.cfg.num_kv_heads
        y = project(self, name, x.reshape(b * t, d)).reshape(b, t, n, self.cfg.head_dim)
        if self.cfg.qkv_bias:
            y = y + getattr(self, name + "_bias")[...].astype(x.dtype)
        return y

    def __call__(self, x, rope, mask, layer_cache=None, index=None):
        """x `[B,T,D]`; rope = `rope_tables(positions)`; mask `[B,T]` (no cache) or the
        cache mask `[B,S]` already updated.

        Returns (out `[B,T,D]`, (k, v) cache arrays or None).
        """
        cfg = self.cfg
        b, t, d = x.shape
        q = apply_rope(self._proj(x, "q"), rope)  # (B, T, H, Dh)
        k = apply_rope(self._proj(x, "k"), rope)  # (B, T, K, Dh)
        v = self._proj(x, "v")
        k, v = k.transpose(0, 2, 3, 1), v.transpose(0, 2, 1, 3)  # (B, K, Dh, T), (B, K, T, Dh)
        if layer_cache is None:
            query_slot = jnp.arange(t)
        else:
            ck, cv = layer_cache
            k = jax.lax.dynamic_update_slice(ck, k.astype(ck.dtype), (0, 0, 0, index))
            v = jax.lax.dynamic_update_slice(cv, v.astype(cv.dtype), (0, 0, index, 0))
            query_slot = index + jnp.arange(t)
        causal = jnp.arange(v.shape[2])[None, :] <= query_slot[:, None]  # (T, S)
        allowed = causal[None, None, None] & (mask[:, None, None, None, :] > 0)  # (B,1,1,T,S)
        qg = q.reshape(b, t, cfg.num_kv_heads, -1, cfg.head_dim).transpose(0, 2, 3, 1, 4)  # (B,K,G,T,Dh)
        out = _attend(qg.astype(k.dtype), k, v, allowed).astype(q.dtype)  # (B,K,G,T,Dh)
        out = out.transpose(0, 3, 1, 2, 4).reshape(b * t, cfg.num_heads * cfg.head_dim)
        y = project(self, "o", out).reshape(b, t, d)
        return y, (None if layer_cache is None else (k, v))


def _attend(q, k, v, allowed):
    """q `[B,K,G,T,Dh]`, k `[B,K,Dh,S]`, v `[B,K,S,Dh]`, allowed `[B,1,1,T,S]` -> `[B,K,G,T,Dh]`.

    Batched dots over (B, K) for prefill and decode alike: XLA:CPU (jax 0.10, YNNPACK) runs
    them on the cache in place, whereas a broadcast-multiply-reduce decode step was 10-25x
    slower (benchmarks/README.md, "decode attention"). Keys come transposed so both dots
    contract a row-major operand the plain way: `q·kᵀ` over `[S, Dh]` keys ran 1.6x slower
    (SmolLM2, batch 32, 192 slots), about 15% of a decode step.
    """
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = jnp.einsum("bkgtd,bkds->bkgts", q, k, preferred_element_type=jnp.float32) * scale
    probs = jax.nn.softmax(jnp.where(allowed, scores, NEG_INF), axis=-1)
    acc = jnp.promote_types(q.dtype, jnp.float32)
    return jnp.einsum("bkgts,bksd->bkgtd", probs.astype(q.dtype), v,
                      preferred_element_type=acc).astype(q.dtype)


class MLP(nnx.Module):
    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        d, f, pd = cfg.hidden_size, cfg.intermediate_size, cfg.jnp_param_dtype
        self.gate = param(rngs, (d, f), ("embed", "mlp"), pd)
        self.up = param(rngs, (d, f), ("embed", "mlp"), pd)
        self.down = param(rngs, (f, d), ("mlp", "embed"), pd)

    def __call__(self, x):
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1])  # (N, D)
        gate, up = project(self, "gate", x2), project(self, "up", x2)
        return project(self, "down", jax.nn.silu(gate) * up).reshape(*lead, -1)


class Block(nnx.Module):
    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        dt, pd = cfg.jnp_dtype, cfg.jnp_param_dtype
        self.attn_norm = RMSNorm(cfg.hidden_size, cfg.rms_eps, dt, pd)
        self.attn = Attention(cfg, rngs)
        self.mlp_norm = RMSNorm(cfg.hidden_size, cfg.rms_eps, dt, pd)
        self.mlp = MLP(cfg, rngs)

    def __call__(self, x, rope, mask, layer_cache=None, index=None):
        a, new_cache = self.attn(self.attn_norm(x), rope, mask, layer_cache, index)
        x = x + a
        return x + self.mlp(self.mlp_norm(x)), new_cache


def first_argmax(x):
    """`jnp.argmax(x, -1)` (first index of the maximum) as two plain reductions: XLA:CPU runs
    the (value, index) pair-reduce of `argmax` several times slower (see benchmarks/README.md)."""
    iota = jax.lax.broadcasted_iota(jnp.int32, x.shape, x.ndim - 1)
    top = jnp.max(x, axis=-1, keepdims=True)
    return jnp.min(jnp.where(x == top, iota, x.shape[-1]), axis=-1)
