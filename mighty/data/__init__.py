"""Corpus loading, cleaning, dedup, tagging, splitting, prompt formatting, retrieval.

See docs/CONTRACTS.md (data/) for the record schemas.
"""
from __future__ import annotations

import functools
from pathlib import Path

from mighty.data.frozen import FrozenDataError, verify_manifest
from mighty.data.io import DataError, LoadReport, load_records
from mighty.data.paths import CORPUS_DIR, EVAL_PATH, KB_PATH, PROMPTS_PATH
from mighty.data.prompts import SYSTEM, format_prompt, kb_context
from mighty.data.retrieval import Retriever, recall_at_k

SPLITS = ("all", "train", "val", "heldout")


def load_kb(path: str | Path = KB_PATH, *, on_error: str = "raise") -> list[dict]:
    return load_records(path, "kb", on_error=on_error)[0]


def kb_by_id(kb: list[dict] | None = None) -> dict[str, dict]:
    return {e["issue_id"]: e for e in (load_kb() if kb is None else kb)}


def load_eval(path: str | Path = EVAL_PATH, *, on_error: str = "raise") -> list[dict]:
    """The frozen eval cases; raises `FrozenDataError` if any eval file changed."""
    verify_manifest(Path(path).parent)
    return load_records(path, "eval", on_error=on_error)[0]


def load_prompts(split: str = "all", *, data_dir: str | Path | None = None,
                 on_error: str = "raise") -> list[dict]:
    """Training prompts. "all": the raw corpus file. "train"/"val"/"heldout": `data_dir/<split>.jsonl`
    from `python -m mighty.data.build`, or, without `data_dir`, the default build run in memory."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if split == "all":
        return load_records(PROMPTS_PATH, "prompt", on_error=on_error)[0]
    if data_dir is not None:
        name = "heldout_prompts" if split == "heldout" else split
        return load_records(Path(data_dir) / f"{name}.jsonl", "prompt", on_error=on_error)[0]
    return [dict(r) for r in _default_build()[split]]


@functools.lru_cache(maxsize=1)
def _default_build() -> dict[str, tuple[dict, ...]]:
    from mighty.data.config import DataConfig
    from mighty.data.pipeline import build

    res = build(DataConfig())
    return {"train": tuple(res.train), "val": tuple(res.val), "heldout": tuple(res.heldout)}


__all__ = ["CORPUS_DIR", "DataError", "FrozenDataError", "LoadReport", "Retriever", "SYSTEM",
           "format_prompt", "kb_by_id", "kb_context", "load_eval", "load_kb", "load_prompts",
           "load_records", "recall_at_k"]
