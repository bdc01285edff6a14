"""Which model answers: a pure decision over facts the server has already measured.

The student answers by default. The teacher answers when
  1. an admin forces it (X-Admin-Token header matching `admin_token`),
  2. the question mentions a hazard (escalation/safety keyword: smoke, swollen battery, ...),
  3. the distilled intent classifier (distill.intent) puts the question's probability of
     safety escalation, or of being out of scope, at or above its threshold,
  4. the student prompt plus the retrieved context would exceed the student's token budget,
  5. retrieval confidence is below the threshold (the student has nothing to lean on; with the
     distilled reranker, its calibrated confidence).
The first rule that fires is the reason; the order above is the priority.
"""
from __future__ import annotations

import dataclasses
from typing import Literal, Mapping, Sequence

from mighty.data.escalation import find_escalation

Route = Literal["student", "teacher"]


@dataclasses.dataclass(frozen=True)
class RouteFacts:
    question: str
    prompt_tokens: int  # student prompt + retrieved context, in tokens
    retrieval_confidence: float  # in [0, 1]; 0 when retrieval is off or found nothing
    admin_teacher: bool = False
    intent: Mapping[str, float] | None = None  # the intent classifier's probabilities, if one serves


# intent label -> the reason its rule gives (distill.intent.intents names these labels)
INTENT_RULES = (("safety_escalation", "intent_escalation"), ("out_of_scope", "intent_out_of_scope"))


def decide(facts: RouteFacts, *, token_budget: int, min_confidence: float,
           escalation_keywords: Sequence[str], intent_thresholds: Mapping[str, float] | None = None
           ) -> tuple[Route, str]:
    """(route, reason). reason is one of `admin_flag`, `escalation:<keyword>`,
    `intent_escalation:<p>`, `intent_out_of_scope:<p>`, `token_budget:<n>><budget>`,
    `low_confidence:<c><<threshold>`, `default`. `intent_thresholds`: {intent label: minimum
    probability that sends the question to the teacher}."""
    if facts.admin_teacher:
        return "teacher", "admin_flag"
    kw = find_escalation(facts.question, escalation_keywords)
    if kw is not None:
        return "teacher", f"escalation:{kw}"
    if facts.intent is not None:
        for label, reason in INTENT_RULES:
            p = facts.intent.get(label, 0.0)
            if label in (intent_thresholds or {}) and p >= intent_thresholds[label]:
                return "teacher", f"{reason}:{p:.2f}"
    if facts.prompt_tokens > token_budget:
        return "teacher", f"token_budget:{facts.prompt_tokens}>{token_budget}"
    if facts.retrieval_confidence < min_confidence:
        return "teacher", f"low_confidence:{facts.retrieval_confidence:.2f}<{min_confidence:.2f}"
    return "student", "default"
