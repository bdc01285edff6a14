"""Pluggable host-side rewards for GRPO (see docs/CONTRACTS.md, "rewards/").

Light imports only: judge backends (`rewards.judge_http`, `rewards.judge_jax`) and the
language reward (link-grammar, textstat) are imported from their own modules on demand.
"""
from mighty.rewards.base import Reward, RewardError, call_reward, validate_reward_output
from mighty.rewards.composite import DEFAULT_WEIGHTS, Composite, CompositeResult, group_zscore
from mighty.rewards.judge import (Judge, JudgeError, JudgeHTTPError, JudgeParseError, JudgeReward,
                           JudgeTimeoutError)
from mighty.rewards.judge_cache import JudgeCache, JudgeStats
from mighty.rewards.length import LengthPenalty, RepetitionPenalty
from mighty.rewards.tech import TechRubric

__all__ = [
    "Reward", "RewardError", "call_reward", "validate_reward_output",
    "DEFAULT_WEIGHTS", "Composite", "CompositeResult", "group_zscore",
    "Judge", "JudgeError", "JudgeHTTPError", "JudgeParseError", "JudgeReward",
    "JudgeTimeoutError", "JudgeCache", "JudgeStats",
    "LengthPenalty", "RepetitionPenalty", "TechRubric",
]
