"""Batched greedy answers from any model, through the same prompt the student is trained on."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import jax
import numpy as np
from tqdm.auto import tqdm

from data import format_prompt


@dataclass
class Answers:
    texts: list[str]
    lengths: np.ndarray        # (N,) generated tokens incl. EOS
    truncated: np.ndarray      # (N,) bool
    seconds: float             # wall time of all batches but the first (which compiles)
    timed_tokens: int          # tokens generated in those batches

    @property
    def tokens_per_second(self) -> float:
        return self.timed_tokens / self.seconds if self.seconds > 0 else float("nan")


def answer_questions(model, tokenizer, questions: Sequence[str], *, max_new_tokens: int,
                     batch_size: int = 16, system: str | None = None, seed: int = 0,
                     temperature: float = 0.0, desc: str = "answers") -> Answers:
    """Answers `questions` in fixed-size batches (short batches are padded with a repeat row,
    so every batch hits one compiled shape per prompt-length bucket)."""
    from models import generate

    seqs = [tokenizer.chat(format_prompt(q, system=system)) for q in questions]
    texts, lengths, truncated = [], [], []
    seconds, timed = 0.0, 0
    key = jax.random.key(seed)
    for b, start in enumerate(tqdm(range(0, len(seqs), batch_size), desc=desc, leave=False)):
        chunk = seqs[start:start + batch_size]
        n = len(chunk)
        ids, mask = tokenizer.batch(chunk + [chunk[-1]] * (batch_size - n), padding_side="left")
        t0 = time.perf_counter()
        out = generate(model, ids, mask, jax.random.fold_in(key, b), max_new_tokens=max_new_tokens,
                       temperature=temperature, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
        lens = np.asarray(out.lengths)[:n]
        if b > 0:
            seconds += time.perf_counter() - t0
            timed += int(np.asarray(out.lengths).sum())
        toks = np.asarray(out.tokens)[:n]
        texts += [tokenizer.decode(toks[i, :lens[i]]) for i in range(n)]
        lengths += lens.tolist()
        truncated += np.asarray(out.truncated)[:n].tolist()
    return Answers(texts, np.asarray(lengths), np.asarray(truncated, bool), seconds, timed)
