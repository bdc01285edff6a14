"""LLM judges: the judging prompt, the cached `Judge` base, and the judge reward.

A judge scores (question, reference steps, candidate answer) on an integer scale per aspect:
`tech` 0..10 (technical accuracy and completeness against the reference) and `fluency` 0..5
(grammar and clarity). Backends (`rewards.judge_jax.JaxJudge`, `rewards.judge_http.HttpJudge`)
implement `_score_items(items, indices)`; this base class does the rest:

* the on-disk cache (`rewards.judge_cache.JudgeCache`) keyed by judge id + rubric version +
  sha256 of the inputs, so a re-run or a repeated completion costs nothing;
* de-duplication of identical items within a batch (GRPO groups often repeat completions);
* validation: a backend score outside [0, max] or non-finite is a `JudgeError` naming the
  judge and the item;
* counters (`JudgeStats`) logged as `judge/<judge_id>/...`.

Both backends read a *distribution* over the score tokens and return its expectation; free
text is never trusted when probabilities are available (see each backend's doc).
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mighty.rewards.judge_cache import JudgeCache, JudgeStats, cache_key

RUBRIC_VERSION = "2025-06-v1"  # bump whenever the prompt template or scales change
ASPECT_MAX: dict[str, int] = {"tech": 10, "fluency": 5}

SYSTEM_PROMPT = ("You are a strict grader of answers from a consumer-electronics "
                 "troubleshooting assistant. Reply with a single integer and nothing else.")
_CRITERIA = {
    "tech": ("Grade technical accuracy and completeness: does the answer give the reference "
             "steps, in a sensible order, without unsafe advice? If the reference says the "
             "question is out of scope, a polite refusal is the correct answer."),
    "fluency": "Grade only the English: grammar, spelling and clarity, not the technical content.",
}


class JudgeError(RuntimeError):
    """A judge failed; the message names the judge, and where relevant the URL and item."""


class JudgeTimeoutError(JudgeError):
    """Retries exhausted on timeouts."""


class JudgeHTTPError(JudgeError):
    """Retries exhausted on 5xx/429, or a non-retryable HTTP error."""


class JudgeParseError(JudgeError):
    """The judge's reply held no usable score."""


@dataclass(frozen=True)
class JudgeItem:
    question: str
    answer: str
    reference: str
    aspect: str

    @property
    def max_score(self) -> int:
        return ASPECT_MAX[self.aspect]


def reference_text(kb_entry: Mapping | None, reference: str | None) -> str:
    """Reference the judge compares against: kb steps, else the teacher answer, else scope note."""
    if kb_entry is not None:
        steps = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(kb_entry.get("steps") or []))
        extra = ("\nSafety issue: the answer must tell the user to stop using the device and "
                 "contact support." if kb_entry.get("safety") else "")
        return (steps or "(no steps listed)") + extra
    if reference:
        return reference
    return "(none: the question is outside the assistant's scope; it should politely decline)"


def judge_messages(item: JudgeItem) -> list[dict[str, str]]:
    """Chat messages of the judging prompt; the assistant's first token should be the score."""
    user = (f"{_CRITERIA[item.aspect]}\n\n"
            f"Question:\n{item.question.strip()}\n\n"
            f"Reference steps:\n{item.reference.strip()}\n\n"
            f"Candidate answer:\n{item.answer.strip()}\n\n"
            f"Score 0-{item.max_score}:")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def expected_score(probs: Mapping[int, float], max_score: int) -> tuple[float, float]:
    """(E[score], probability mass on valid scores) from unnormalised score probabilities."""
    valid = {s: float(p) for s, p in probs.items() if 0 <= s <= max_score and p > 0}
    mass = sum(valid.values())
    if mass <= 0:
        return float("nan"), 0.0
    return sum(s * p for s, p in valid.items()) / mass, mass


