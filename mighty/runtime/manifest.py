"""Run manifests: the lineage record every stage writes next to its artefacts."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping

from mighty.runtime import precision

MANIFEST = "manifest.json"
# Keys that change how a stage runs but not what it produces; they never enter the hash.
NON_SEMANTIC_KEYS = frozenset({"force", "run_dir", "output_dir", "logger", "progress", "hydra"})


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _strip(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _strip(v) for k, v in sorted(obj.items()) if k not in NON_SEMANTIC_KEYS}
    if isinstance(obj, (list, tuple)):
        return [_strip(v) for v in obj]
    return obj


def config_hash(cfg: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a resolved config, minus non-semantic keys. An `auto`
    dtype is hashed as the dtype it resolves to here (runtime.precision): bf16 and f32 runs
    of one config are different outputs."""
    blob = json.dumps(_strip(precision.resolve_auto(cfg)), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def tree_sha256(path: str | os.PathLike) -> str:
    """Hash of a file, or of every file below a directory (relative names included)."""
    path = Path(path)
    if path.is_file():
        return file_sha256(path)
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file() and q.name != MANIFEST):
        h.update(str(p.relative_to(path)).encode())
        h.update(file_sha256(p).encode())
    return h.hexdigest()


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).parent,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def write_manifest(run_dir: str | os.PathLike, *, stage: str, cfg: Mapping[str, Any],
                   inputs: Mapping[str, str | os.PathLike] | None = None,
                   parent: str | os.PathLike | None = None, seed: int | None = None,
                   started: float | None = None, **stats: Any) -> dict:
    """Write `<run_dir>/manifest.json`: config and hash, commit, input hashes, parent, stats.

    `stats` carries the stage's own numbers (tokens processed, FLOPs estimate, judge calls…).
    """
    run_dir = Path(run_dir)
    manifest = {
        "stage": stage,
        "config": _strip(cfg),
        "config_hash": config_hash(cfg),
        "git_commit": git_commit(),
        "inputs": {k: {"path": str(v), "sha256": tree_sha256(v)} for k, v in (inputs or {}).items()},
        "parent": None if parent is None else {"path": str(parent), "sha256": tree_sha256(parent)},
        "seed": seed,
        "wall_time_s": None if started is None else round(time.time() - started, 3),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "precision": precision.record(cfg),  # the dtypes it ran in; for `auto`, why
        **stats,
    }
    atomic_write_json(run_dir / MANIFEST, manifest)
    return manifest


def read_manifest(run_dir: str | os.PathLike) -> dict | None:
    path = Path(run_dir) / MANIFEST
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)
