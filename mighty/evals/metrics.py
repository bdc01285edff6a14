"""Per-item evaluation metrics that are not rewards: behaviour, utility, QA match, P/R."""
from __future__ import annotations

import re
import string
from typing import Sequence

import numpy as np

from mighty.rewards.lang import numbered_steps
from mighty.rewards.tech import DECLINE_PHRASES, escalates
from mighty.rewards.textproc import first_match, stems

# Imperative openers of an actionable step ("Turn off…", "Hold the button…"). A step that
# opens with one of these (after its number) tells the user what to do.
ACTION_VERBS = frozenset("""
adjust allow apply check charge choose clean clear close confirm connect contact delete disable
disconnect enable ensure enter find follow forget go hold install keep launch log look make
move open pair place plug power press reboot reconnect reinstall remove rename replace reset
restart restore run select set shut sign start stop swap switch tap test toggle try turn
uninstall unplug update upgrade use verify wait wipe disconnect re-pair repair
""".split())

_STEP_LINE = re.compile(r"^\s*(?:step\s+)?\d+[.):]\s+(.*)$", re.IGNORECASE | re.MULTILINE)


def behaviour(answer: str) -> str:
    """What an answer does: `escalate` (stop + contact support), `decline`, `clarify`
    (asks a question, gives no steps) or `answer` (anything else)."""
    toks = stems(answer)
    steps = len(numbered_steps(answer))
    if escalates(answer):
        return "escalate"
    if first_match(toks, DECLINE_PHRASES) >= 0 and steps < 2:
        return "decline"
    if "?" in answer and steps == 0:
        return "clarify"
    return "answer"


def step_texts(answer: str) -> list[str]:
    """The text of each numbered step ("1. Turn it off" -> "Turn it off"), in order."""
    return [s.strip() for s in _STEP_LINE.findall(answer)]


def utility(answer: str, min_steps: int = 3) -> float:
    """Practical utility in [0, 1]: the share of numbered steps that open with an action verb,
    scaled by min(1, steps / min_steps) — a wall of text with no steps scores 0."""
    steps = step_texts(answer)
    if not steps:
        return 0.0
    actionable = sum(1 for s in steps if (s.split() or [""])[0].strip(string.punctuation).lower() in ACTION_VERBS)
    return actionable / len(steps) * min(1.0, len(steps) / min_steps)


def normalise_answer(text: str) -> str:
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return " ".join(w for w in text.split() if w not in {"a", "an", "the"})


def qa_match(prediction: str, answers: Sequence[str]) -> float:
    """1 when any accepted answer appears as a whole phrase in the normalised prediction."""
    pred = f" {normalise_answer(prediction)} "
    return float(any(f" {normalise_answer(a)} " in pred for a in answers if normalise_answer(a)))


def paired_wins(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """Per item: 1 where system a scored above b, 0.5 on a tie, 0 below: the mean is a's win
    rate over b on a per-item metric, with no judge."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))


def precision_recall(predicted: Sequence[bool], actual: Sequence[bool]) -> dict[str, float]:
    """Precision/recall/F1 of a binary behaviour (e.g. 'escalates') against the expected one.
    An undefined ratio (no predicted or no actual positives) is NaN, never a silent 0 or 1."""
    p, a = np.asarray(predicted, bool), np.asarray(actual, bool)
    tp = float((p & a).sum())
    precision = tp / p.sum() if p.sum() else float("nan")
    recall = tp / a.sum() if a.sum() else float("nan")
    f1 = (2 * precision * recall / (precision + recall)
          if np.isfinite(precision) and np.isfinite(recall) and precision + recall > 0 else float("nan"))
    return {"precision": precision, "recall": recall, "f1": f1,
            "support": int(a.sum()), "predicted": int(p.sum())}
