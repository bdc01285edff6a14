"""Length and repetition penalties (both ≤ 0; they enter the composite with a positive weight).

LengthPenalty — token-accurate verbosity relative to the teacher's answer:
  n   = completion length in tokens: the `completion_tokens` field (exact rollout counts)
        if given, else `len(tokenizer(completion))` with the tokenizer passed in;
  ref = the `reference_tokens` field (teacher answer length) if given, else `target_tokens`;
  r   = n / ref
  penalty = -min(max_penalty, slope · max(0, r - tolerance) + short_slope · max(0, min_ratio - r))
  e.g. tolerance 1.25, slope 1: an answer 2× the teacher's length gets -0.75; 1.2× gets 0.

RepetitionPenalty — degenerate or padded text:
  ngram  = 1 - distinct / total word n-grams (n = `n`; 0 with fewer than n words)
  lines  = share of non-empty lines that repeat an earlier line (normalised words)
  filler = min(1, stock filler phrases found / max_filler)  (`rewards.textproc.FILLER_PHRASES`)
  penalty = -(w_ngram · ngram + w_lines · lines + w_filler · filler), in [-1, 0] for weights
  summing to 1.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from mighty.rewards.base import RewardError, field
from mighty.rewards.textproc import FILLER_PHRASES, count_filler, words

Tokenizer = Callable[[str], Sequence[int]] | Any


def count_tokens(tokenizer: Tokenizer, text: str) -> int:
    """Token count with a callable `str -> ids` or an object with `.encode(str) -> ids`."""
    enc = tokenizer.encode if hasattr(tokenizer, "encode") else tokenizer
    return len(enc(text))


class LengthPenalty:
    """Verbosity penalty (module doc). `tokenizer` may be None when the caller passes the
    exact `completion_tokens` field (the GRPO rollout knows them)."""

    name = "length"

    def __init__(self, tokenizer: Tokenizer | None = None, target_tokens: int | None = None,
                 tolerance: float = 1.25, slope: float = 1.0, min_ratio: float = 0.0,
                 short_slope: float = 1.0, max_penalty: float = 1.0):
        if target_tokens is not None and target_tokens <= 0:
            raise ValueError(f"LengthPenalty: target_tokens must be > 0, got {target_tokens}")
        if tolerance < 0 or slope < 0 or short_slope < 0 or max_penalty < 0:
            raise ValueError("LengthPenalty: tolerance, slopes and max_penalty must be >= 0")
        self.tokenizer, self.target_tokens = tokenizer, target_tokens
        self.tolerance, self.slope = tolerance, slope
        self.min_ratio, self.short_slope, self.max_penalty = min_ratio, short_slope, max_penalty

    def __call__(self, prompts: list[str], completions: list[str], **fields: Any
                 ) -> tuple[np.ndarray, dict]:
        n = len(completions)
        if fields.get("completion_tokens") is not None:
            toks = np.asarray(field(fields, "completion_tokens", n, reward=self.name), np.float64)
        elif self.tokenizer is not None:
            toks = np.array([count_tokens(self.tokenizer, c) for c in completions], np.float64)
        else:
            raise RewardError("reward 'length': pass a tokenizer or the per-item "
                              "'completion_tokens' field; characters are not tokens")
        refs = [self.target_tokens if r is None else r
                for r in field(fields, "reference_tokens", n, reward=self.name)]
        missing = [i for i, r in enumerate(refs) if r is None or not r > 0]
        if missing:
            raise RewardError(f"reward 'length': items {missing[:20]} have no positive "
                              f"reference_tokens and no target_tokens is configured")
        ratio = toks / np.asarray(refs, np.float64)
        pen = (self.slope * np.maximum(0.0, ratio - self.tolerance)
               + self.short_slope * np.maximum(0.0, self.min_ratio - ratio))
        return -np.minimum(self.max_penalty, pen), {"tokens": toks, "ratio": ratio}


def repeated_ngram_rate(tokens: Sequence[str], n: int) -> float:
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def repeated_line_rate(text: str) -> float:
    lines = [" ".join(words(l)) for l in text.splitlines()]
    lines = [l for l in lines if l]
    return 1.0 - len(set(lines)) / len(lines) if lines else 0.0


class RepetitionPenalty:
    """Repetition/boilerplate penalty (module doc)."""

    name = "repetition"

    def __init__(self, n: int = 3, w_ngram: float = 0.5, w_lines: float = 0.3,
                 w_filler: float = 0.2, max_filler: int = 2,
                 filler_phrases: Iterable[str] | None = None):
        if n < 1 or max_filler < 1:
            raise ValueError("RepetitionPenalty: n and max_filler must be >= 1")
        self.n, self.max_filler = n, max_filler
        self.w = (w_ngram, w_lines, w_filler)
        self.phrases = tuple(FILLER_PHRASES if filler_phrases is None else filler_phrases)

    def terms(self, text: str) -> tuple[float, float, float]:
        return (repeated_ngram_rate(words(text), self.n), repeated_line_rate(text),
                min(1.0, count_filler(text, self.phrases) / self.max_filler))

    def __call__(self, prompts: list[str], completions: list[str], **fields: Any
                 ) -> tuple[np.ndarray, dict]:
        t = np.array([self.terms(c) for c in completions], np.float64).reshape(-1, 3)
        return -(t @ np.asarray(self.w)), {"ngram": t[:, 0], "lines": t[:, 1], "filler": t[:, 2]}
