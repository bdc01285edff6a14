"""Checks on a finished answer before the user is told it is final.

A failed check makes the server re-ask the teacher (see demo/service.py). Steps are parsed
here too, because the UI, `/ask` and the `done` message all report the same `steps` list.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Sequence

# "1. Do x", "2) Do y", "Step 3: Do z" at the start of a line.
_STEP_RE = re.compile(r"^\s*(?:step\s*)?(\d{1,2})\s*[.):\-]\s+(\S.*)$", re.IGNORECASE)
_TROUBLESHOOT_RE = re.compile(
    r"\b(won'?t|will not|doesn'?t|does not|isn'?t|not|can'?t|cannot|no sound|stopped|keeps?|"
    r"fix|how (?:do|can|to)|help|reset|pair|connect|disconnect|drop|broken|problem|issue|error|"
    r"fails?|stuck|dead|crackl|static|buzz|update|setup|set up)\b", re.IGNORECASE)


def parse_steps(text: str) -> list[str]:
    """Numbered steps in order of appearance; continuation lines join the step above."""
    steps: list[str] = []
    in_step = False
    for line in text.splitlines():
        m = _STEP_RE.match(line)
        if m:
            steps.append(m.group(2).strip())
            in_step = True
        elif in_step and line.strip() and line[:1].isspace():
            steps[-1] += " " + line.strip()
        elif line.strip():
            in_step = False  # unindented prose ends the step
    return steps


def expects_steps(question: str) -> bool:
    """Does this question ask for troubleshooting (so the answer must be numbered steps)?"""
    return bool(_TROUBLESHOOT_RE.search(question))


@dataclasses.dataclass(frozen=True)
class Validation:
    ok: bool
    failures: tuple[str, ...]  # machine-readable: empty, too_short, no_steps, unsafe:<phrase>
    steps: tuple[str, ...]


def find_unsafe(text: str, phrases: Sequence[str]) -> str | None:
    low = re.sub(r"\s+", " ", text.lower())
    for p in phrases:
        p = re.sub(r"\s+", " ", p.strip().lower())
        if p and p in low:
            return p
    return None


def validate(answer: str, *, question: str, unsafe_phrases: Sequence[str], min_chars: int = 8,
             min_steps: int = 2, steps_required: bool | None = None,
             escalation: bool = False) -> Validation:
    """Validate a complete answer.

    steps_required: None -> decided from the question (`expects_steps`). An escalation answer
    ("stop using it and contact support") is not required to be a numbered list.
    """
    failures: list[str] = []
    text = answer.strip()
    steps = parse_steps(text)
    if not text:
        failures.append("empty")
    elif len(text) < min_chars:
        failures.append("too_short")
    need = expects_steps(question) if steps_required is None else steps_required
    if text and need and not escalation and len(steps) < min_steps:
        failures.append("no_steps")
    bad = find_unsafe(text, unsafe_phrases)
    if bad is not None:
        failures.append(f"unsafe:{bad}")
    return Validation(ok=not failures, failures=tuple(failures), steps=tuple(steps))
