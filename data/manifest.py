"""The data build's `manifest.json`: exactly the given fields plus the git commit (no
timestamps, so two builds of the same corpus and config write the same file)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime.manifest import atomic_write_json, git_commit


def write_manifest(out_dir: str | Path, **fields: Any) -> Path:
    path = Path(out_dir) / "manifest.json"
    fields.setdefault("git_commit", git_commit(Path(__file__).parent))
    atomic_write_json(path, fields)
    return path
