"""GRPO alignment: advantages, policy losses and KL estimators (this namespace); the rollout
(`rl.rollout`), the jitted step (`rl.step`), the host loop (`rl.learner`) and the entry point
(`python -m mighty.rl.train`) live in their modules."""
from mighty.rl.advantages import group_advantages, rloo_advantages, zero_std_group_fraction
from mighty.rl.losses import (
    AGGREGATIONS,
    KL_ESTIMATORS,
    aggregate,
    clipped_surrogate,
    grpo_loss,
    kl_estimate,
    token_entropy,
)

__all__ = [
    "AGGREGATIONS",
    "KL_ESTIMATORS",
    "aggregate",
    "clipped_surrogate",
    "group_advantages",
    "grpo_loss",
    "kl_estimate",
    "rloo_advantages",
    "token_entropy",
    "zero_std_group_fraction",
]
