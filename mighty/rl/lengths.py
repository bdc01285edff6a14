"""The teacher's answer length per GRPO prompt: the `reference_tokens` LengthPenalty compares
a completion with (`rewards.length`). Without it the penalty falls back to a fixed
`target_tokens` (256), which no 128-token rollout ever exceeds, so it was 0 in every run.

Lengths come from the label stage's cache (`data.logprob_cache`: the teacher's kept answers,
in tokens). A prompt the teacher answered gets its own answer's length; any other prompt (the
held-out split, prompts past `label.limit`) gets the median over its issue's answers, else
the median over all answers, so every item has a teacher-derived reference.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class TeacherLengths:
    by_prompt: Mapping[str, int]
    by_issue: Mapping[str, float]
    overall: float

    def of(self, record: Mapping) -> float:
        if record.get("prompt_id") in self.by_prompt:
            return float(self.by_prompt[record["prompt_id"]])
        return float(self.by_issue.get(record.get("issue_id"), self.overall))

    def reference_tokens(self, records: Sequence[Mapping]) -> list[float]:
        return [self.of(r) for r in records]


def from_rows(rows: Iterable[Mapping]) -> TeacherLengths:
    """Rows with `prompt_id`, `issue_id` and the answer's `tokens` (or a `length`)."""
    by_prompt: dict[str, int] = {}
    per_issue: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        n = int(row["length"]) if "length" in row else len(row["tokens"])
        if n <= 0:
            continue  # an empty answer is no reference
        by_prompt[row["prompt_id"]] = n
        per_issue[row["issue_id"]].append(n)
    if not by_prompt:
        raise ValueError("teacher lengths: no teacher answer with at least one token")
    return TeacherLengths(by_prompt, {k: float(np.median(v)) for k, v in per_issue.items()},
                          float(np.median(list(by_prompt.values()))))


def from_label_cache(cache_dir: str | Path) -> TeacherLengths:
    from mighty.data.logprob_cache import LogprobCache

    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        raise FileNotFoundError(f"label_cache={cache_dir} does not exist: pass the label stage's "
                                f"output dir, or null to use the length reward's target_tokens")
    return from_rows(LogprobCache(cache_dir).iter_rows(only_kept=True))
