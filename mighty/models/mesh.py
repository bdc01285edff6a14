"""Meshes from config, batch and train-state shardings (the multi-host runtime: models/multihost.py).

A mesh config (conf/mesh/*.yaml) gives the mesh shape over the axes `data`, `fsdp`, `tensor`
(one size may be -1: all remaining devices), the rules table that maps the models' logical
axes to mesh axes, the remat policy and the `jax.distributed` settings. Everything here works
on global arrays, so one code path serves one CPU, one GPU node and a multi-host pod:

    initialize_distributed(cfg.mesh)          # no-op on one process
    mesh, rules = make_mesh(cfg.mesh), mesh_rules(cfg.mesh)
    graphdef, params, rest, params_sh = init_sharded(lambda: Transformer(mcfg, rngs=nnx.Rngs(0)), mesh, rules)
    state, state_sh = shard_state(init_state(params, tx), params_sh, mesh)
    batch = shard_batch(local_batch, mesh, rules, batch_dim=1)   # this process's rows only

PartitionSpecs are built here and in models/sharding.py only; model code names logical axes.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np
from flax import nnx
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from mighty.models.multihost import (  # noqa: F401  (re-exported: the runtime half of this module)
    ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID, _get, allgather_objects, distributed_args,
    host_rows, initialize_distributed, is_primary, process_key, to_host)
from mighty.models.sharding import DEFAULT_RULES, LOGICAL_AXES, logical_to_mesh_spec

log = logging.getLogger(__name__)

MESH_AXES = ("data", "fsdp", "tensor")
REMAT_POLICIES = ("none", "full", "dots", "dots_no_batch")


# ----------------------------------------------------------------------------- mesh and rules


def mesh_shape(cfg: Any, n_devices: int) -> tuple[int, ...]:
    """(data, fsdp, tensor) sizes for `n_devices`; at most one -1 (fills the rest)."""
    shape = dict(_get(cfg, "shape", {}) or {})
    unknown = set(shape) - set(MESH_AXES)
    if unknown:
        raise ValueError(f"mesh.shape has unknown axes {sorted(unknown)}; axes are {MESH_AXES}")
    sizes = [int(shape.get(a, 1)) for a in MESH_AXES]
    if sizes.count(-1) > 1 or any(s == 0 or s < -1 for s in sizes):
        raise ValueError(f"mesh.shape={shape}: sizes must be positive, with at most one -1")
    fixed = int(np.prod([s for s in sizes if s != -1]))
    if -1 not in sizes and fixed < n_devices:  # e.g. `single` on a multi-device host
        log.info("mesh.shape=%s uses %d of %d devices", shape, fixed, n_devices)
        return tuple(sizes)
    if -1 in sizes:
        if n_devices % fixed:
            raise ValueError(f"mesh.shape={shape}: {n_devices} devices are not divisible by {fixed}")
        sizes[sizes.index(-1)] = n_devices // fixed
    if int(np.prod(sizes)) != n_devices:
        raise ValueError(f"mesh.shape={shape} needs {int(np.prod(sizes))} devices but {n_devices} "
                         f"are visible; use -1 for one axis or set XLA_FLAGS / the job's device count")
    return tuple(sizes)


def make_mesh(cfg: Any = None, devices=None) -> Mesh:
    """The (data, fsdp, tensor) mesh over all global devices (or `devices`), Auto axis types.

    `cfg` None is one device. jax 0.10 defaults to Explicit axes; Auto keeps GSPMD propagation
    (the embedding gather, the sampler's dynamic slices) working unannotated.
    """
    if cfg is None:
        devices = list(devices or jax.devices()[:1])
    devices = list(devices or jax.devices())
    sizes = mesh_shape(cfg, len(devices))
    devices = devices[:int(np.prod(sizes))]
    return jax.make_mesh(sizes, MESH_AXES, axis_types=(AxisType.Auto,) * 3, devices=devices)


def mesh_rules(cfg: Any = None) -> tuple[tuple[str, Any], ...]:
    """The rules table: `mesh.rules` (mapping logical -> mesh axis / list / null) or the default."""
    rules = _get(cfg, "rules", "default")
    if rules == "default":
        return DEFAULT_RULES
    table = {str(k): (v if v is None or isinstance(v, str) else tuple(v)) for k, v in dict(rules).items()}
    missing = [a for a in LOGICAL_AXES if a not in table]
    if missing:
        raise ValueError(f"mesh.rules lacks logical axes {missing}; give each a mesh axis or null")
    for name, target in table.items():
        axes = (target,) if isinstance(target, str) else tuple(target or ())
        bad = [a for a in axes if a not in MESH_AXES]
        if bad:
            raise ValueError(f"mesh.rules.{name} names unknown mesh axes {bad}; axes are {MESH_AXES}")
    return tuple(table.items())


def remat_policy(cfg: Any = None) -> str:
    policy = str(_get(cfg, "remat", "none"))
    if policy not in REMAT_POLICIES:
        raise ValueError(f"mesh.remat={policy!r}; choose one of {REMAT_POLICIES}")
    return policy


def fit_spec(spec: PartitionSpec, shape: tuple[int, ...], mesh: Mesh) -> PartitionSpec:
    """Drop mesh axes that do not divide their dimension (e.g. 28 heads on tensor=8)."""
    out = []
    for dim, axes in zip(shape, tuple(spec) + (None,) * (len(shape) - len(spec))):
        names = (axes,) if isinstance(axes, str) else tuple(axes or ())
        kept, size = [], 1
        for a in names:
            if dim % (size * mesh.shape[a]) == 0:
                kept.append(a)
                size *= mesh.shape[a]
        out.append(None if not kept else kept[0] if len(kept) == 1 else tuple(kept))
    return PartitionSpec(*out)


def logical_sharding(logical: tuple, shape: tuple[int, ...], mesh: Mesh, rules=DEFAULT_RULES) -> NamedSharding:
    """The sharding of an array of `shape` whose dimensions carry `logical` axis names."""
    return NamedSharding(mesh, fit_spec(logical_to_mesh_spec(logical, rules, mesh), shape, mesh))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


# ----------------------------------------------------------------------------- parameters


def logical_axes(model_or_state) -> dict:
    """Pure-dict tree (like `nnx.to_pure_dict(params)`) of each parameter's logical axes."""
    state = model_or_state if isinstance(model_or_state, nnx.State) else nnx.state(model_or_state, nnx.Param)
    axes = jax.tree.map(lambda v: v.get_metadata().get("out_sharding"), state,
                        is_leaf=lambda x: isinstance(x, nnx.Variable))
    return nnx.to_pure_dict(axes) if isinstance(axes, nnx.State) else axes


def params_shardings(model_or_state, mesh: Mesh, rules=DEFAULT_RULES) -> dict:
    """Pure-dict tree of NamedSharding for a model's (or abstract model's) parameters."""
    state = model_or_state if isinstance(model_or_state, nnx.State) else nnx.state(model_or_state, nnx.Param)
    flat = {path: logical_sharding(var.get_metadata().get("out_sharding"), var.shape, mesh, rules)
            for path, var in nnx.to_flat_state(state)}
    return nnx.to_pure_dict(nnx.from_flat_state(flat))


def init_sharded(make_model: Callable[[], nnx.Module], mesh: Mesh, rules=DEFAULT_RULES):
    """Parameters born sharded: shapes from `nnx.eval_shape`, values from one jitted init
    whose `out_shardings` place every shard where it lives (no full copy on any device).

    Returns (graphdef, params pure dict, rest, params' shardings) — the first three as
    `nnx.split(model, nnx.Param, ...)` gives them.
    """
    abstract = nnx.eval_shape(make_model)
    shardings = params_shardings(abstract, mesh, rules)
    graphdef, _, rest_abs = nnx.split(abstract, nnx.Param, ...)

    def init():
        _, params, rest = nnx.split(make_model(), nnx.Param, ...)
        return nnx.to_pure_dict(params), rest

    rest_sh = jax.tree.map(lambda _: replicated(mesh), rest_abs)
    params, rest = jax.jit(init, out_shardings=(shardings, rest_sh))()
    return graphdef, params, rest, shardings


def init_model(make_model: Callable[[], nnx.Module], mesh: Mesh, rules=DEFAULT_RULES) -> nnx.Module:
    """`make_model()` as a module whose parameters are born sharded (see `init_sharded`)."""
    graphdef, params, rest, _ = init_sharded(make_model, mesh, rules)
    return nnx.merge(graphdef, params, rest)


def put_sharded(x, sharding: NamedSharding) -> jax.Array:
    """A host array (the same on every process) -> a global array: each device receives only
    its own slice, so no full copy ever sits on one device, on one process or many."""
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])


