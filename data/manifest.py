"""The `manifest.json` every stage writes next to its artefacts."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def git_commit(cwd: str | Path | None = None) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_manifest(out_dir: str | Path, **fields: Any) -> Path:
    path = Path(out_dir) / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    fields.setdefault("git_commit", git_commit(Path(__file__).parent))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(fields, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
