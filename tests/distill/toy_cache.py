"""Test data for KD: a tiny random teacher's sampled answers (`make_toy_examples`) written
in the toy-cache format `distill.cache.read_examples` reads (`write_toy_cache`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from mighty.distill.batching import Example
from mighty.distill.cache import _RAGGED, TOY_ARRAYS, TOY_META


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


def make_toy_examples(teacher, n: int, *, key: jax.Array, devices: Sequence[str] = ("dev_a", "dev_b", "dev_c"),
                      prompt_len: tuple[int, int] = (6, 14), kb_len: int = 4, max_new_tokens: int = 16,
                      top_k: int = 8, tokenizer=None, batch: int = 32) -> list[Example]:
    """Prompts of random tokens (each device draws from its own id range), a random "kb"
    prefix in the teacher's prompt, and the teacher's sampled answers with top-K logprobs."""
    from mighty.models.sampler import generate

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
