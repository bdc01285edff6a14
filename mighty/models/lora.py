"""LoRA / QLoRA adapters on the decoder's dense projections (Hu et al. 2021; Dettmers et al. 2023).

An adapted projection computes  y = x·W + s · dropout(x)·A·B  with A `[in, r]`, B `[r, out]`,
s = α/r, or α/√r with rsLoRA (Kalajdzievski 2023). B starts at zero, so the adapted model is
the base model exactly at step 0. Only the adapters are `nnx.LoRAParam` (a `nnx.Param`); every
base weight becomes `Frozen` (an `nnx.Variable` that is not a Param), so the usual
`nnx.split(model, nnx.Param, ...)` of the training code yields the adapters alone: the base
gets no gradient and no optimizer state, and stays outside the donated train state.

With `quant` = int8 | nf4 (QLoRA) the seven projection kernels are stored quantised
(models/quant.py) and dequantised inside the jitted forward; embeddings and norms stay in the
parameter dtype, as in QLoRA.

Adapters carry logical axes: A `[*in_axes, None]`, B `[None, *out_axes]` (the rank axis is
replicated), so they shard with their kernel on every mesh config.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.models.quant import QUANT_KINDS, QTensor, check_blocks, dequantize, quantize

ATTN_TARGETS = ("q", "k", "v", "o")
MLP_TARGETS = ("gate", "up", "down")
ALL_TARGETS = ATTN_TARGETS + MLP_TARGETS
# How many leading axes of each kernel are input axes (o is [heads, head_dim, embed]).
N_IN_AXES = {"q": 1, "k": 1, "v": 1, "o": 2, "gate": 1, "up": 1, "down": 1}


@dataclass
class LoRAConfig:
    """Adapter knobs (`student.lora`, conf/student/lora/). Paper symbols in comments."""

    targets: List[str] = field(default_factory=lambda: list(ALL_TARGETS))  # subset of q k v o gate up down
    rank: int = 16  # r
    alpha: float = 32.0  # α
    dropout: float = 0.0  # p, on the adapter's input; KD steps only (GRPO needs ρ = 1 at μ = 1)
    rslora: bool = False  # s = α/√r instead of α/r
    quant: str = "none"  # frozen base storage: none | int8 | nf4 (QLoRA)
    quant_block: int = 64  # input rows per quantisation scale
    seed: int = 0  # init of A

    def __post_init__(self):
        bad = [t for t in self.targets if t not in ALL_TARGETS]
        if bad or not self.targets or len(set(self.targets)) != len(self.targets):
            raise ValueError(f"lora.targets={list(self.targets)}: a non-empty subset of {list(ALL_TARGETS)} "
                             f"without repeats (unknown: {bad})")
        if self.rank < 1:
            raise ValueError(f"lora.rank must be >= 1, got {self.rank}")
        if self.alpha <= 0:
            raise ValueError(f"lora.alpha must be > 0, got {self.alpha}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"lora.dropout={self.dropout} must lie in [0, 1)")
        if self.quant not in QUANT_KINDS:
            raise ValueError(f"lora.quant={self.quant!r}; choose one of {QUANT_KINDS}")
        if self.quant_block < 2 or self.quant_block % 2:
            raise ValueError(f"lora.quant_block={self.quant_block} must be an even number >= 2")

    @property
    def scale(self) -> float:
        """s: α/r, or α/√r with rsLoRA (keeps the update's scale stable as r grows)."""
        return self.alpha / (math.sqrt(self.rank) if self.rslora else self.rank)


class Frozen(nnx.Variable):
    """A base weight that training never updates (value: an array or a `QTensor`)."""


class Adapter(nnx.Module):
    """A and B of one projection; `enabled=False` gives the base projection (π_ref in GRPO)."""

    def __init__(self, in_shape, out_shape, in_axes, out_axes, cfg: LoRAConfig, key, dtype):
        fan_in = int(np.prod(in_shape))
        bound = 1.0 / math.sqrt(fan_in)  # PEFT's kaiming_uniform(a=√5) bound
        a = jax.random.uniform(key, (*in_shape, cfg.rank), jnp.float32, -bound, bound).astype(dtype)
        self.a = nnx.LoRAParam(a, out_sharding=(*in_axes, None), eager_sharding=False)
        self.b = nnx.LoRAParam(jnp.zeros((cfg.rank, *out_shape), dtype),
                               out_sharding=(None, *out_axes), eager_sharding=False)
        self.scale, self.dropout, self.enabled = float(cfg.scale), float(cfg.dropout), True

    def delta(self, x):
        """x `[N, in]` (flattened input axes) -> s · x·A·B `[N, out]` (flattened)."""
        r = self.a.shape[-1]
        a, b = self.a[...].reshape(-1, r), self.b[...].reshape(r, -1)
        key = getattr(self, "dropout_key", None)
        if self.dropout > 0 and key is not None:  # a training step set a key (set_dropout_key)
            keep = jax.random.bernoulli(key[...], 1.0 - self.dropout, x.shape)
            x = jnp.where(keep, x / (1.0 - self.dropout), 0).astype(x.dtype)
        acc = jnp.promote_types(x.dtype, jnp.float32)
        xa = jnp.matmul(x, a.astype(x.dtype), preferred_element_type=acc).astype(x.dtype)  # (N, r)
        y = jnp.matmul(xa, b.astype(x.dtype), preferred_element_type=acc)
        return (self.scale * y).astype(x.dtype)

    def weight_delta(self) -> jax.Array:
        """s · A·B in the kernel's layout `[*in, *out]`, float32 (for merging)."""
        a, b = self.a[...].astype(jnp.float32), self.b[...].astype(jnp.float32)
        return self.scale * jnp.tensordot(a, b, axes=([a.ndim - 1], [0]))


class _DropoutKey(nnx.Variable):
    pass


# ----------------------------------------------------------------------------- the layer hook


def kernel(module, name: str, dtype) -> jax.Array:
    """The base kernel `name` of `module` as an array in `dtype` (dequantised if quantised)."""
    w = getattr(module, name).get_value()
    return dequantize(w, dtype) if isinstance(w, QTensor) else w


def adapter_of(module, name: str):
    adapters = getattr(module, "lora", None)
    if adapters is None or name not in adapters:
        return None
    ad = adapters[name]
    return ad if ad.enabled else None


# ----------------------------------------------------------------------------- model surgery


def _projections(model):
    for layer in model.layers:
        yield layer.attn, ATTN_TARGETS
        yield layer.mlp, MLP_TARGETS


def has_lora(model) -> bool:
    return any(getattr(mod, "lora", None) is not None for mod, _ in _projections(model))


def apply_lora(model, cfg: LoRAConfig):
    """Add adapters on `cfg.targets` and freeze (and with `cfg.quant`, quantise) the base, in
    place; returns the model. Adapters are born on the devices of their kernels' shards."""
    if has_lora(model):
        raise ValueError("apply_lora: the model already has adapters; merge_lora first")
    root = jax.random.key(cfg.seed)
    dtype = model.cfg.jnp_param_dtype
    for i, (mod, names) in enumerate(_projections(model)):
        adapters = {}
        for j, name in enumerate(names):
            var = getattr(mod, name)
            axes = var.get_metadata().get("out_sharding") or (None,) * var.ndim
            if name in cfg.targets:
                n_in = N_IN_AXES[name]
                key = jax.random.fold_in(root, i * len(ALL_TARGETS) + j)
                adapters[name] = Adapter(var.shape[:n_in], var.shape[n_in:], axes[:n_in], axes[n_in:],
                                         cfg, key, dtype)
            if cfg.quant != "none":  # blocks run along the last input axis
                axis = N_IN_AXES[name] - 1
                check_blocks(var.shape, cfg.quant, cfg.quant_block, axis, where=f"layer {i // 2} {name}")
                q = quantize(var.get_value(), cfg.quant, cfg.quant_block, axis)
                q = jax.tree.map(lambda x, ref=var.get_value(): _placed_like(x, ref), q)
                setattr(mod, name, Frozen(q, **var.get_metadata()))
        if adapters:
            mod.lora = nnx.Dict(adapters)
    _freeze_params(model)
    return model


def _placed_like(x, ref):
    """`x` (codes or scales of `ref`, same rank) on `ref`'s mesh layout, fitted to x's shape."""
    sh = getattr(ref, "sharding", None)
    if not isinstance(sh, jax.sharding.NamedSharding) or sh.mesh.size == 1:
        return x
    from mighty.models.mesh import fit_spec

    return jax.device_put(x, jax.sharding.NamedSharding(sh.mesh, fit_spec(sh.spec, x.shape, sh.mesh)))


def _freeze_params(model) -> None:
    """Every remaining non-adapter `nnx.Param` becomes `Frozen` (same value and metadata)."""
    for path, node in list(nnx.iter_graph(model)):
        if isinstance(node, nnx.Param) and not isinstance(node, nnx.LoRAParam):
            parent = model
            for part in path[:-1]:
                parent = parent[part] if isinstance(part, int) else getattr(parent, part)
            frozen = Frozen(node.get_value(), **node.get_metadata())
            if isinstance(path[-1], int):
                parent[path[-1]] = frozen
            else:
                setattr(parent, path[-1], frozen)


def adapters(model) -> list[tuple[int, str, str, Adapter]]:
    """(layer index, "attn" | "mlp", projection name, adapter) for every adapter."""
    out = []
    for i, layer in enumerate(model.layers):
        for part in ("attn", "mlp"):
            for name, ad in (getattr(getattr(layer, part), "lora", None) or {}).items():
                out.append((i, part, name, ad))
    return out


def set_adapters(model, enabled: bool):
    """Switch every adapter on or off (static: the graphdef changes, the arrays do not)."""
    for *_, ad in adapters(model):
        ad.enabled = bool(enabled)
    return model


def base_graphdef(model):
    """The graphdef of `model` with adapters switched off: merged with the policy's own state
    it is π_ref = the frozen base, sharing every array (GRPO with LoRA keeps no second copy)."""
    set_adapters(model, False)
    try:
        return nnx.graphdef(model)
    finally:
        set_adapters(model, True)


def lora_reference(model) -> tuple:
    """(graphdef, (adapters, base)) of π_ref = `model`'s frozen base with its adapters off, for
    `training.merge_states`: the base arrays are the model's own (no second copy of the
    weights); the adapters are copies, because the policy's own are donated to its updates (off,
    they are never read, but the program still takes them)."""
    graphdef = base_graphdef(model)
    _, adapters_state, base = split_trainable(model)
    return graphdef, (jax.tree.map(jnp.copy, adapters_state), base)


def set_dropout_key(model, key) -> None:
    """Give every adapter with dropout its own key for this forward pass (inside a step)."""
    for n, (*_, ad) in enumerate(adapters(model)):
        if ad.dropout > 0:
            ad.dropout_key = _DropoutKey(jax.random.fold_in(key, n))


def split_trainable(model):
    """-> (graphdef, adapters, frozen base), both as plain dicts: `nnx.merge(graphdef, adapters,
    base)` inside a traced step builds the model without mutating variables of another trace."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    return graphdef, nnx.to_pure_dict(params), nnx.to_pure_dict(rest)


def merge_lora(model):
    """A plain `Transformer` (all `nnx.Param`) with W + s·A·B in float32, cast to the param
    dtype; quantised kernels are dequantised first. The input model is unchanged."""
    from mighty.models.transformer import Transformer

    cfg = model.cfg
    merged = nnx.eval_shape(lambda: Transformer(cfg, rngs=nnx.Rngs(0)))
    graphdef, state = nnx.split(merged, nnx.Param)
    values = nnx.to_pure_dict(nnx.state(model, Frozen))
    values = jax.tree.map(lambda v: dequantize(v, jnp.float32) if isinstance(v, QTensor) else v,
                          values, is_leaf=lambda v: isinstance(v, QTensor))
    for i, part, name, ad in adapters(model):
        if not ad.enabled:
            continue
        w = values["layers"][i][part][name]
        values["layers"][i][part][name] = w.astype(jnp.float32) + ad.weight_delta()
    values = jax.tree.map(lambda v: jnp.asarray(v, cfg.jnp_param_dtype), values)
    nnx.replace_by_pure_dict(state, values)
    return nnx.merge(graphdef, state)


def count(model) -> dict:
    """Parameter counts and bytes: trainable adapters vs frozen base (quantised as stored)."""
    lora = jax.tree.leaves(nnx.state(model, nnx.LoRAParam))
    frozen = jax.tree.leaves(nnx.state(model, Frozen))
    return {"trainable": int(sum(x.size for x in lora)),
            "trainable_bytes": int(sum(x.nbytes for x in lora)),
            "frozen_bytes": int(sum(x.nbytes for x in frozen))}
