"""Model access for the server, behind one small interface.

`Engine.stream(messages, max_new_tokens)` yields text deltas; `Engine.generate_batch(requests)`
decodes several chat requests in one padded batch (the server's batcher uses it) and reports
deltas per request through `GenRequest.on_delta`. `Engine.name` is what `served_by` reports.

`ModelEngine` wraps our own JAX decoder (`models.load_pretrained` / `models.generate`): the
packaged teacher by name, an HF safetensors directory, a `.gguf` file, or an orbax checkpoint
directory written by `models.save_checkpoint` (which then borrows the teacher's tokenizer).
"""
from __future__ import annotations

import dataclasses
import os
import queue
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Sequence

Message = dict  # {"role": "system"|"user"|"assistant", "content": str}


@dataclasses.dataclass
class GenRequest:
    messages: list[Message]
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    logprobs: bool = False  # return the logprob of every generated token
    top_logprobs: int = 0  # with logprobs: also the top-k next-token distribution per position
    on_delta: Callable[[str], None] | None = None  # called from the decoding thread
    prefix: str = ""  # the assistant turn starts with this text (e.g. "1." to prime a list)


@dataclasses.dataclass
class TokenLogprob:
    token: str
    logprob: float
    top: list[tuple[str, float]]  # (token, logprob), best first; empty unless top_logprobs > 0


@dataclasses.dataclass
class GenResult:
    text: str
    finish_reason: str  # "stop" (EOS) | "length" (hit max_new_tokens)
    prompt_tokens: int
    completion_tokens: int
    logprobs: list[TokenLogprob] | None = None
    elapsed_s: float = 0.0


class Engine:
    """Subclasses implement `count_tokens` and `generate_batch`."""

    name: str = "engine"
    max_context: int = 2048

    def count_tokens(self, messages: Sequence[Message]) -> int:
        raise NotImplementedError

    def count_text_tokens(self, text: str) -> int:
        raise NotImplementedError

    def generate_batch(self, requests: Sequence[GenRequest]) -> list[GenResult]:
        raise NotImplementedError

    def stream(self, messages: Sequence[Message], max_new_tokens: int, *,
               temperature: float = 0.0) -> Iterator[str]:
        """Text deltas as they are decoded (the decode runs on a helper thread)."""
        q: queue.Queue = queue.Queue()
        done = object()
        err: list[BaseException] = []

        def run():
            try:
                self.generate_batch([GenRequest(list(messages), max_new_tokens, temperature,
                                                on_delta=q.put)])
            except BaseException as e:  # re-raised in the consumer
                err.append(e)
            finally:
                q.put(done)

        threading.Thread(target=run, name=f"{self.name}-stream", daemon=True).start()
        while (item := q.get()) is not done:
            yield item
        if err:
            raise err[0]


class _Detok:
    """Incremental detokenizer: emits only text that can no longer change (no split UTF-8)."""

    def __init__(self, tokenizer):
        self.tok, self.ids, self.sent = tokenizer, [], 0

    def push(self, token_id: int) -> str:
        self.ids.append(int(token_id))
        text = self.tok.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return ""
        delta, self.sent = text[self.sent:], len(text)
        return delta

    def text(self) -> str:
        return self.tok.decode(self.ids, skip_special_tokens=True)


def _bucket(n: int, buckets: Sequence[int]) -> int:
    for b in buckets:
        if n <= b:
            return b
    return n


# Static shapes for the jitted sampler: every distinct (batch, prompt length, new tokens) compiles
# once, so requests are padded up to these buckets.
NEW_TOKEN_BUCKETS = (1, 16, 32, 64, 128, 256, 512, 1024)  # 1: judges reading one token
# models.generate pads prompts to a power of two itself; short prompts (judges) are padded up
# to the student prompt's bucket (~160 tokens -> 256) so they share its compiled program.
MIN_PROMPT_BUCKET = 256
# Every decode returns this many top logprobs (the OpenAI maximum), so asking for logprobs
# never compiles a second program.
TOPK = 20

# One decode at a time per process: 2 cores gain nothing from two concurrent decodes, and
# models.generate hands its stream callback to the XLA host-callback thread through one slot.
_GENERATE_LOCK = threading.Lock()


