"""In-process JAX judge: reads score-token probabilities from a local model; never parses text.

The judging prompt (`rewards.judge.judge_messages`, ending "Score 0-10:") is rendered with
the model's chat template plus the assistant generation prompt, so the next token should
be the score. From the last position's next-token distribution p:

  * each score whose text is one token t gets p(t);
  * a score that is two tokens (t1, t2) — with SmolLM2's digit-by-digit tokenizer, "10" is
    "1","0" — gets p(t1) · p(t2 | prompt + t1), read from a second forward pass on the
    prompt extended by t1; the one-token score t1 ("1") keeps p(t1) · (1 - Σ p(t2 | t1))
    over those continuations, so P(1) and P(10) are not conflated;
  * probabilities are renormalised over the scores (`mass` = their total before that, a
    health check: a tiny mass means the model is not answering with a number), and the
    judge returns the expected score Σ s · P(s).

Works with any `(model, tokenizer)` per CONTRACTS.md: `model(input_ids, attention_mask=...)`
-> logits [B,T,V] (only the last position is unembedded when `model.hidden`/`unembed`
exist), `tokenizer.chat(messages)`, `.encode`, `.batch(..., padding_side="left")`.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

import numpy as np

from mighty.rewards.judge import (Judge, JudgeError, JudgeItem, expected_score, judge_messages)

DEFAULT_SOURCE = "smollm2-135m-instruct"


@functools.lru_cache(maxsize=2)
def _load(source: str, dtype: str):
    """One (model, tokenizer) per source per process: tech and lang share a judge model."""
    from mighty import models
    model, tok = models.load_pretrained(source, dtype=dtype)
    if tok is None:
        raise JudgeError(f"judge 'jax:{source}': the checkpoint has no tokenizer")
    return model, tok


@functools.lru_cache(maxsize=None)
def _last_logprobs_fn():
    import jax
    from flax import nnx

    @nnx.jit
    def last_logprobs(model, ids, mask):  # ids/mask (B, T) -> (B, 2, V) log-probs at T-2, T-1
        if hasattr(model, "hidden") and hasattr(model, "unembed"):
            logits = model.unembed(model.hidden(ids, attention_mask=mask)[:, -2:])
        else:
            logits = model(ids, attention_mask=mask)[:, -2:]
        return jax.nn.log_softmax(logits.astype("float32"), axis=-1)

    return last_logprobs


class JaxJudge(Judge):
    """Judge from a local `(model, tokenizer)`.

    Args:
      model, tokenizer: per CONTRACTS.md (`models.load_pretrained`).
      judge_id: cache/metrics name (include the checkpoint: a new model must not reuse scores).
      batch_size: prompts per forward pass.
      max_prompt_tokens: longer judging prompts have their candidate answer shortened.
    """

    def __init__(self, model: Any, tokenizer: Any, *, judge_id: str = f"jax:{DEFAULT_SOURCE}",
                 cache: Any = None, rubric_version: str | None = None, batch_size: int = 8,
                 max_prompt_tokens: int = 1024):
        kw = {} if rubric_version is None else {"rubric_version": rubric_version}
        super().__init__(judge_id, cache=cache, **kw)
        self.model, self.tokenizer = model, tokenizer
        self.batch_size, self.max_prompt_tokens = batch_size, max_prompt_tokens
        self._score_tokens: dict[int, dict[int, tuple[int, ...]]] = {}

    @classmethod
    def from_pretrained(cls, source: str = DEFAULT_SOURCE, *, dtype: str = "float32",
                        judge_id: str | None = None, **kw: Any) -> "JaxJudge":
        model, tok = _load(str(source), dtype)
        return cls(model, tok, judge_id=judge_id or f"jax:{source}", **kw)

    def score_tokens(self, max_score: int) -> dict[int, tuple[int, ...]]:
        """score -> its token ids (1 or 2 tokens), checked once per scale."""
        if max_score not in self._score_tokens:
            table = {s: tuple(self.tokenizer.encode(str(s))) for s in range(max_score + 1)}
            bad = {s: t for s, t in table.items() if not 1 <= len(t) <= 2}
            if bad:
                raise JudgeError(f"judge '{self.judge_id}': score strings must be 1-2 tokens, "
                                 f"got {bad}")
            self._score_tokens[max_score] = table
        return self._score_tokens[max_score]

    def _prompt_ids(self, item: JudgeItem, idx: int) -> list[int]:
        answer = item.answer
        for _ in range(4):
            ids = self.tokenizer.chat(judge_messages(JudgeItem(item.question, answer,
                                                               item.reference, item.aspect)))
            if len(ids) <= self.max_prompt_tokens:
                return ids
            answer = answer[: int(len(answer) * self.max_prompt_tokens / len(ids) * 0.9)]
        raise JudgeError(f"judge '{self.judge_id}': judging prompt of item {idx} exceeds "
                         f"max_prompt_tokens={self.max_prompt_tokens} even with the answer cut")

    def next_logprobs(self, seqs: list[list[int]]) -> np.ndarray:
        """(len(seqs), V) next-token log-probs after each id sequence, in batches."""
        return self._last_two_logprobs(seqs)[:, 1]

    def _last_two_logprobs(self, seqs: list[list[int]]) -> np.ndarray:
        """(len(seqs), 2, V) log-probs of the token after the second-to-last and the last id."""
        import jax.numpy as jnp
        fn, out = _last_logprobs_fn(), []
        for i in range(0, len(seqs), self.batch_size):
            chunk = seqs[i:i + self.batch_size]
            chunk = chunk + [chunk[-1]] * (self.batch_size - len(chunk))  # fixed batch shape
            # multiples of 256: a 600-token pairwise prompt pads to 768, not 1024 (few compiles)
            ids, mask = self.tokenizer.batch(chunk, padding_side="left", bucket=256)
            out.append(np.asarray(fn(self.model, jnp.asarray(ids), jnp.asarray(mask))))
        return np.concatenate(out)[: len(seqs)]

    def _score_items(self, items: list[JudgeItem], indices: list[int]
                     ) -> tuple[np.ndarray, list[dict]]:
        prompts = [self._prompt_ids(it, i) for it, i in zip(items, indices)]
        # Two-token scores need p(t2 | prompt + t1). One forward pass over prompt + t1 gives
        # both that and p(t1 | prompt) (the position before), so a scale whose two-token
        # scores share one first token ("10" = "1","0") costs one pass, not two.
        firsts = [sorted({toks[0] for toks in self.score_tokens(it.max_score).values()
                          if len(toks) == 2}) for it in items]
        ext: dict[tuple[int, int], int] = {}  # (item, first token) -> row of `lp2`
        for n, f in enumerate(firsts):
            for t1 in f:
                ext.setdefault((n, t1), len(ext))
        lp2 = self._last_two_logprobs([prompts[n] + [t1] for (n, t1) in ext]) if ext else None
        if ext and all(firsts):
            lp1 = lp2[[ext[(n, f[0])] for n, f in enumerate(firsts)], 0]  # (N, V)
        else:
            lp1 = self.next_logprobs(prompts)
        lp2 = None if lp2 is None else lp2[:, 1]
        scores, metas = [], []
        for n, it in enumerate(items):
            table = self.score_tokens(it.max_score)
            p = np.exp(lp1[n])
            probs: dict[int, float] = {}
            cont_mass: dict[int, float] = defaultdict(float)  # first token -> P(longer | t1)
            for s, toks in table.items():
                if len(toks) == 2:
                    p2 = float(np.exp(lp2[ext[(n, toks[0])], toks[1]]))
                    probs[s] = float(p[toks[0]]) * p2
                    cont_mass[toks[0]] += p2
            for s, toks in table.items():
                if len(toks) == 1:
                    probs[s] = float(p[toks[0]]) * (1.0 - min(1.0, cont_mass.get(toks[0], 0.0)))
            score, mass = expected_score(probs, it.max_score)
            if not mass > 0:
                raise JudgeError(f"judge '{self.judge_id}': item {indices[n]} puts no "
                                 f"probability on the score tokens")
            scores.append(score)
            metas.append({"mass": mass, "probs": {str(k): v / mass for k, v in probs.items()}})
        return np.array(scores), metas
