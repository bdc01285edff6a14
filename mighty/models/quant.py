"""Block-wise weight quantisation for the frozen QLoRA base: int8 (absmax) and 4-bit NF4.

A kernel `w` of shape `[in, *out]` (our layout, models/layers.py) is cut into blocks of
`block` consecutive input rows per output column; each block stores one float32 scale
s = max|w| over the block and codes c with w ≈ s · table[c]:

  int8: table[c] = c / 127, c ∈ [−127, 127], round to nearest.
        |w − ŵ| ≤ s / 254 per entry (half a step of 1/127).
  nf4:  table = the 16 NormalFloat levels of QLoRA (Dettmers et al. 2023, App. E), nearest
        level. |w − ŵ| ≤ s · NF4_MAX_HALF_GAP = s · 0.1385 (half the widest gap, 0.7230 → 1).
        Two codes share a byte (rows 2i, 2i+1 of a block), so codes are `[in/2, *out]` uint8.

Codes and scales keep the kernel's rank with only the input axis shrunk, so they carry the
kernel's logical axes and shard with it (models/sharding.py). Dequantisation is a few XLA
elementwise ops that run inside the jitted forward; the float kernel is never stored.
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

QUANT_KINDS = ("none", "int8", "nf4")

# The NF4 code book: quantiles of N(0, 1) rescaled to [−1, 1], with an exact zero.
NF4_TABLE = np.array([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], np.float32)
NF4_MAX_HALF_GAP = float(np.max(np.diff(NF4_TABLE)) / 2)  # 0.13852
INT8_MAX_HALF_STEP = 0.5 / 127


def error_bound(kind: str) -> float:
    """Documented per-entry bound on |w − ŵ| / s, s the block's absmax scale."""
    return {"int8": INT8_MAX_HALF_STEP, "nf4": NF4_MAX_HALF_GAP}[kind]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class QTensor:
    """A quantised kernel: codes (the kernel's shape, `axis` halved for nf4) and float32 scales
    (the kernel's shape with `axis` divided by `block`)."""

    codes: jax.Array
    scales: jax.Array
    kind: str = dataclasses.field(metadata=dict(static=True))
    block: int = dataclasses.field(metadata=dict(static=True))
    axis: int = dataclasses.field(metadata=dict(static=True))  # the blocked (last input) axis
    dtype: str = dataclasses.field(metadata=dict(static=True))  # the dequantised dtype

    @property
    def shape(self) -> tuple:
        s = list(self.codes.shape)
        s[self.axis] *= 2 if self.kind == "nf4" else 1
        return tuple(s)

    @property
    def ndim(self) -> int:
        return self.codes.ndim

    @property
    def nbytes(self) -> int:
        return int(self.codes.size * self.codes.dtype.itemsize + self.scales.size * 4)


def check_blocks(shape: tuple, kind: str, block: int, axis: int = 0, where: str = "kernel") -> None:
    rows = shape[axis]
    if kind not in QUANT_KINDS[1:]:
        raise ValueError(f"quantize: kind={kind!r}; choose one of {QUANT_KINDS[1:]}")
    if block < 2 or block % 2 or rows % block:
        raise ValueError(f"quantize {where}: its input axis {axis} has {rows} entries, which block={block} "
                         f"does not divide (block must be even); pick a block size that divides {rows}")


def _split(x, axis: int, block: int):
    """[..., n, ...] -> [..., n/block, block, ...] at `axis`."""
    return x.reshape(*x.shape[:axis], x.shape[axis] // block, block, *x.shape[axis + 1:])


def quantize(w, kind: str, block: int = 64, axis: int = 0) -> QTensor:
    """w float, blocked along `axis` -> QTensor (runs under jit or eagerly)."""
    check_blocks(w.shape, kind, block, axis)
    blocks = _split(jnp.asarray(w, jnp.float32), axis, block)
    scales = jnp.max(jnp.abs(blocks), axis=axis + 1)  # the kernel's shape, axis / block
    x = blocks / jnp.expand_dims(jnp.where(scales > 0, scales, 1.0), axis + 1)  # in [−1, 1]
    if kind == "int8":
        codes = jnp.round(x * 127).astype(jnp.int8).reshape(w.shape)
    else:
        idx = jnp.argmin(jnp.abs(x[..., None] - jnp.asarray(NF4_TABLE)), axis=-1).astype(jnp.uint8)
        pairs = _split(idx.reshape(w.shape), axis, 2)  # entries 2i (low nibble), 2i+1 (high)
        lo, hi = jnp.take(pairs, 0, axis=axis + 1), jnp.take(pairs, 1, axis=axis + 1)
        codes = (lo | (hi << 4)).astype(jnp.uint8)
    return QTensor(codes, scales, kind, block, axis, str(jnp.dtype(w.dtype)))


def dequantize(q: QTensor, dtype=None) -> jax.Array:
    """QTensor -> the kernel in `dtype` (default: the dtype it was quantised from)."""
    dtype = dtype or q.dtype
    if q.kind == "int8":
        x = q.codes.astype(jnp.float32) / 127
    else:
        idx = jnp.stack([q.codes & 0xF, q.codes >> 4], axis=q.axis + 1).reshape(q.shape)
        x = jnp.take(jnp.asarray(NF4_TABLE), idx.astype(jnp.int32))
    w = _split(x, q.axis, q.block) * jnp.expand_dims(q.scales, q.axis + 1)
    return w.reshape(q.shape).astype(dtype)