class ModelEngine(Engine):
    def __init__(self, source: str, *, seed: int = 0, teacher_source: str | None = None,
                 dtype: str = "float32", batch_buckets: Sequence[int] = (1, 8)):
        from mighty import models

        self.batch_buckets = tuple(sorted(batch_buckets))

        self.source = source
        self.name = _display_name(source)
        self._models = models
        self.model, self.tokenizer = _load(models, source, teacher_source, dtype)
        cfg = getattr(self.model, "cfg", None) or getattr(self.model, "config", None)
        self.max_context = int(getattr(cfg, "max_position_embeddings", 2048))
        self.eos_id, self.pad_id = int(self.tokenizer.eos_id), int(self.tokenizer.pad_id)
        self._seed, self._calls = seed, 0

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.tokenizer.chat(list(messages), add_generation_prompt=True))

    def count_text_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text))

    def generate_batch(self, requests: Sequence[GenRequest]) -> list[GenResult]:
        import jax
        import numpy as np

        if not requests:
            return []
        temps = {r.temperature for r in requests}
        if len(temps) != 1:
            raise ValueError(f"one batch needs one temperature, got {sorted(temps)}")
        t0 = time.perf_counter()
        prompts = [self.tokenizer.chat(list(r.messages), add_generation_prompt=True)
                   + (self.tokenizer.encode(r.prefix) if r.prefix else []) for r in requests]
        n = len(prompts)
        b = _bucket(n, self.batch_buckets)
        rows = prompts + [prompts[0]] * (b - n)  # padding rows are decoded and dropped
        ids, mask = self.tokenizer.batch(rows, padding_side="left", bucket="pow2")  # (B, T)
        if ids.shape[1] < MIN_PROMPT_BUCKET:
            pad = ((0, 0), (MIN_PROMPT_BUCKET - ids.shape[1], 0))
            ids, mask = np.pad(ids, pad, constant_values=self.pad_id), np.pad(mask, pad)
        want = max(r.max_new_tokens for r in requests)
        new = min(_bucket(want, NEW_TOKEN_BUCKETS), max(1, self.max_context - ids.shape[1]))
        if max(r.top_logprobs for r in requests) > TOPK:
            raise ValueError(f"top_logprobs must be <= {TOPK}")
        detoks = [_Detok(self.tokenizer) for _ in range(n)]
        finished = [False] * n
        for r in requests:
            if r.prefix and r.on_delta is not None:
                r.on_delta(r.prefix)

        def on_step(step: int, tokens_b, valid_b) -> None:
            # tokens_b, valid_b: (B,) token sampled at `step` per row; valid is 0 after EOS
            toks = np.asarray(tokens_b)
            for i, r in enumerate(requests):
                if finished[i] or step >= r.max_new_tokens or not valid_b[i]:
                    continue
                t = int(toks[i])
                if t == self.eos_id:
                    finished[i] = True
                    continue
                d = detoks[i].push(t)
                if d and r.on_delta is not None:
                    r.on_delta(d)

        with _GENERATE_LOCK:
            self._calls += 1
            key = jax.random.fold_in(jax.random.key(self._seed), self._calls)
            out = self._models.generate(
                self.model, ids, mask, key, max_new_tokens=new, temperature=float(temps.pop()),
                top_p=float(requests[0].top_p), eos_id=self.eos_id, pad_id=self.pad_id,
                return_topk=TOPK, stream=on_step)
        tokens = np.asarray(out.tokens)
        lps = np.asarray(out.logprobs)
        top_ids, top_lps = np.asarray(out.topk_ids), np.asarray(out.topk_logprobs)
        elapsed = time.perf_counter() - t0
        results = []
        for i, r in enumerate(requests):
            row = [int(t) for t in tokens[i, : r.max_new_tokens]]
            stop = self.eos_id in row
            gen = row[: row.index(self.eos_id)] if stop else row
            text = self.tokenizer.decode(gen, skip_special_tokens=True)
            # Deltas the stream callback could not send (held UTF-8 tail) go out now.
            if r.on_delta is not None and len(text) > detoks[i].sent and detoks[i].ids == gen:
                r.on_delta(text[detoks[i].sent:])
            logprobs = None
            if r.logprobs:
                n_lp = len(gen) + (1 if stop else 0)
                logprobs = [TokenLogprob(
                    token=self._piece(row[j]), logprob=float(lps[i, j]),
                    top=[(self._piece(int(top_ids[i, j, m])), float(top_lps[i, j, m]))
                         for m in range(r.top_logprobs)] if r.top_logprobs else [])
                    for j in range(n_lp)]
            results.append(GenResult(text=r.prefix + text, finish_reason="stop" if stop else "length",
                                     prompt_tokens=len(prompts[i]), completion_tokens=len(gen),
                                     logprobs=logprobs, elapsed_s=elapsed))
        return results

    def _piece(self, token_id: int) -> str:
        return self.tokenizer.decode([token_id], skip_special_tokens=False)


def _display_name(source: str) -> str:
    """A short name for `served_by`: a pipeline checkpoint (<store>/<stage>/<hash>/<policy|
    student>) is "<stage>-<hash[:8]>", any other path its last component."""
    if os.path.sep in source or source.endswith(".gguf"):
        parts = Path(os.path.normpath(source)).parts
        if len(parts) >= 3 and parts[-1] in ("policy", "student"):
            return f"{parts[-3]}-{parts[-2][:8]}"
        return parts[-1] if parts else source
    return source


def _load(models, source: str, teacher_source: str | None, dtype: str):
    """(model, tokenizer). A checkpoint saved without its tokenizer borrows the teacher's."""
    if (os.path.sep in source or source.endswith(".gguf")) and not os.path.exists(source):
        raise FileNotFoundError(f"model source {source!r} does not exist; pass a packaged model "
                                "name, an HF checkpoint dir, a .gguf file or a models.save_checkpoint dir")
    model, tokenizer = models.load_pretrained(source, dtype=dtype)
    if tokenizer is None:
        _, tokenizer = models.load_pretrained(teacher_source or "smollm2-135m-instruct", dtype=dtype)
    return model, tokenizer