def shard_params(params, shardings):
    """Place an existing (host or single-device) params tree on the mesh."""
    return jax.device_put(params, shardings)


def state_shardings(state, params_sh, mesh: Mesh):
    """Shardings for a train state `{params, opt..., step}`: every leaf whose path ends with a
    parameter's path and has its shape (params, Adam's μ and ν, ...) follows that parameter;
    everything else (step counters, scalars) is replicated."""
    by_path = {}
    for path, sh in jax.tree_util.tree_flatten_with_path(params_sh)[0]:
        by_path[tuple(path)] = sh
    shapes = {tuple(p): np.shape(x) for p, x in jax.tree_util.tree_flatten_with_path(
        state.get("params") if isinstance(state, Mapping) and "params" in state else state)[0]}

    def pick(path, leaf):
        path = tuple(path)
        for i in range(len(path)):
            sh = by_path.get(path[i:])
            if sh is not None and shapes.get(path[i:]) == np.shape(leaf):
                return sh
        return replicated(mesh)

    return jax.tree_util.tree_map_with_path(pick, state)


def shard_state(state, params_sh, mesh: Mesh):
    """Place a train state on the mesh (see `state_shardings`); returns (state, shardings)."""
    sh = state_shardings(state, params_sh, mesh)
    return jax.device_put(state, sh), sh


