"""Logical axis names -> mesh axes. Model code names only logical axes; this maps them.

The default rules shard the parameters FSDP-style over `fsdp` and Megatron-style over
`tensor`, and the batch over (`data`, `fsdp`). A mesh config (conf/mesh/) may pass its own.
"""
from __future__ import annotations

import jax
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

LOGICAL_AXES = ("batch", "embed", "mlp", "heads", "kv_heads", "head_dim", "vocab")

DEFAULT_RULES: tuple[tuple[str, str | tuple | None], ...] = (
    ("batch", ("data", "fsdp")),
    ("embed", "fsdp"),
    ("mlp", "tensor"),
    ("heads", "tensor"),
    ("kv_heads", "tensor"),
    ("head_dim", None),
    ("vocab", "tensor"),
)


def logical_to_mesh_spec(logical: tuple | None, rules=DEFAULT_RULES, mesh=None) -> PartitionSpec:
    """('vocab','embed') -> P('tensor','fsdp'); mesh axes absent from `mesh` are dropped."""
    table = dict(rules)
    used: set[str] = set()
    out = []
    for name in logical or ():
        if name is not None and name not in table:
            raise KeyError(f"logical axis {name!r} has no sharding rule; rules cover {sorted(table)}")
        target = table.get(name) if name else None
        axes = (target,) if isinstance(target, str) else tuple(target or ())
        if mesh is not None:
            axes = tuple(a for a in axes if a in mesh.axis_names)
        axes = tuple(a for a in axes if a not in used)  # a mesh axis may shard one dim only
        used.update(axes)
        out.append(None if not axes else axes[0] if len(axes) == 1 else axes)
    return PartitionSpec(*out)


def param_logical_axes(model: nnx.Module):
    """State-shaped tree of each parameter's logical axes tuple."""
    state = nnx.state(model, nnx.Param)
    return jax.tree.map(lambda v: v.get_metadata().get("out_sharding"), state,
                        is_leaf=lambda x: isinstance(x, nnx.Variable))


def param_shardings(model: nnx.Module, mesh, rules=DEFAULT_RULES):
    """State-shaped tree of NamedSharding, for `jax.device_put` or `jit(out_shardings=...)`."""
    state = nnx.state(model, nnx.Param)

    def to_sharding(v):
        return NamedSharding(mesh, logical_to_mesh_spec(v.get_metadata().get("out_sharding"), rules, mesh))

    return jax.tree.map(to_sharding, state, is_leaf=lambda x: isinstance(x, nnx.Variable))


def shard_model(model: nnx.Module, mesh, rules=DEFAULT_RULES) -> nnx.Module:
    """Place every parameter on `mesh` according to `rules` (in place; returns the model)."""
    state = nnx.state(model, nnx.Param)
    nnx.update(model, jax.device_put(state, param_shardings(model, mesh, rules)))
    return model
