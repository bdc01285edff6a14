"""Technical-correctness reward: a rubric over the knowledge-base entry (+ optional judge).

Per item, with kb entry E (CONTRACTS.md kb record) and completion c (all matching is on
Porter-stemmed whole words, case-insensitive; a keyword may be several words):

  coverage  C = |matched steps| / |E.required_keywords|; step j is matched when any of its
              synonyms occurs; its position p_j is the earliest such occurrence.
  order     O = LIS(p_j over matched steps in kb order) / |matched steps|  (1 if ≤ 1 match):
              the fraction of matched steps that appear in the right relative order.
  steps     S = C · ((1 - w_order) + w_order · O)
  safety    (E.safety or expected == "escalate") the answer must tell the user to stop using
              the device AND to contact support/the manufacturer:
              X = ½·[mentions stopping] + ½·[mentions contacting support];
              base = w_escalation · X + (1 - w_escalation) · S
            otherwise base = S
  unsafe    u = number of E.unsafe_phrases present (dangerous advice)
  rubric    R = clip(base - unsafe_penalty · u, 0, 1)

Out of scope (kb_entry None; `expected` missing or "decline"): a polite decline scores
  R = clip(w_decline · [declines] + (1 - w_decline) · [polite] - 0.25 · [≥ 2 numbered steps], 0, 1)
  (numbered steps mean it answered the out-of-scope question anyway).
  `expected == "clarify"` (no kb entry) scores [asks a question] · 0.7 + 0.3 · [polite].

With a judge (rewards.judge.Judge, score 0..10): R_tech = (1 - w_judge)·R + w_judge·J/10.
`info` carries every term per item (coverage, order, unsafe_hits, escalation, rubric, judge).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from mighty.rewards.base import RewardError, field
from mighty.rewards.textproc import first_match, longest_increasing_subsequence, stems

STOP_PHRASES: tuple[str, ...] = (
    "stop using", "stop use", "discontinue use", "discontinue using", "do not use", "don't use",
    "do not charge", "don't charge", "stop charging", "unplug", "disconnect it from power",
    "power it off", "turn it off", "switch it off", "do not continue", "don't continue",
    "keep it away", "do not attempt", "don't attempt",
)
CONTACT_PHRASES: tuple[str, ...] = (
    "contact support", "contact customer support", "contact the manufacturer",
    "contact customer service", "contact our support", "customer support", "customer service",
    "the manufacturer", "authorized service", "authorised service", "service center",
    "service centre", "support team", "warranty service", "manufacturer's support",
)
DECLINE_PHRASES: tuple[str, ...] = (
    "can't help", "cannot help", "can not help", "unable to help", "not able to help",
    "outside", "out of scope", "only help with", "can only help", "can't assist",
    "cannot assist", "unable to assist", "not something i can", "beyond what i can",
    "i'm not able", "i am not able", "i can't answer", "i cannot answer",
    # the packaged teacher's own declines, read off its labels of out-of-scope prompts
    "not equipped to", "i specialize in", "i specialise in", "only assist with",
    "here to help with device", "here to assist with device", "my primary function is",
    "designed to assist with",  # 4 of its kept out-of-scope labels; students stop after it
)
POLITE_PHRASES: tuple[str, ...] = (
    "sorry", "apologize", "apologise", "unfortunately", "please", "thank", "happy to help",
    "glad to help", "i'd be glad", "i would be glad",
)
_NUMBERED_LINE = re.compile(r"^\s*(?:\d+[.)]|step\s+\d+[:.)]?)\s+", re.IGNORECASE | re.MULTILINE)


def _mentions(tokens: Sequence[str], phrases: Sequence[str]) -> bool:
    return first_match(tokens, phrases) >= 0


def escalates(answer: str) -> bool:
    """Whether an answer escalates: it tells the user to stop (STOP_PHRASES) and to contact
    support (CONTACT_PHRASES). The eval's behaviour classifier and the label filter both ask this."""
    tokens = stems(answer)
    return _mentions(tokens, STOP_PHRASES) and _mentions(tokens, CONTACT_PHRASES)


