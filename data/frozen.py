"""The frozen eval set: a sha256 manifest (`sha256sum -c` format) checked on every load."""
from __future__ import annotations

import hashlib
from pathlib import Path

MANIFEST = "MANIFEST.sha256"
REGEN = "python -m data.freeze --eval-dir {dir}"


class FrozenDataError(RuntimeError):
    """An eval file differs from its manifest (or is missing/unlisted)."""


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _frozen_files(eval_dir: Path) -> list[Path]:
    return sorted(p for p in eval_dir.rglob("*") if p.is_file() and p.name != MANIFEST
                  and not p.name.startswith(".") and "__pycache__" not in p.parts)


def write_manifest(eval_dir: str | Path) -> Path:
    """Hashes every file under `eval_dir` into `eval_dir/MANIFEST.sha256`; returns its path."""
    eval_dir = Path(eval_dir)
    files = _frozen_files(eval_dir)
    if not files:
        raise FileNotFoundError(f"{eval_dir}: no eval files to freeze")
    lines = [f"{sha256_file(p)}  {p.relative_to(eval_dir).as_posix()}\n" for p in files]
    out = eval_dir / MANIFEST
    tmp = out.with_suffix(".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(out)
    return out


def read_manifest(eval_dir: str | Path) -> dict[str, str]:
    """{relative path: sha256}; raises with the fix if the manifest is missing or malformed."""
    eval_dir = Path(eval_dir)
    path = eval_dir / MANIFEST
    if not path.exists():
        raise FrozenDataError(f"{path}: missing eval manifest (freeze the eval set with "
                              f"`{REGEN.format(dir=eval_dir)}`)")
    entries = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise FrozenDataError(f"{path}:{line_no}: expected '<sha256>  <file>' "
                                  f"(regenerate with `{REGEN.format(dir=eval_dir)}`)")
        entries[name.strip()] = digest
    return entries


def verify_manifest(eval_dir: str | Path) -> dict[str, str]:
    """Raises `FrozenDataError` naming the file and expected/actual hash on any mismatch."""
    eval_dir = Path(eval_dir)
    expected = read_manifest(eval_dir)
    how = (f"if the change is intentional, re-freeze with `{REGEN.format(dir=eval_dir)}` and "
           f"note it in the changelog; otherwise restore the file from git")
    for name, digest in sorted(expected.items()):
        path = eval_dir / name
        if not path.exists():
            raise FrozenDataError(f"{path}: frozen eval file is missing ({how})")
        actual = sha256_file(path)
        if actual != digest:
            raise FrozenDataError(f"{path}: eval file changed: expected sha256 {digest}, "
                                  f"actual {actual} ({how})")
    extra = [p.relative_to(eval_dir).as_posix() for p in _frozen_files(eval_dir)]
    extra = sorted(set(extra) - set(expected))
    if extra:
        raise FrozenDataError(f"{eval_dir / extra[0]}: file in the eval dir is not in "
                              f"{MANIFEST} ({how})")
    return expected
