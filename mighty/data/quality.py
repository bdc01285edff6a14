"""Rubric step coverage: how many of a KB entry's required steps an answer covers, in order."""
from __future__ import annotations

import bisect
import re
from typing import Sequence


def _positions(text: str, keywords: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of every whole-word match of any keyword, sorted."""
    spans = []
    for kw in keywords:
        kw = kw.strip().lower()
        if kw:
            pattern = r"(?<!\w)" + re.escape(kw).replace(r"\ ", r"\s+") + r"(?!\w)"
            spans += [(m.start(), m.end()) for m in re.finditer(pattern, text)]
    return sorted(spans)


def covered_steps(answer: str, required_keywords: Sequence[Sequence[str]]) -> int:
    """The most keyword groups matched at strictly increasing positions (order matters).

    Exact longest-chain DP: `best[c]` is the smallest end offset of a chain of c matched
    groups; a group may be skipped, so one early-misplaced step cannot block the rest.
    """
    text = answer.lower()
    best = [0]  # best[c] = min end of a chain covering c groups; best[0] = start of text
    for group in required_keywords:
        spans = _positions(text, group)
        starts = [s for s, _ in spans]
        new = list(best)
        for c, end in enumerate(best):
            i = bisect.bisect_left(starts, end)
            if i < len(spans):
                cand = min(e for s, e in spans[i:])  # earliest finishing match at or after `end`
                if c + 1 < len(new):
                    new[c + 1] = min(new[c + 1], cand)
                else:
                    new.append(cand)
        best = new
    return len(best) - 1


def step_coverage(answer: str, required_keywords: Sequence[Sequence[str]]) -> float:
    """Fraction of required steps covered in order, in [0, 1] (1.0 when nothing is required)."""
    if not required_keywords:
        return 1.0
    return covered_steps(answer, required_keywords) / len(required_keywords)
