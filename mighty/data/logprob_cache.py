"""On-disk cache of teacher samples and their top-K logprobs, in fixed-size safetensors shards.

Layout of a cache directory:
  shard_00000.safetensors  tokens [R,N] i32, mask [R,N] i8, logprobs [R,N] f32,
                           topk_ids [R,N,K] i32, topk_logprobs [R,N,K] f32, lengths [R] i32,
                           truncated [R] i8  (R = shard_rows, the last shard may be shorter)
  shard_00000.jsonl        one row per sample: prompt_id, issue_id, question, answer, coverage, keep
  manifest.json            teacher, sampling, config hash, shard list with sha256 and row counts
Shards are written to a tmp name and renamed, so a shard exists whole or not at all; the
safetensors file is renamed last and marks the shard complete. Everything here is
byte-deterministic (sorted keys, no timestamps).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from mighty.runtime import atomic_write_json, file_sha256

ARRAYS = {"tokens": np.int32, "mask": np.int8, "logprobs": np.float32, "topk_ids": np.int32,
          "topk_logprobs": np.float32, "lengths": np.int32, "truncated": np.int8}
MANIFEST = "manifest.json"
META_KEY = "mighty"


class CacheError(RuntimeError):
    """A cache directory that is corrupt, incomplete or from a different config."""


def shard_stem(index: int) -> str:
    return f"shard_{index:05d}"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_shard(cache_dir: str | Path, index: int, arrays: dict[str, np.ndarray],
                rows: list[dict], metadata: dict[str, str]) -> dict[str, Any]:
    """Writes one shard atomically; returns its manifest entry."""
    from safetensors.numpy import save

    cache_dir = Path(cache_dir)
    missing = set(ARRAYS) - set(arrays)
    if missing:
        raise ValueError(f"write_shard: missing arrays {sorted(missing)}")
    n = len(rows)
    bad = {k: v.shape for k, v in arrays.items() if v.shape[0] != n}
    if bad:
        raise ValueError(f"write_shard: {n} rows but arrays have leading dims {bad}")
    tensors = {k: np.ascontiguousarray(arrays[k], dtype=ARRAYS[k]) for k in sorted(ARRAYS)}
    stem = shard_stem(index)
    _atomic_write_bytes(cache_dir / f"{stem}.jsonl", "".join(
        json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))
    # one metadata key: safetensors serialises its metadata map in hash order
    _atomic_write_bytes(cache_dir / f"{stem}.safetensors",
                        save(tensors, metadata={META_KEY: json.dumps(metadata, sort_keys=True)}))
    return shard_entry(cache_dir, index)


def shard_entry(cache_dir: Path, index: int) -> dict[str, Any]:
    stem = shard_stem(index)
    rows = sum(1 for _ in open(cache_dir / f"{stem}.jsonl", encoding="utf-8"))
    return {"index": index, "rows": rows,
            "safetensors": f"{stem}.safetensors", "safetensors_sha256": file_sha256(cache_dir / f"{stem}.safetensors"),
            "jsonl": f"{stem}.jsonl", "jsonl_sha256": file_sha256(cache_dir / f"{stem}.jsonl")}


def shard_done(cache_dir: Path, index: int) -> bool:
    stem = shard_stem(index)
    return (cache_dir / f"{stem}.safetensors").exists() and (cache_dir / f"{stem}.jsonl").exists()


def shard_metadata(cache_dir: Path, index: int) -> dict[str, str]:
    from safetensors import safe_open

    with safe_open(str(cache_dir / f"{shard_stem(index)}.safetensors"), "np") as f:
        return json.loads((f.metadata() or {}).get(META_KEY, "{}"))


def write_cache_manifest(cache_dir: str | Path, manifest: dict[str, Any]) -> Path:
    path = Path(cache_dir) / MANIFEST
    atomic_write_json(path, manifest)
    return path


class LogprobCache:
    """Reads a finished cache; `verify=True` checks every shard's sha256 against the manifest."""

    def __init__(self, cache_dir: str | Path, *, verify: bool = True):
        self.dir = Path(cache_dir)
        path = self.dir / MANIFEST
        if not path.exists():
            raise CacheError(f"{path}: no manifest; the labeling run did not finish "
                             f"(rerun `python -m mighty.data.label` with the same out_dir to resume)")
        self.manifest = json.loads(path.read_text(encoding="utf-8"))
        self.shards = self.manifest["shards"]
        if verify:
            for s in self.shards:
                for kind in ("safetensors", "jsonl"):
                    actual = file_sha256(self.dir / s[kind])
                    if actual != s[f"{kind}_sha256"]:
                        raise CacheError(f"{self.dir / s[kind]}: sha256 {actual} != manifest "
                                         f"{s[kind + '_sha256']} (the cache was modified; relabel)")

    def __len__(self) -> int:
        return sum(s["rows"] for s in self.shards)

    def shard(self, i: int) -> tuple[dict[str, np.ndarray], list[dict]]:
        from safetensors.numpy import load_file

        s = self.shards[i]
        rows = [json.loads(line) for line in open(self.dir / s["jsonl"], encoding="utf-8")]
        return load_file(str(self.dir / s["safetensors"])), rows

    def iter_rows(self, *, only_kept: bool = False) -> Iterator[dict[str, Any]]:
        """One dict per sample: the jsonl fields plus arrays cut to the generated length."""
        for i in range(len(self.shards)):
            arrays, rows = self.shard(i)
            for r, row in enumerate(rows):
                if only_kept and not row.get("keep", True):
                    continue
                n = int(arrays["lengths"][r])
                yield {**row, **{k: arrays[k][r, :n] for k in ("tokens", "mask", "logprobs",
                                                               "topk_ids", "topk_logprobs")},
                       "truncated": bool(arrays["truncated"][r])}

    def arrays(self) -> dict[str, np.ndarray]:
        """All shards concatenated along rows."""
        parts = [self.shard(i)[0] for i in range(len(self.shards))]
        return {k: np.concatenate([p[k] for p in parts]) for k in ARRAYS} if parts else {}
