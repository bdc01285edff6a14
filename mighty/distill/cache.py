"""Adapter from a label cache directory to `distill.batching.Example`s.

Two on-disk layouts are read:
- the label stage's cache (`data.label` → `data.logprob_cache.LogprobCache`);
- a *toy cache* (`toy_cache.json` + `toy_arrays.npz`): the answers of a tiny random teacher
  that the tests write (tests/distill/toy_cache.py) for seconds-long KD runs through the real
  entry point (`experiment=kd_tiny`).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mighty.distill.batching import Example

TOY_META, TOY_ARRAYS = "toy_cache.json", "toy_arrays.npz"
_RAGGED = ("prompt_ids", "teacher_prompt_ids", "completion_ids", "topk_ids", "topk_logprobs")


def read_examples(cache_dir: str | Path, tokenizer, kb: dict) -> list[Example]:
    cache_dir = Path(cache_dir)
    if (cache_dir / TOY_META).is_file():
        return read_toy_cache(cache_dir)
    if not cache_dir.exists():
        raise FileNotFoundError(f"label_cache={cache_dir} does not exist; run the label stage "
                                f"(python -m mighty.data.label ...) first or pass its output dir")
    return read_label_cache(cache_dir, tokenizer, kb)


def read_label_cache(cache_dir: Path, tokenizer, kb: dict) -> list[Example]:
    """Kept rows (quality filter passed) of `data.logprob_cache.LogprobCache`. The student prompt
    holds the entries the label stage retrieved for it (`row["context"]`; None: closed-book), the
    teacher prompt (on-policy KD) the gold entry."""
    from mighty.data.corpus.scope import OUT_OF_SCOPE_DEVICE, is_out_of_scope
    from mighty.data.logprob_cache import LogprobCache
    from mighty.data.prompts import format_prompt

    out = []
    for row in LogprobCache(cache_dir).iter_rows(only_kept=True):
        entry = kb.get(row["issue_id"])
        if entry is None and not is_out_of_scope(row["issue_id"]):
            raise KeyError(f"{cache_dir}: row {row['prompt_id']!r} names issue {row['issue_id']!r}, "
                           f"which is not in the knowledge base (pass kb= the one it was labelled with)")
        out.append(Example(
            uid=row["prompt_id"], device_type=OUT_OF_SCOPE_DEVICE if entry is None else entry["device_type"],
            prompt_ids=np.asarray(tokenizer.chat(format_prompt(
                row["question"], entries=student_entries(row, kb, cache_dir))), np.int32),
            teacher_prompt_ids=np.asarray(tokenizer.chat(format_prompt(
                row["question"], entries=[] if entry is None else [entry])), np.int32),
            completion_ids=np.asarray(row["tokens"], np.int32),
            topk_ids=np.asarray(row["topk_ids"], np.int32),
            topk_logprobs=np.asarray(row["topk_logprobs"], np.float32),
            question=row["question"], answer=row["answer"], issue_id=row["issue_id"]))
    if not out:
        raise ValueError(f"{cache_dir}: no kept rows in the label cache (all failed the quality filter?)")
    return out + read_retention_examples(cache_dir)


def read_retention_examples(cache_dir: Path) -> list[Example]:
    """The label stage's generic-text rows (`data.retention`), if it wrote any: the document's
    first id is the prompt, the rest its completion, labelled by the teacher's top-K."""
    from mighty.data.logprob_cache import LogprobCache
    from mighty.data.retention import GENERIC_DOMAIN, RETENTION_DIR, has_retention

    if not has_retention(cache_dir):
        return []
    out = []
    for row in LogprobCache(cache_dir / RETENTION_DIR).iter_rows():
        first = np.asarray([row["first_id"]], np.int32)
        out.append(Example(uid=row["prompt_id"], device_type=GENERIC_DOMAIN, prompt_ids=first,
                           teacher_prompt_ids=first, completion_ids=np.asarray(row["tokens"], np.int32),
                           topk_ids=np.asarray(row["topk_ids"], np.int32),
                           topk_logprobs=np.asarray(row["topk_logprobs"], np.float32), answer=row["text"]))
    return out


def student_entries(row: dict, kb: dict, cache_dir: Path) -> list[dict] | None:
    """The KB entries of the student's prompt as the label stage chose them (None: closed-book)."""
    context = row.get("context")
    if context is None:
        return None
    missing = [i for i in context if i not in kb]
    if missing:
        raise KeyError(f"{cache_dir}: row {row['prompt_id']!r} was grounded on {missing}, which are not "
                       f"in the knowledge base (pass kb= the one it was labelled with)")
    return [kb[i] for i in context]


# ----------------------------------------------------------------------------- toy cache


def read_toy_cache(cache_dir: Path) -> list[Example]:
    meta = json.loads((cache_dir / TOY_META).read_text())
    with np.load(cache_dir / TOY_ARRAYS) as z:
        arrays = {k: z[k] for k in z.files}
    split = {}
    for name in _RAGGED:
        ends = np.cumsum(arrays[name + "_len"])
        split[name] = np.split(arrays[name], ends[:-1])
    return [Example(**m, **{name: split[name][i] for name in _RAGGED}) for i, m in enumerate(meta)]
