"""Adapter from a label cache directory to `distill.batching.Example`s.

Two on-disk layouts are read:
- the label stage's cache (`data.label` → `data.logprob_cache.LogprobCache`);
- a *toy cache* (`toy_cache.json` + `toy_arrays.npz`) that tests write with
  `write_toy_cache` from examples a tiny random teacher generated (`make_toy_examples`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from distill.batching import Example

TOY_META, TOY_ARRAYS = "toy_cache.json", "toy_arrays.npz"
_RAGGED = ("prompt_ids", "teacher_prompt_ids", "completion_ids", "topk_ids", "topk_logprobs")


def read_examples(cache_dir: str | Path, tokenizer, kb: dict) -> list[Example]:
    cache_dir = Path(cache_dir)
    if (cache_dir / TOY_META).is_file():
        return read_toy_cache(cache_dir)
    if not cache_dir.exists():
        raise FileNotFoundError(f"label_cache={cache_dir} does not exist; run the label stage "
                                f"(python -m data.label ...) first or pass its output dir")
    return read_label_cache(cache_dir, tokenizer, kb)


def read_label_cache(cache_dir: Path, tokenizer, kb: dict) -> list[Example]:
    """Kept rows (quality filter passed) of `data.logprob_cache.LogprobCache`. The student prompt
    holds the entries the label stage retrieved for it (`row["context"]`; None: closed-book), the
    teacher prompt (on-policy KD) the gold entry."""
    from data.corpus.scope import OUT_OF_SCOPE_DEVICE, is_out_of_scope
    from data.logprob_cache import LogprobCache
    from data.prompts import format_prompt

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


def write_toy_cache(cache_dir: str | Path, examples: Sequence[Example]) -> Path:
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    meta = [{"uid": e.uid, "device_type": e.device_type, "question": e.question,
             "answer": e.answer, "issue_id": e.issue_id} for e in examples]
    arrays = {}
    for name in _RAGGED:
        parts = [np.asarray(getattr(e, name)) for e in examples]
        arrays[name] = np.concatenate(parts, axis=0)
        arrays[name + "_len"] = np.array([len(p) for p in parts], np.int64)
    np.savez(cache_dir / TOY_ARRAYS, **arrays)
    (cache_dir / TOY_META).write_text(json.dumps(meta))
    return cache_dir


def read_toy_cache(cache_dir: Path) -> list[Example]:
    meta = json.loads((cache_dir / TOY_META).read_text())
    with np.load(cache_dir / TOY_ARRAYS) as z:
        arrays = {k: z[k] for k in z.files}
    split = {}
    for name in _RAGGED:
        ends = np.cumsum(arrays[name + "_len"])
        split[name] = np.split(arrays[name], ends[:-1])
    return [Example(**m, **{name: split[name][i] for name in _RAGGED}) for i, m in enumerate(meta)]


def make_toy_examples(teacher, n: int, *, key: jax.Array, devices: Sequence[str] = ("dev_a", "dev_b", "dev_c"),
                      prompt_len: tuple[int, int] = (6, 14), kb_len: int = 4, max_new_tokens: int = 16,
                      top_k: int = 8, tokenizer=None, batch: int = 32) -> list[Example]:
    """Prompts of random tokens (each device draws from its own id range), a random "kb"
    prefix in the teacher's prompt, and the teacher's sampled answers with top-K logprobs."""
    from models.sampler import generate

    cfg = teacher.cfg
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).astype(np.uint64))
    lo = 3  # ids 0..2 are pad/bos/eos in the tiny config
    span = (cfg.vocab_size - lo) // len(devices)
    out = []
    for start in range(0, n, batch):
        rows = []
        for i in range(start, min(start + batch, n)):
            d = i % len(devices)
            p = rng.integers(lo + d * span, lo + (d + 1) * span, rng.integers(*prompt_len))
            kb = rng.integers(lo, cfg.vocab_size, kb_len)
            rows.append((f"toy-{i:05d}", devices[d], p.astype(np.int32), np.concatenate([kb, p]).astype(np.int32)))
        t_len = kb_len + prompt_len[1]  # one shape for every generate call
        ids = np.full((len(rows), t_len), cfg.pad_id, np.int32)
        mask = np.zeros_like(ids)
        for j, r in enumerate(rows):
            ids[j, t_len - len(r[3]):], mask[j, t_len - len(r[3]):] = r[3], 1
        key, sub = jax.random.split(key)
        s = jax.device_get(generate(teacher, jnp.asarray(ids), jnp.asarray(mask), sub,
                                    max_new_tokens=max_new_tokens, temperature=1.0,
                                    eos_id=cfg.eos_id, pad_id=cfg.pad_id, return_topk=top_k))
        for j, (uid, dev, p, tp) in enumerate(rows):
            L = int(s.lengths[j])
            comp = np.asarray(s.tokens[j, :L], np.int32)
            text = tokenizer.decode(comp) if tokenizer is not None else ""
            out.append(Example(uid=uid, device_type=dev, prompt_ids=p, teacher_prompt_ids=tp,
                               completion_ids=comp, topk_ids=np.asarray(s.topk_ids[j, :L], np.int32),
                               topk_logprobs=np.asarray(s.topk_logprobs[j, :L], np.float32),
                               question=" ".join(f"w{t}" for t in p), answer=text))
    return out