def born(make_model: Callable[[], nnx.Module], layout: "Layout | None" = None) -> nnx.Module:
    """`make_model()`, its parameters born sharded on `layout` (eager on one device if None)."""
    return make_model() if layout is None else init_model(make_model, layout.mesh, layout.rules)


def placement(layout: "Layout | None" = None) -> dict:
    """`models.load_pretrained` keywords that put each tensor on its shards as it is read."""
    return {} if layout is None else {"mesh": layout.mesh, "rules": layout.rules}


# ----------------------------------------------------------------------------- batches


def batch_sharding(mesh: Mesh, ndim: int, rules=DEFAULT_RULES, batch_dim: int = 0) -> NamedSharding:
    """Dimension `batch_dim` over the mesh axes of the logical `batch` axis, the rest replicated."""
    if ndim <= batch_dim:
        return replicated(mesh)
    logical = [None] * ndim
    logical[batch_dim] = "batch"
    return NamedSharding(mesh, logical_to_mesh_spec(tuple(logical), rules, mesh))


def batch_shardings(batch, mesh: Mesh, rules=DEFAULT_RULES, batch_dim: int = 0):
    return jax.tree.map(lambda x: batch_sharding(mesh, np.ndim(x), rules, batch_dim), batch)


def batch_split(mesh: Mesh, rules=DEFAULT_RULES) -> int:
    """How many ways the batch dimension is split (its size must be a multiple of this)."""
    spec = logical_to_mesh_spec(("batch",), rules, mesh)[0]
    names = (spec,) if isinstance(spec, str) else tuple(spec or ())
    return int(np.prod([mesh.shape[a] for a in names])) if names else 1


def process_rows(n_global: int, mesh: Mesh | None = None, rules=DEFAULT_RULES) -> slice:
    """This process's rows of a global batch of `n_global` (all of them on one process).

    Rows follow the device order of the batch axes, so process p's rows are one contiguous
    block; each process loads only that block (`shard_batch` assembles the global array).
    """
    if mesh is None or jax.process_count() == 1:
        return slice(0, n_global)
    sh = batch_sharding(mesh, 1, rules)
    idx = sh.addressable_devices_indices_map((n_global,))
    starts = [i[0].start or 0 for i in idx.values()]
    stops = [n_global if i[0].stop is None else i[0].stop for i in idx.values()]
    return slice(min(starts), max(stops))


def shard_batch(batch, mesh: Mesh, rules=DEFAULT_RULES, batch_dim: int = 0, *, global_rows: int | None = None):
    """Host batch (this process's rows, see `process_rows`) -> global arrays sharded on `batch`.

    On one process `batch` is the whole batch. Scalars are replicated (every process passes
    the same value).
    """
    def put(x):
        x = np.asarray(x)
        sh = batch_sharding(mesh, x.ndim, rules, batch_dim)
        if x.ndim <= batch_dim:
            return jax.make_array_from_process_local_data(sh, x, x.shape)
        shape = list(x.shape)
        if global_rows is not None:
            shape[batch_dim] = global_rows
        elif jax.process_count() > 1:
            rows = process_rows(1 << 20, mesh, rules)  # the share of a large power of two
            shape[batch_dim] = x.shape[batch_dim] * (1 << 20) // (rows.stop - rows.start)
        return jax.make_array_from_process_local_data(sh, x, tuple(shape))

    return jax.tree.map(put, batch)


class Layout:
    """The mesh, rules and remat policy of one run, with the helpers the host loops need."""

    def __init__(self, cfg: Any = None, devices=None):
        self.cfg = cfg
        self.mesh = make_mesh(cfg, devices) if cfg is not None else make_mesh(None, devices)
        self.rules = mesh_rules(cfg)
        self.remat = remat_policy(cfg)

    @property
    def batch_split(self) -> int:
        return batch_split(self.mesh, self.rules)

    def params(self, model_or_state) -> dict:
        return params_shardings(model_or_state, self.mesh, self.rules)

    def shard_params(self, params, model_or_state):
        return jax.device_put(params, self.params(model_or_state))

    def state(self, state, params_sh):
        return shard_state(state, params_sh, self.mesh)

    def batch(self, batch, batch_dim: int = 0, **kw):
        return shard_batch(batch, self.mesh, self.rules, batch_dim, **kw)

    def rows(self, n_global: int) -> slice:
        return process_rows(n_global, self.mesh, self.rules)

    @property
    def replicated(self) -> NamedSharding:
        return replicated(self.mesh)
