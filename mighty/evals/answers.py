"""Batched greedy answers from any model, through the same prompt the student is trained on."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import jax
import numpy as np
from tqdm.auto import tqdm

from mighty.data import format_prompt

# JAX's own timings of the work a first call does before it runs (jax._src.dispatch)
COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                  "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")


@contextmanager
def compile_seconds() -> Iterator[list[float]]:
    """`[s]`: the seconds JAX spent tracing, lowering and compiling while the block ran (in any
    thread of the process), so a first call can be timed net of its compile."""
    total = [0.0]

    def on_event(event: str, duration: float, **_) -> None:
        if event in COMPILE_EVENTS:
            total[0] += duration

    jax.monitoring.register_event_duration_secs_listener(on_event)
    try:
        yield total
    finally:
        jax.monitoring.unregister_event_duration_listener(on_event)


@dataclass
class Answers:
    texts: list[str]
    lengths: np.ndarray        # (N,) the answers' tokens incl. EOS (up to the cut of a repeat)
    truncated: np.ndarray      # (N,) bool: ran to max_new_tokens without EOS or a repeat to cut at
    seconds: float             # wall time of all batches, tracing and compiling excluded
    timed_tokens: int          # tokens generated in them (padding rows included: they decode too)

    @property
    def tokens_per_second(self) -> float:
        """The eval's effective throughput: answer tokens (up to EOS) per second of batch time.
        A row that ends early idles until its batch ends, so systems with uneven answer lengths
        score below their fixed-length decode speed (`benchmarks/sampler.py` measures that)."""
        return self.timed_tokens / self.seconds if self.seconds > 0 else float("nan")


def answer_questions(model, tokenizer, questions: Sequence[str | list[dict]], *, max_new_tokens: int,
                     batch_size: int = 16, system: str | None = None, seed: int = 0,
                     temperature: float = 0.0, end_at_repeat: bool = False, desc: str = "answers") -> Answers:
    """Answers `questions` in fixed-size batches (short batches are padded with a repeat row,
    so every batch hits one compiled shape per prompt-length bucket). A question is a string
    (asked closed-book under `system`) or the chat messages built for it (a grounded prompt
    from `data.grounding.Grounder.messages`). `end_at_repeat`: an answer ends at its first
    repeated line or in-line sentence (`data.answer_end.repeat_cut`, the rule that ends the
    teacher's labels); the decode runs on regardless (a batch lasts as long as its longest row)."""
    from mighty.data.answer_end import answer_cut
    from mighty.models import generate

    seqs = [tokenizer.chat(q if isinstance(q, list) else format_prompt(q, system=system)) for q in questions]
    texts, lengths, truncated = [], [], []
    seconds, timed = 0.0, 0
    key = jax.random.key(seed)
    for b, start in enumerate(tqdm(range(0, len(seqs), batch_size), desc=desc, leave=False)):
        chunk = seqs[start:start + batch_size]
        n = len(chunk)
        ids, mask = tokenizer.batch(chunk + [chunk[-1]] * (batch_size - n), padding_side="left")
        with compile_seconds() as compiling:
            t0 = time.perf_counter()
            out = generate(model, ids, mask, jax.random.fold_in(key, b), max_new_tokens=max_new_tokens,
                           temperature=temperature, eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id)
            all_lengths = np.asarray(out.lengths)  # waits for the batch
            seconds += time.perf_counter() - t0 - compiling[0]
        timed += int(all_lengths.sum())
        toks, ran_out = np.asarray(out.tokens)[:n], np.asarray(out.truncated)[:n]
        cuts = [answer_cut(tokenizer, toks[i, :all_lengths[i]], eos=not ran_out[i]) if end_at_repeat else None
                for i in range(n)]
        lens = [int(all_lengths[i]) if cut is None else cut for i, cut in enumerate(cuts)]
        texts += [tokenizer.decode(toks[i, :lens[i]]) for i in range(n)]
        lengths += lens
        truncated += [bool(t) and cut is None for t, cut in zip(ran_out, cuts)]
    return Answers(texts, np.asarray(lengths), np.asarray(truncated, bool), seconds, timed)
