"""Run infrastructure shared by every stage: run directories and manifests, config hashes,
metrics, checkpoints, PRNG streams, the compute-dtype probe (`runtime.precision`) and the
bootstrap CIs (`runtime.ci`).

The bottom of the dependency graph: it imports no project package, so data, models, KD, GRPO,
eval and the pipeline all use it without cycles or sideways imports.
"""
from mighty.runtime.ckpt import Checkpointer
from mighty.runtime.manifest import (
    atomic_write_json,
    config_hash,
    file_sha256,
    git_commit,
    read_manifest,
    tree_sha256,
    write_manifest,
)
from mighty.runtime.metrics import MetricsLogger
from mighty.runtime.rng import RngStreams

__all__ = [
    "Checkpointer",
    "MetricsLogger",
    "RngStreams",
    "atomic_write_json",
    "config_hash",
    "file_sha256",
    "git_commit",
    "read_manifest",
    "tree_sha256",
    "write_manifest",
]
