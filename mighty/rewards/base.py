"""The reward protocol and its validation.

A reward is any host-side callable

    reward(prompts: list[str], completions: list[str], **fields) -> np.ndarray [N]
    reward(prompts, completions, **fields) -> (np.ndarray [N], info: dict)

`fields` carry per-item lists of length N (`kb_entry`, `reference`, `reference_tokens`,
`completion_tokens`, `expected`, ...); a reward takes the fields it needs and ignores the
rest (declare `**fields`). `info` holds per-item diagnostics (lists/arrays of length N) or
scalars, for logging only.

Every output goes through `validate_reward_output` before it is used: a wrong length, a
non-numeric array, NaN or inf is a `RewardError` naming the reward and the item indices,
instead of silently poisoning the group statistics of GRPO.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

_MAX_LISTED = 20  # item indices listed in an error before "..."


class RewardError(ValueError):
    """A reward returned something unusable, or raised; the message names the reward."""


class Reward(Protocol):
    def __call__(self, prompts: list[str], completions: list[str], **fields: Any
                 ) -> np.ndarray | tuple[np.ndarray, dict]: ...


def _fmt_indices(idx: Sequence[int]) -> str:
    shown = ", ".join(str(int(i)) for i in idx[:_MAX_LISTED])
    return f"[{shown}{', ...' if len(idx) > _MAX_LISTED else ''}] ({len(idx)} items)"


def validate_reward_output(name: str, out: Any, n: int) -> tuple[np.ndarray, dict]:
    """Check one reward's output; return `(rewards float64 [n], info dict)`.

    Raises `RewardError` naming `name` for: a tuple that is not `(array, dict)`, a
    non-numeric or non-1-D array, a length other than `n`, NaN or inf (with item indices).
    """
    info: dict = {}
    if isinstance(out, tuple):
        if len(out) != 2 or not isinstance(out[1], Mapping):
            raise RewardError(
                f"reward '{name}': expected an array or (array, info dict), got a tuple of "
                f"{len(out)} with types {[type(o).__name__ for o in out]}")
        out, info = out[0], dict(out[1])
    try:
        arr = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise RewardError(f"reward '{name}': output is not numeric ({type(out).__name__}): {e}") from e
    if arr.ndim != 1:
        raise RewardError(f"reward '{name}': expected a 1-D array of length {n}, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise RewardError(
            f"reward '{name}': expected {n} rewards (one per completion), got {arr.shape[0]}")
    nan_idx = np.flatnonzero(np.isnan(arr))
    inf_idx = np.flatnonzero(np.isinf(arr))
    if nan_idx.size or inf_idx.size:
        parts = []
        if nan_idx.size:
            parts.append(f"NaN at items {_fmt_indices(nan_idx)}")
        if inf_idx.size:
            parts.append(f"inf at items {_fmt_indices(inf_idx)}")
        raise RewardError(f"reward '{name}': " + "; ".join(parts)
                          + " — fix the reward or drop these completions before scoring")
    return arr, info


def call_reward(name: str, fn: Callable, prompts: Sequence[str], completions: Sequence[str],
                **fields: Any) -> tuple[np.ndarray, dict]:
    """Call one reward and validate its output; exceptions are re-raised naming the reward."""
    n = len(completions)
    if len(prompts) != n:
        raise RewardError(f"reward '{name}': got {len(prompts)} prompts but {n} completions")
    for key, val in fields.items():
        if isinstance(val, (list, tuple, np.ndarray)) and len(val) != n:
            raise RewardError(
                f"reward '{name}': field '{key}' has {len(val)} items but there are {n} completions")
    try:
        out = fn(list(prompts), list(completions), **fields)
    except RewardError:
        raise
    except Exception as e:
        raise RewardError(f"reward '{name}' raised {type(e).__name__}: {e}") from e
    return validate_reward_output(name, out, n)


def field(fields: Mapping[str, Any], key: str, n: int, default: Any = None,
          *, reward: str, required: bool = False) -> list:
    """Per-item list for `key` from the batch fields (a scalar default is broadcast)."""
    if key not in fields or fields[key] is None:
        if required:
            raise RewardError(f"reward '{reward}': needs the per-item field '{key}' "
                              f"(pass {key}=[...] with {n} items)")
        return [default] * n
    val = list(fields[key])
    if len(val) != n:
        raise RewardError(f"reward '{reward}': field '{key}' has {len(val)} items, expected {n}")
    return val
