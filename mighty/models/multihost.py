"""The multi-host runtime: joining `jax.distributed` from config or environment, which process
writes, per-process keys, and moving global arrays and host objects between processes.

Kept apart from models/mesh.py (shardings) so both stay short; models.mesh re-exports it.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

log = logging.getLogger(__name__)

# env overrides of the distributed settings (a plain coordinator, no SLURM / TPU detection)
ENV_COORDINATOR = "MIGHTY_COORDINATOR_ADDRESS"
ENV_NUM_PROCESSES = "MIGHTY_NUM_PROCESSES"
ENV_PROCESS_ID = "MIGHTY_PROCESS_ID"


def _get(cfg: Any, key: str, default=None):
    if cfg is None:
        return default
    value = cfg.get(key, default) if hasattr(cfg, "get") else getattr(cfg, key, default)
    return default if value is None else value


def to_host(tree):
    """Global arrays -> NumPy on every process (all-gathers shards another process holds)."""
    def get(x):
        if not isinstance(x, jax.Array) or x.is_fully_addressable or x.is_fully_replicated:
            return np.asarray(jax.device_get(x))
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    return jax.tree.map(get, tree)


def host_rows(tree, rows: slice):
    """Global arrays -> NumPy rows `rows` (this process's block, `process_rows`) on every
    process, read from its own shards only: no collective, so each host scores its rows."""
    def get(x):
        if x.is_fully_addressable:
            return np.asarray(jax.device_get(x))[rows]
        n = x.shape[0]
        out = np.zeros((rows.stop - rows.start, *x.shape[1:]), x.dtype)
        filled = np.zeros(out.shape, bool)
        for shard in x.addressable_shards:
            start, stop, _ = shard.index[0].indices(n) if shard.index else (0, n, 1)
            lo, hi = max(start, rows.start), min(stop, rows.stop)
            if lo < hi:
                dst = (slice(lo - rows.start, hi - rows.start),) + tuple(shard.index[1:])
                out[dst] = np.asarray(shard.data)[lo - start:hi - start]
                filled[dst] = True
        if not filled.all():
            raise ValueError(f"host_rows: rows {rows.start}:{rows.stop} of a {x.shape} array with "
                             f"{x.sharding} are not all on this process; shard the batch dimension "
                             f"like the rows (models.mesh.batch_sharding)")
        return out

    return jax.tree.map(get, tree)


def allgather_objects(obj) -> list:
    """[obj of process 0, obj of process 1, ...] on every process (pickled host data, e.g.
    reward scores and per-item infos); [obj] on one process. Every process must call it."""
    if jax.process_count() == 1:
        return [obj]
    import pickle

    from jax.experimental import multihost_utils

    data = np.frombuffer(pickle.dumps(obj), np.uint8)
    sizes = np.asarray(multihost_utils.process_allgather(np.asarray([data.size], np.int32)))[:, 0]
    buf = np.zeros(int(sizes.max()), np.uint8)  # allgather needs one shape on every process
    buf[:data.size] = data
    every = np.asarray(multihost_utils.process_allgather(buf))  # (processes, max bytes)
    return [pickle.loads(every[i, :int(n)].tobytes()) for i, n in enumerate(sizes)]


def distributed_args(cfg: Any = None, env: Mapping[str, str] | None = None) -> dict | None:
    """Keyword arguments for `jax.distributed.initialize`, or None for a single process.

    Precedence: `mesh.distributed.coordinator_address` / MIGHTY_COORDINATOR_ADDRESS (with
    num_processes and process_id from config or MIGHTY_NUM_PROCESSES / MIGHTY_PROCESS_ID),
    then SLURM (SLURM_NTASKS > 1: JAX reads the step's node list, SLURM_PROCID and
    SLURM_LOCALID itself), then a Cloud TPU VM slice (`mesh.distributed.auto: true`, JAX
    asks the TPU metadata server). One process otherwise.
    """
    env = os.environ if env is None else env
    d = _get(cfg, "distributed", {}) or {}
    if not _get(d, "enabled", True):
        return None
    timeout = int(_get(d, "timeout_s", 300))
    address = _get(d, "coordinator_address") or env.get(ENV_COORDINATOR)
    if address:
        n = _get(d, "num_processes") or env.get(ENV_NUM_PROCESSES)
        pid = _get(d, "process_id")
        pid = env.get(ENV_PROCESS_ID) if pid is None else pid
        if n is None or pid is None:
            raise ValueError(f"coordinator {address} given without num_processes and process_id: set "
                             f"mesh.distributed.* or {ENV_NUM_PROCESSES} and {ENV_PROCESS_ID}")
        return dict(coordinator_address=str(address), num_processes=int(n), process_id=int(pid),
                    initialization_timeout=timeout)
    if int(env.get("SLURM_NTASKS", "1")) > 1 and "SLURM_JOB_ID" in env:
        return dict(cluster_detection_method="slurm", initialization_timeout=timeout)
    if _get(d, "auto", False):
        return dict(initialization_timeout=timeout)
    return None


def initialize_distributed(cfg: Any = None, env: Mapping[str, str] | None = None) -> bool:
    """Join the multi-controller runtime when the config / environment asks for it.

    Must run before anything touches a device. Returns True when this is a multi-process run.
    CPU processes exchange collectives over gloo (`jax_cpu_collectives_implementation`).
    """
    args = distributed_args(cfg, env)
    if args is None:
        return False
    if jax.distributed.is_initialized():
        return True
    jax.config.update("jax_cpu_collectives_implementation",
                      str(_get(_get(cfg, "distributed", {}), "cpu_collectives", "gloo")))
    jax.distributed.initialize(**args)
    log.info("jax.distributed: process %d of %d, %d local / %d global devices", jax.process_index(),
             jax.process_count(), jax.local_device_count(), jax.device_count())
    return True


def is_primary() -> bool:
    """Process 0 writes logs, manifests and exports; every process writes its checkpoint shards."""
    return jax.process_index() == 0


def process_key(key: jax.Array) -> jax.Array:
    """A per-process key (`fold_in(key, process_index)`): each host samples different rows."""
    return jax.random.fold_in(key, jax.process_index()) if jax.process_count() > 1 else key
