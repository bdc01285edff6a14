"""Dynamic sampling (DAPO §3.2): keep only groups whose rewards vary, refill, keep the size.

A group whose G rewards are all equal has advantage 0 for every completion, so it adds no
policy gradient but still dilutes the batch (and, with token aggregation, shrinks the step).
`fill_groups` draws rollout rounds of fresh prompts until `num_groups` informative groups are
collected or `max_rounds` extra rounds are spent; any shortfall is padded with zero-variance
groups (they contribute nothing), so the batch, and therefore the compiled step, never changes
shape. Everything here is host-side NumPy.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


def group_reward_std(rewards_n: np.ndarray, group_size: int) -> np.ndarray:
    """Population std of each group's rewards, (num_groups,); rewards are group-contiguous."""
    rewards_n = np.asarray(rewards_n, np.float64)
    if group_size < 1 or rewards_n.shape[0] % group_size:
        raise ValueError(f"group_reward_std: {rewards_n.shape[0]} rewards are not a multiple of "
                         f"group_size={group_size}")
    return rewards_n.reshape(-1, group_size).std(axis=1)


class Groups(Protocol):
    """A rollout result whose rows are grouped: `num_groups`, `rewards` (N,), `select_groups`."""

    num_groups: int
    rewards: np.ndarray

    def select_groups(self, idx: np.ndarray) -> "Groups": ...


@dataclass
class FillStats:
    rounds: int  # rollout rounds run (1 = no refill needed)
    dropped: int  # zero-variance groups seen and dropped over all rounds
    refilled: int  # informative groups taken from rounds after the first
    shortfall: int  # zero-variance groups padded back in after max_rounds (0 advantage)
    zero_std_frac: float  # fraction of zero-variance groups in the first round

    def metrics(self, prefix: str = "grpo/ds") -> dict[str, float]:
        return {f"{prefix}/{k}": float(v) for k, v in vars(self).items()}


@dataclass
class Selection:
    """Which groups of which round make up the batch, in order: [(round, group_idx array)]."""

    parts: list[tuple[int, np.ndarray]]
    stats: FillStats


def select(rewards_by_round: list[np.ndarray], group_size: int, num_groups: int,
           min_std: float) -> Selection:
    """Pick `num_groups` groups from the rounds so far; the batch lists them in draw order.

    Pure bookkeeping (no rollouts), so the policy is testable by itself: a group is
    informative when its reward std exceeds `min_std`; the earliest informative groups are
    taken first and any shortfall is padded with the earliest zero-variance groups.
    """
    take: list[tuple[int, int]] = []
    flat: list[tuple[int, int]] = []
    for r, rewards in enumerate(rewards_by_round):
        ok = group_reward_std(rewards, group_size) > min_std
        for g in range(ok.shape[0]):
            (take if ok[g] else flat).append((r, g))
    informative = take[:num_groups]
    shortfall = max(0, num_groups - len(informative))
    chosen = informative + flat[:shortfall]
    first_std = group_reward_std(rewards_by_round[0], group_size)
    stats = FillStats(
        rounds=len(rewards_by_round),
        dropped=len(flat) - min(shortfall, len(flat)),
        refilled=sum(1 for r, _ in informative if r > 0),
        shortfall=shortfall,
        zero_std_frac=float(np.mean(first_std <= min_std)))
    parts = [(r, np.array([g for rr, g in chosen if rr == r], np.int32))
             for r in range(len(rewards_by_round))]
    return Selection([(r, idx) for r, idx in parts if idx.size], stats)


def fill_groups(draw: Callable[[int], Groups], concat: Callable[[list[Groups]], Groups], *,
                group_size: int, num_groups: int, enabled: bool, max_rounds: int,
                min_std: float) -> tuple[Groups, FillStats]:
    """Draw rollout rounds (`draw(round)`, each with `num_groups` fresh prompts) and assemble
    a batch of exactly `num_groups` groups.

    With `enabled=False` one round is drawn and returned as is (stats still report its
    zero-variance fraction). Rounds stop as soon as enough informative groups are in hand.
    """
    rounds = [draw(0)]
    if not enabled:
        stats = FillStats(1, 0, 0, 0, float(np.mean(
            group_reward_std(rounds[0].rewards, group_size) <= min_std)))
        return rounds[0], stats
    while True:
        sel = select([g.rewards for g in rounds], group_size, num_groups, min_std)
        if sel.stats.shortfall == 0 or len(rounds) > max_rounds:
            break
        rounds.append(draw(len(rounds)))
    picked = [rounds[r].select_groups(idx) for r, idx in sel.parts]
    return (picked[0] if len(picked) == 1 else concat(picked)), sel.stats
