"""Splitting training prompts by issue_id: no issue ever sits on both sides of a split."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable, Sequence

import numpy as np


@dataclasses.dataclass
class SplitResult:
    train: list[dict]
    val: list[dict]
    heldout: list[dict]  # prompts whose issue is reserved for eval; never trained on
    train_issues: list[str]
    val_issues: list[str]
    eval_issues: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"train": len(self.train), "val": len(self.val), "heldout_prompts": len(self.heldout),
                "train_issues": len(self.train_issues), "val_issues": len(self.val_issues),
                "eval_issues": len(self.eval_issues)}


def pick_val_issues(issue_ids: Iterable[str], frac: float, seed: int) -> list[str]:
    """A seeded random `frac` of the issues (at least one when frac > 0 and ≥ 2 issues)."""
    if not 0.0 <= frac < 1.0:
        raise ValueError(f"val_frac must be in [0, 1), got {frac}")
    issues = sorted(set(issue_ids))
    n = 0 if frac == 0 or len(issues) < 2 else max(1, math.floor(frac * len(issues) + 0.5))
    order = np.random.default_rng(seed).permutation(len(issues))
    return sorted(issues[i] for i in order[:n])


def split_by_issue(prompts: Sequence[dict], *, eval_issues: Iterable[str], val_frac: float,
                   seed: int) -> SplitResult:
    """Held-out issues go to eval; of the rest, a seeded `val_frac` of issues go to val."""
    eval_set = set(eval_issues)
    trainable = sorted({p["issue_id"] for p in prompts} - eval_set)
    val_set = set(pick_val_issues(trainable, val_frac, seed))
    train = [p for p in prompts if p["issue_id"] not in eval_set | val_set]
    val = [p for p in prompts if p["issue_id"] in val_set]
    held = [p for p in prompts if p["issue_id"] in eval_set]
    result = SplitResult(train, val, held, sorted(set(trainable) - val_set), sorted(val_set),
                         sorted(eval_set))
    assert_disjoint({"train": result.train_issues, "val": result.val_issues,
                     "eval": result.eval_issues})
    return result


def assert_disjoint(groups: dict[str, Iterable[str]]) -> None:
    """Raises naming the two groups and a few shared issue ids if any issue is in both."""
    sets = {k: set(v) for k, v in groups.items()}
    names = sorted(sets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = sets[a] & sets[b]
            if shared:
                raise ValueError(f"issue leak: {len(shared)} issue(s) in both {a} and {b}, e.g. "
                                 f"{sorted(shared)[:5]} (split by issue_id)")
