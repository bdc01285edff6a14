"""The weighted multi-objective reward.

    R = Σ_c w_c · f_c(r_c)

* `mode="weighted"`: f_c is the identity, so the weights trade raw reward units. Defaults
  w_tech = 0.6, w_lang = 0.4 (penalties such as `length` are ≤ 0 and add with their weight).
* `mode="gdpo"`: f_c z-scores component c *within its group* (the K completions of one
  prompt, from the `group_ids` field or `group_size`; the whole batch if neither is given)
  before weighting: f_c(r) = (r - mean_g(r)) / (std_g(r) + eps), and 0 when std_g < eps.
  Why: GRPO normalises the *summed* reward per group, so a component with a large
  within-group spread (a judge on 0..1) drowns one with a small spread (a rubric that moves
  by 0.05) whatever the weights say; normalising each component first (GDPO, "group reward-
  decoupled normalisation") makes the weights mean relative importance of each signal's
  ranking. A component that is constant within a group contributes 0 to that group.

Every component's output is validated (`rewards.base.validate_reward_output`), so a wrong
length, NaN or inf fails loudly with the reward name and the item indices.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mighty.rewards.base import RewardError, call_reward

DEFAULT_WEIGHTS: dict[str, float] = {"tech": 0.6, "lang": 0.4}
MODES = ("weighted", "gdpo")


@dataclass
class CompositeResult:
    total: np.ndarray                      # (N,) the reward GRPO uses
    components: dict[str, np.ndarray]      # name -> (N,) raw component rewards
    normalised: dict[str, np.ndarray]      # name -> (N,) f_c(r_c) that was weighted
    infos: dict[str, dict] = field(default_factory=dict)  # name -> that reward's info

    def metrics(self, prefix: str = "reward") -> dict[str, float]:
        """`reward/<name>/mean|std|min|max` per component and `reward/total/...`."""
        out: dict[str, float] = {}
        for name, arr in {**self.components, "total": self.total}.items():
            out[f"{prefix}/{name}/mean"] = float(np.mean(arr)) if arr.size else 0.0
            out[f"{prefix}/{name}/std"] = float(np.std(arr)) if arr.size else 0.0
            out[f"{prefix}/{name}/min"] = float(np.min(arr)) if arr.size else 0.0
            out[f"{prefix}/{name}/max"] = float(np.max(arr)) if arr.size else 0.0
        return out


def group_zscore(r: np.ndarray, groups: np.ndarray, eps: float = 1e-6, ddof: int = 1) -> np.ndarray:
    """Z-score `r` (N,) within each group id of `groups` (N,); constant groups give 0. The std
    has ddof=1, as GRPO's advantages (rl.advantages.group_advantages): one convention for
    every per-group z-score."""
    out = np.zeros_like(r, dtype=np.float64)
    for g in np.unique(groups):
        m = groups == g
        std = r[m].std(ddof=ddof) if m.sum() > ddof else 0.0
        if std >= eps:
            out[m] = (r[m] - r[m].mean()) / (std + eps)
    return out


class Composite:
    """Weighted sum of named reward components; itself a reward.

    Args:
      components: name -> reward callable. A component set to None (e.g. a judge reward
        with `judge=none`) is disabled and its weight ignored.
      weights: name -> weight (w_c). None gives DEFAULT_WEIGHTS; every enabled component
        needs a weight and every weight needs a component.
      mode: "weighted" or "gdpo" (see module doc).
      group_size: K completions per prompt for "gdpo" when no `group_ids` field is passed.
      eps: std floor for the "gdpo" z-score.

    `__call__` returns `(total [N], {name: [N]})` (the `(array, info)` reward protocol);
    `evaluate` returns the full `CompositeResult` with per-component infos and metrics.
    """

    def __init__(self, components: Mapping[str, Callable | None],
                 weights: Mapping[str, float] | None = None, mode: str = "weighted",
                 group_size: int | None = None, eps: float = 1e-6):
        if mode not in MODES:
            raise ValueError(f"Composite: mode must be one of {MODES}, got {mode!r}")
        self.components = {k: v for k, v in dict(components).items() if v is not None}
        if not self.components:
            raise ValueError("Composite: no enabled components")
        disabled = set(components) - set(self.components)
        weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        missing = sorted(set(self.components) - set(weights))
        extra = sorted(set(weights) - set(components))
        if missing or extra:
            raise ValueError(f"Composite: components {sorted(self.components)} and weights "
                             f"{sorted(weights)} disagree (no weight for {missing}, "
                             f"weight without component {extra})")
        self.weights = {k: float(weights[k]) for k in self.components}
        bad = {k: w for k, w in self.weights.items() if not np.isfinite(w)}
        if bad:
            raise ValueError(f"Composite: non-finite weights {bad}")
        self.disabled = sorted(disabled)
        self.mode = mode
        if group_size is not None and group_size < 1:
            raise ValueError(f"Composite: group_size must be >= 1, got {group_size}")
        self.group_size = group_size
        self.eps = eps

    def _groups(self, n: int, fields: Mapping[str, Any]) -> np.ndarray:
        if fields.get("group_ids") is not None:
            g = np.asarray(fields["group_ids"])
            if g.shape != (n,):
                raise RewardError(f"Composite: group_ids has shape {g.shape}, expected ({n},)")
            return g
        if self.group_size is not None:
            if n % self.group_size:
                raise RewardError(f"Composite: batch of {n} is not a multiple of "
                                  f"group_size={self.group_size}")
            return np.repeat(np.arange(n // self.group_size), self.group_size)
        return np.zeros(n, dtype=np.int64)

    def evaluate(self, prompts: Sequence[str], completions: Sequence[str],
                 **fields: Any) -> CompositeResult:
        n = len(completions)
        comps: dict[str, np.ndarray] = {}
        infos: dict[str, dict] = {}
        for name, fn in self.components.items():
            comps[name], infos[name] = call_reward(name, fn, prompts, completions, **fields)
        if self.mode == "gdpo":
            groups = self._groups(n, fields)
            normed = {k: group_zscore(v, groups, self.eps) for k, v in comps.items()}
        else:
            normed = dict(comps)
        total = np.zeros(n, dtype=np.float64)
        for name, r in normed.items():
            total += self.weights[name] * r
        return CompositeResult(total=total, components=comps, normalised=normed, infos=infos)

    def __call__(self, prompts: Sequence[str], completions: Sequence[str],
                 **fields: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        res = self.evaluate(prompts, completions, **fields)
        return res.total, res.components

    def __repr__(self) -> str:
        return f"Composite(mode={self.mode!r}, weights={self.weights}, disabled={self.disabled})"
