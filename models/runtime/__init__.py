"""Run infrastructure shared by every stage: run directories and manifests, metrics,
checkpoints and PRNG streams.

It lives at the bottom of the dependency graph (beside the model code) so that data
labeling, KD, GRPO, eval and the pipeline can all use it without import cycles.
"""
from models.runtime.ckpt import Checkpointer
from models.runtime.manifest import (
    atomic_write_json,
    config_hash,
    file_sha256,
    git_commit,
    read_manifest,
    tree_sha256,
    write_manifest,
)
from models.runtime.metrics import MetricsLogger
from models.runtime.rng import RngStreams

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