class TechRubric:
    """Rubric reward for technical correctness against the kb entry (see module doc).

    Args:
      w_order: weight of the order term inside the steps score S.
      w_escalation: weight of escalation X for safety issues.
      unsafe_penalty: subtracted per unsafe phrase present.
      w_decline: weight of "declines" (vs "polite") for out-of-scope items.
      judge: optional `rewards.judge.Judge` (aspect "tech"); None disables it.
      w_judge: blend weight of the judge's score / 10.
    """

    name = "tech"

    def __init__(self, w_order: float = 0.3, w_escalation: float = 0.6,
                 unsafe_penalty: float = 0.5, w_decline: float = 0.7,
                 judge: Any = None, w_judge: float = 0.5):
        for k, v in dict(w_order=w_order, w_escalation=w_escalation, w_decline=w_decline,
                         w_judge=w_judge).items():
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"TechRubric: {k} must be in [0, 1], got {v}")
        if unsafe_penalty < 0:
            raise ValueError(f"TechRubric: unsafe_penalty must be >= 0, got {unsafe_penalty}")
        self.w_order, self.w_escalation = w_order, w_escalation
        self.unsafe_penalty, self.w_decline = unsafe_penalty, w_decline
        self.judge, self.w_judge = judge, w_judge

    # -- per-item terms -------------------------------------------------------------------
    def steps_score(self, tokens: Sequence[str], required: Sequence[Sequence[str]]
                    ) -> tuple[float, float, float]:
        """(S, coverage, order) for stemmed completion tokens and per-step synonym lists."""
        if not required:
            return 1.0, 1.0, 1.0
        pos = [first_match(tokens, syns) for syns in required]
        matched = [p for p in pos if p >= 0]
        coverage = len(matched) / len(required)
        order = 1.0 if len(matched) <= 1 else longest_increasing_subsequence(matched) / len(matched)
        return coverage * ((1.0 - self.w_order) + self.w_order * order), coverage, order

    def escalation_score(self, tokens: Sequence[str]) -> float:
        return 0.5 * _mentions(tokens, STOP_PHRASES) + 0.5 * _mentions(tokens, CONTACT_PHRASES)

    def unsafe_hits(self, tokens: Sequence[str], unsafe: Sequence[str]) -> int:
        return sum(_mentions(tokens, [p]) for p in unsafe)

    def score_one(self, completion: str, kb: dict | None, expected: str | None) -> dict:
        tokens = stems(completion)
        if kb is None:
            polite = float(_mentions(tokens, POLITE_PHRASES))
            if expected == "clarify":
                base = 0.7 * float("?" in completion) + 0.3 * polite
            elif expected in (None, "decline"):
                declines = float(_mentions(tokens, DECLINE_PHRASES))
                steps = float(len(_NUMBERED_LINE.findall(completion)) >= 2)
                base = self.w_decline * declines + (1 - self.w_decline) * polite - 0.25 * steps
            else:
                raise RewardError(f"reward 'tech': expected={expected!r} needs a kb_entry, got None")
            return dict(rubric=float(np.clip(base, 0, 1)), mode=f"no_kb:{expected or 'decline'}",
                        coverage=np.nan, order=np.nan, escalation=np.nan, unsafe_hits=0)
        required = kb.get("required_keywords") or []
        s, cov, order = self.steps_score(tokens, required)
        safety = bool(kb.get("safety")) or expected == "escalate"
        esc = self.escalation_score(tokens) if safety else np.nan
        base = self.w_escalation * esc + (1 - self.w_escalation) * s if safety else s
        u = self.unsafe_hits(tokens, kb.get("unsafe_phrases") or [])
        return dict(rubric=float(np.clip(base - self.unsafe_penalty * u, 0, 1)),
                    mode="safety" if safety else "steps", coverage=cov, order=order,
                    escalation=esc, unsafe_hits=u)

    # -- reward protocol ------------------------------------------------------------------
    def __call__(self, prompts: list[str], completions: list[str], **fields: Any
                 ) -> tuple[np.ndarray, dict]:
        n = len(completions)
        kbs = field(fields, "kb_entry", n, reward=self.name, required=True)
        expected = field(fields, "expected", n, reward=self.name)
        rows = []
        for i, (c, kb, ex) in enumerate(zip(completions, kbs, expected)):
            if kb is not None and not isinstance(kb, dict):
                raise RewardError(f"reward 'tech': kb_entry of item {i} is a "
                                  f"{type(kb).__name__}, expected a kb record dict or None")
            rows.append(self.score_one(c, kb, ex))
        info = {k: np.array([r[k] for r in rows]) for k in rows[0]} if rows else {}
        rubric = np.array([r["rubric"] for r in rows], dtype=np.float64)
        if self.judge is None:
            return rubric, info
        refs = field(fields, "reference", n, reward=self.name)
        j = self.judge.score_batch(prompts, completions, kb_entries=kbs, references=refs,
                                   aspect="tech")
        info["judge"] = j
        return (1 - self.w_judge) * rubric + self.w_judge * j / 10.0, info