class Judge:
    """Cached judge base. Subclasses implement `_score_items(items, indices) -> (scores, metas)`
    (`indices`: each item's position in the caller's batch, for error messages).

    Args:
      judge_id: stable name of the judge model/backend; part of the cache key.
      cache: a `JudgeCache`, a directory/sqlite path, or None for an in-memory cache.
      rubric_version: part of the cache key; bump when the rubric changes.
      price_per_1k_tokens: for the `est_cost_usd` counter (0 for local judges).
    """

    def __init__(self, judge_id: str, cache: JudgeCache | str | os.PathLike | None = None,
                 rubric_version: str = RUBRIC_VERSION, price_per_1k_tokens: float = 0.0):
        self.judge_id = judge_id
        self.cache = cache if isinstance(cache, JudgeCache) else JudgeCache(cache)
        self.rubric_version = rubric_version
        self.price_per_1k_tokens = price_per_1k_tokens
        self.stats = JudgeStats()

    def _score_items(self, items: list[JudgeItem], indices: list[int]
                     ) -> tuple[np.ndarray, list[dict]]:
        raise NotImplementedError(f"{type(self).__name__} must implement _score_items")

    def score_items(self, items: Sequence[JudgeItem]) -> np.ndarray:
        """Scores (N,) on each item's own 0..max scale, through the cache."""
        keys = [cache_key(self.judge_id, self.rubric_version, it.aspect, it.question,
                          it.answer, it.reference) for it in items]
        cached = self.cache.get_many(sorted(set(keys)))
        todo: dict[str, JudgeItem] = {}
        first_index: dict[str, int] = {}
        for i, (k, it) in enumerate(zip(keys, items)):
            if k not in cached and k not in todo:
                todo[k], first_index[k] = it, i
        self.stats.cache_hits += sum(k in cached for k in keys)
        self.stats.cache_misses += len(todo)
        if todo:
            t0 = time.perf_counter()
            scores, metas = self._score_items(list(todo.values()), list(first_index.values()))
            self.stats.seconds += time.perf_counter() - t0
            self.stats.requests += len(todo)
            for (k, it), s in zip(todo.items(), scores):
                if not (np.isfinite(s) and 0.0 <= s <= it.max_score):
                    raise JudgeError(f"judge '{self.judge_id}': item {first_index[k]} got score {s!r}, "
                                     f"outside [0, {it.max_score}]")
            self.cache.put_many(self.judge_id, {k: (float(s), m) for k, s, m
                                                in zip(todo, scores, metas)})
            cached.update({k: float(s) for k, s in zip(todo, scores)})
        self.stats.est_cost_usd = (self.stats.prompt_tokens + self.stats.completion_tokens
                                   ) / 1000.0 * self.price_per_1k_tokens
        return np.array([cached[k] for k in keys], dtype=np.float64)

    def score_batch(self, prompts: Sequence[str], completions: Sequence[str], *,
                    kb_entries: Sequence[Mapping | None] | None = None,
                    references: Sequence[str | None] | None = None,
                    aspect: str = "tech") -> np.ndarray:
        if aspect not in ASPECT_MAX:
            raise ValueError(f"judge '{self.judge_id}': unknown aspect {aspect!r}; "
                             f"use one of {sorted(ASPECT_MAX)}")
        n = len(completions)
        kbs = list(kb_entries) if kb_entries is not None else [None] * n
        refs = list(references) if references is not None else [None] * n
        items = [JudgeItem(q, a, reference_text(kb, ref), aspect)
                 for q, a, kb, ref in zip(prompts, completions, kbs, refs)]
        return self.score_items(items)

    def metrics(self) -> dict[str, float]:
        return self.stats.metrics(f"judge/{self.judge_id}")


class JudgeReward:
    """Reward = judge score / max for one aspect, in [0, 1]; info carries the raw score."""

    def __init__(self, judge: Judge, aspect: str = "tech"):
        if aspect not in ASPECT_MAX:
            raise ValueError(f"JudgeReward: unknown aspect {aspect!r}")
        self.judge, self.aspect = judge, aspect

    def __call__(self, prompts: list[str], completions: list[str], **fields: Any
                 ) -> tuple[np.ndarray, dict]:
        raw = self.judge.score_batch(prompts, completions, kb_entries=fields.get("kb_entry"),
                                     references=fields.get("reference"), aspect=self.aspect)
        return raw / ASPECT_MAX[self.aspect], {"judge_raw": raw}
