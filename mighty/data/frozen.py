"""The frozen eval set: `eval/manifest.json` holds the sha256 of every eval file and is checked
on every load. Format (shared with `python -m mighty.data.corpus.generate`):

    {"seed": ..., "sha256": {"eval/eval.jsonl": "<hex>", "eval/heldout_issues.json": "<hex>"}}

Paths are relative to the corpus root (the eval dir's parent).
"""
from __future__ import annotations

import json
from pathlib import Path

from mighty.runtime import file_sha256

MANIFEST = "manifest.json"
REGEN = "python -m mighty.data.freeze --eval-dir {dir}"


class FrozenDataError(RuntimeError):
    """An eval file differs from its manifest (or is missing/unlisted)."""


def _frozen_files(eval_dir: Path) -> list[Path]:
    return sorted(p for p in eval_dir.rglob("*") if p.is_file() and p.name != MANIFEST
                  and not p.name.startswith(".") and "__pycache__" not in p.parts)


def _key(eval_dir: Path, path: Path) -> str:
    return path.relative_to(eval_dir.parent).as_posix()


def write_freeze_manifest(eval_dir: str | Path) -> Path:
    """Hashes every file under `eval_dir` into `eval_dir/manifest.json` (other keys kept)."""
    eval_dir = Path(eval_dir)
    files = _frozen_files(eval_dir)
    if not files:
        raise FileNotFoundError(f"{eval_dir}: no eval files to freeze")
    out = eval_dir / MANIFEST
    doc = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    doc["sha256"] = {_key(eval_dir, p): file_sha256(p) for p in files}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out


def read_manifest(eval_dir: str | Path) -> dict[str, str]:
    """{path relative to the corpus root: sha256}; raises with the fix if missing or malformed."""
    eval_dir = Path(eval_dir)
    path = eval_dir / MANIFEST
    regen = REGEN.format(dir=eval_dir)
    if not path.exists():
        raise FrozenDataError(f"{path}: missing eval manifest (freeze the eval set with `{regen}`)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise FrozenDataError(f"{path}:{e.lineno}: bad JSON: {e.msg} (regenerate with `{regen}`)") from e
    entries = doc.get("sha256") if isinstance(doc, dict) else None
    if not isinstance(entries, dict) or not all(isinstance(v, str) and len(v) == 64
                                                for v in entries.values()):
        raise FrozenDataError(f"{path}:1: expected {{\"sha256\": {{file: hex digest}}}} "
                              f"(regenerate with `{regen}`)")
    return entries


def verify_manifest(eval_dir: str | Path) -> dict[str, str]:
    """Raises `FrozenDataError` naming the file and expected/actual hash on any mismatch."""
    eval_dir = Path(eval_dir)
    expected = read_manifest(eval_dir)
    how = (f"if the change is intentional, re-freeze with `{REGEN.format(dir=eval_dir)}` and "
           f"say so in the commit; otherwise restore the file from git")
    for name, digest in sorted(expected.items()):
        path = eval_dir.parent / name
        if not path.exists():
            raise FrozenDataError(f"{path}: frozen eval file is missing ({how})")
        actual = file_sha256(path)
        if actual != digest:
            raise FrozenDataError(f"{path}: eval file changed: expected sha256 {digest}, "
                                  f"actual {actual} ({how})")
    extra = sorted({_key(eval_dir, p) for p in _frozen_files(eval_dir)} - set(expected))
    if extra:
        raise FrozenDataError(f"{eval_dir.parent / extra[0]}: file in the eval dir is not in "
                              f"{MANIFEST} ({how})")
    return expected
