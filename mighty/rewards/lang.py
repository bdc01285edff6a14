"""Language-quality reward R_lang in [0, 1].

Per completion:
  grammar     G = clip(1 - null_scale · null_rate, 0, 1); null_rate = unlinked words / parsed
                words over all sentences (link-grammar, `rewards.grammar`).
  spelling    P = clip(1 - miss_scale · misspelt / checked words, 0, 1) (`rewards.spelling`,
                device words allowlisted).
  readability B = 1 if the Flesch reading ease is inside [band_lo, band_hi], else
                exp(-distance / band_scale) (`rewards.readability`).
  structure   T = [numbered steps are 1, 2, 3, … in order] · min(1, n_steps / min_steps);
                items whose `kb_entry` is explicitly None (out of scope: a decline needs no
                steps) get T = 1.
  judge       J = fluency score / 5 from an optional judge (`rewards.judge`, aspect "fluency").

  R_lang = Σ w_k · k / Σ w_k over the terms present (J only with a judge); defaults
  w_grammar 0.4, w_spelling 0.25, w_readability 0.2, w_structure 0.15, w_judge 0.25.
An empty completion (no words) scores 0. `info` carries every term per item.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from mighty.rewards.base import field
from mighty.rewards.grammar import LinkGrammar
from mighty.rewards.readability import band_score, flesch_reading_ease
from mighty.rewards.spelling import Spelling

_STEP_NUM = re.compile(r"^\s*(?:step\s+)?(\d+)[.):]\s+\S", re.IGNORECASE | re.MULTILINE)


def numbered_steps(text: str) -> list[int]:
    """The step numbers of lines that start like "1. ", "2) ", "Step 3: "."""
    return [int(m.group(1)) for m in _STEP_NUM.finditer(text)]


def structure_score(text: str, min_steps: int = 3) -> float:
    nums = numbered_steps(text)
    if not nums:
        return 0.0
    in_order = nums == list(range(1, len(nums) + 1))
    return float(in_order) * min(1.0, len(nums) / min_steps)


class LangQuality:
    """R_lang (module doc). Args are the term weights, their scales, the readability band,
    an extra spelling allowlist, link-grammar limits and an optional fluency judge."""

    name = "lang"

    def __init__(self, w_grammar: float = 0.4, w_spelling: float = 0.25,
                 w_readability: float = 0.2, w_structure: float = 0.15, w_judge: float = 0.25,
                 null_scale: float = 2.0, miss_scale: float = 5.0,
                 band_lo: float = 55.0, band_hi: float = 95.0, band_scale: float = 20.0,
                 min_steps: int = 3, allowlist: Iterable[str] = (), max_words: int = 40,
                 max_parse_time: int = 2, judge: Any = None):
        self.weights = dict(grammar=w_grammar, spelling=w_spelling, readability=w_readability,
                            structure=w_structure)
        if judge is not None:
            self.weights["judge"] = w_judge
        if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise ValueError(f"LangQuality: weights must be >= 0 with a positive sum, got {self.weights}")
        if band_lo > band_hi:
            raise ValueError(f"LangQuality: band_lo {band_lo} > band_hi {band_hi}")
        self.null_scale, self.miss_scale = null_scale, miss_scale
        self.band = (band_lo, band_hi, band_scale)
        self.min_steps = min_steps
        self.grammar = LinkGrammar(max_words=max_words, max_parse_time=max_parse_time)
        self.spelling = Spelling(allowlist)
        self.judge = judge

    def terms(self, text: str, kb_present: bool = True) -> dict[str, float]:
        g = self.grammar(text)
        n_checked, miss = self.spelling.misspelt(text)
        if g.words == 0 or n_checked == 0:
            return dict(grammar=0.0, spelling=0.0, readability=0.0, structure=0.0,
                        null_rate=1.0, misspelt=0, flesch=float("nan"))
        fre = flesch_reading_ease(text)
        return dict(
            grammar=float(np.clip(1 - self.null_scale * g.null_rate, 0, 1)),
            spelling=float(np.clip(1 - self.miss_scale * len(miss) / n_checked, 0, 1)),
            readability=band_score(fre, *self.band),
            structure=structure_score(text, self.min_steps) if kb_present else 1.0,
            null_rate=g.null_rate, misspelt=len(miss), flesch=fre)

    def __call__(self, prompts: list[str], completions: list[str], **fields: Any
                 ) -> tuple[np.ndarray, dict]:
        n = len(completions)
        has_kb = "kb_entry" in fields and fields["kb_entry"] is not None
        kbs = field(fields, "kb_entry", n, reward=self.name)
        rows = [self.terms(c, kb_present=(not has_kb) or kb is not None)
                for c, kb in zip(completions, kbs)]
        info = {k: np.array([r[k] for r in rows]) for k in (rows[0] if rows else {})}
        if self.judge is not None:
            info["judge"] = self.judge.score_batch(
                prompts, completions, kb_entries=kbs,
                references=field(fields, "reference", n, reward=self.name),
                aspect="fluency") / 5.0
        total = sum(self.weights.values())
        r = sum(w * info[k] for k, w in self.weights.items()) / total if rows else np.zeros(0)
        empty = np.array([not c.strip() for c in completions], dtype=bool)
        return np.where(empty, 0.0, r).astype(np.float64), info
