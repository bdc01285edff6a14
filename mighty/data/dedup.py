"""Exact and near-duplicate removal (MinHash + LSH over word shingles, `datasketch`).

The first record of each cluster (in input order) is kept, so the result is deterministic.
LSH candidates are confirmed with the exact Jaccard of the shingle sets, so no false positive
from hashing ever drops a record.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Any, Callable, Sequence

from datasketch import MinHash, MinHashLSH

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def shingles(text: str, n: int = 3) -> set[str]:
    """Lower-cased word n-grams; a text shorter than n words is one shingle."""
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def exact_key(text: str) -> str:
    """Hash of the text with case, punctuation and spacing ignored."""
    return hashlib.sha1(" ".join(_WORD.findall(text.lower())).encode()).hexdigest()


def _minhash(sh: set[str], num_perm: int, seed: int) -> MinHash:
    m = MinHash(num_perm=num_perm, seed=seed)
    m.update_batch([s.encode() for s in sorted(sh)])
    return m


@dataclasses.dataclass
class DedupResult:
    kept: list[dict]
    n_in: int
    n_exact: int
    n_near: int
    clusters: dict[str, list[str]]  # kept id -> ids removed as its duplicates

    def as_dict(self) -> dict[str, Any]:
        return {"in": self.n_in, "kept": len(self.kept), "exact_dups": self.n_exact,
                "near_dups": self.n_near, "clusters": len(self.clusters)}


def dedup(records: Sequence[dict], *, text: Callable[[dict], str], id_field: str,
          threshold: float = 0.8, ngram: int = 3, num_perm: int = 128, seed: int = 1,
          ) -> DedupResult:
    """Removes exact duplicates, then records whose shingle Jaccard with a kept one ≥ threshold."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")
    # a lower LSH threshold trades speed for recall; exact Jaccard confirms every candidate
    lsh = MinHashLSH(threshold=min(0.9, max(0.05, threshold - 0.15)), num_perm=num_perm)
    seen_exact: dict[str, str] = {}
    kept_shingles: dict[str, set[str]] = {}
    kept, clusters, n_exact, n_near = [], {}, 0, 0
    for rec in records:
        rid, body = str(rec[id_field]), text(rec)
        key = exact_key(body)
        if key in seen_exact:
            clusters.setdefault(seen_exact[key], []).append(rid)
            n_exact += 1
            continue
        sh = shingles(body, ngram)
        mh = _minhash(sh, num_perm, seed)
        match = _best_match(lsh.query(mh), sh, kept_shingles, threshold)
        if match is not None:
            clusters.setdefault(match, []).append(rid)
            n_near += 1
            continue
        if rid in kept_shingles:
            raise ValueError(f"dedup: duplicate {id_field} {rid!r} (ids must be unique)")
        seen_exact[key] = rid
        kept_shingles[rid] = sh
        lsh.insert(rid, mh)
        kept.append(rec)
    return DedupResult(kept, len(records), n_exact, n_near, clusters)


def _best_match(candidates: list[str], sh: set[str], kept: dict[str, set[str]],
                threshold: float) -> str | None:
    scored = [(jaccard(sh, kept[c]), c) for c in candidates]
    scored = [(j, c) for j, c in scored if j >= threshold]
    # highest Jaccard wins; ties broken by id so the result does not depend on LSH bucket order
    return min(scored, key=lambda jc: (-jc[0], jc[1]))[1] if scored else None
