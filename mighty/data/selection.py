"""Which training prompts a stage sees: spread over issues, the rare behaviours first.

The label stage takes the head of this order (`label.limit`), GRPO the whole order
(`grpo_train.prompt_order=balanced`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mighty.data.corpus.scope import is_out_of_scope


def select_prompts(prompts: Sequence[dict], limit: int | None, kb: dict[str, dict], seed: int,
                   rare_rounds: int = 1) -> list[dict]:
    """`limit` prompts spread over issues (the head of `balanced_order`); all of them, in file
    order, when `limit` is None or covers the file.

    The split files are grouped by device, so their first 80 prompts were 6 issues of one
    device: a KD student that never saw a speaker, a thermostat or a safety case.
    """
    if limit is None or limit >= len(prompts):
        return list(prompts)
    return balanced_order(prompts, kb, seed, rare_rounds)[:limit]


def balanced_order(prompts: Sequence[dict], kb: dict[str, dict], seed: int,
                   rare_rounds: int = 1) -> list[dict]:
    """Every prompt once, spread over issues: first `rare_rounds` prompts of every safety issue
    and out-of-scope topic (rare behaviours the product must never miss), then round r takes
    the r-th remaining prompt of every issue, issues in a seeded order. Any prefix is as even
    over issues as the file allows (the label stage's `limit`, GRPO's `prompt_order=balanced`).
    """
    by_issue: dict[str, list[dict]] = {}
    for p in prompts:
        by_issue.setdefault(p["issue_id"], []).append(p)
    issues = sorted(by_issue)
    order = np.random.default_rng(seed).permutation(len(issues))
    rare = lambda i: kb.get(i, {}).get("safety", False) or is_out_of_scope(i)  # noqa: E731
    issues = sorted((issues[i] for i in order), key=lambda i: not rare(i))
    first = [by_issue[i][r] for r in range(rare_rounds) for i in issues
             if rare(i) and r < len(by_issue[i])]
    taken = {id(p) for p in first}
    rounds = max(len(v) for v in by_issue.values())
    return first + [by_issue[i][r] for r in range(rounds) for i in issues
                    if r < len(by_issue[i]) and id(by_issue[i][r]) not in taken]
