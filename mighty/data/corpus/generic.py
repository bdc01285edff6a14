"""The generic English retention corpus: WordNet 3.0 glosses, read from the Debian package.

Not authored by us. WordNet 3.0 (c) 2006 Princeton University, distributed under the WordNet 3.0
licence (permissive, BSD-like; see /usr/share/doc/wordnet-base/copyright). Install it with
``apt-get install wordnet-base`` (the Makefile's APT_PACKAGES). Each synset's gloss becomes one
short document: "<lemma>: <definition>. <example sentence>." — everyday English definitions and
usage examples, good for measuring whether the student keeps its general language modelling.
"""
from __future__ import annotations

import functools
import hashlib
import os
import random
import re
from pathlib import Path

DEBIAN_PACKAGE = "wordnet-base"
LICENCE = "WordNet 3.0 licence (Princeton University), permissive"
DEFAULT_DIRS = ("/usr/share/wordnet", "/usr/share/WordNet", "/usr/local/share/wordnet")
ENV_VAR = "MIGHTY_WORDNET_DIR"
PARTS = ("noun", "verb", "adj", "adv")
SPLITS = ("train", "eval", "all")
TRAIN_SHARE = 0.05  # ~5,000 glosses for KD's retention domain (data.retention); the rest for the eval


class GenericCorpusMissing(FileNotFoundError):
    pass


def wordnet_dir() -> Path:
    """Where the WordNet ``data.*`` files live: $MIGHTY_WORDNET_DIR, else the Debian location."""
    candidates = [os.environ[ENV_VAR]] if os.environ.get(ENV_VAR) else list(DEFAULT_DIRS)
    for d in candidates:
        if all((Path(d) / f"data.{p}").is_file() for p in PARTS):
            return Path(d)
    raise GenericCorpusMissing(
        f"generic English corpus not found: looked for data.noun/verb/adj/adv in {candidates}. "
        f"Install the Debian package '{DEBIAN_PACKAGE}' (sudo apt-get install {DEBIAN_PACKAGE}, "
        f"or `make setup`), or point ${ENV_VAR} at a WordNet 3.0 dict directory.")


def parse_data_line(line: str) -> str | None:
    """One ``data.<pos>`` line -> "lemma: definition. Example." (None for licence header lines)."""
    if line.startswith("  ") or "|" not in line:
        return None
    head, gloss = line.split("|", 1)
    fields = head.split()
    n_words = int(fields[3], 16)
    lemma = fields[4].replace("_", " ")
    lemma = re.sub(r"\((a|p|ip)\)$", "", lemma)
    if n_words < 1 or not gloss.strip():
        return None
    parts = [p.strip() for p in gloss.strip().split(";") if p.strip()]
    defs = [p for p in parts if not p.startswith('"')]
    examples = [p.strip('"').strip() for p in parts if p.startswith('"')]
    if not defs:
        return None
    text = f"{lemma}: {'; '.join(defs)}."
    for ex in examples[:2]:
        ex = ex[:1].upper() + ex[1:]
        text += " " + (ex if ex.endswith((".", "!", "?")) else ex + ".")
    return text


def iter_glosses(directory: str | Path | None = None):
    d = Path(directory) if directory else wordnet_dir()
    for pos in PARTS:
        with open(d / f"data.{pos}", encoding="utf-8", errors="replace") as f:
            for line in f:
                doc = parse_data_line(line)
                if doc:
                    yield doc


@functools.lru_cache(maxsize=2)
def _all_docs(directory: str, min_words: int) -> tuple[str, ...]:
    return tuple(d for d in iter_glosses(directory) if len(d.split()) >= min_words)


def generic_split(doc: str) -> str:
    """"train" for the ``TRAIN_SHARE`` of documents whose hash falls lowest, else "eval": the KD
    stage's retention text and the eval's perplexity text never share a document."""
    u = int(hashlib.sha256(doc.encode("utf-8")).hexdigest()[:12], 16) / 16**12
    return "train" if u < TRAIN_SHARE else "eval"


def load_generic(max_docs: int | None = None, *, seed: int = 0, min_words: int = 8,
                 directory: str | Path | None = None, split: str = "all") -> list[str]:
    """Gloss documents of at least ``min_words`` words, from one `split` ("train", "eval" or
    "all"); a seeded sample of ``max_docs`` if given."""
    if split not in SPLITS:
        raise ValueError(f"generic corpus split must be one of {SPLITS}, got {split!r}")
    docs = [d for d in _all_docs(str(directory or wordnet_dir()), min_words)
            if split == "all" or generic_split(d) == split]
    if max_docs is not None and max_docs < len(docs):
        docs = random.Random(seed).sample(docs, max_docs)
    return docs
