"""Group-relative advantage estimators (pure, jittable).

Rewards are laid out group-contiguous: ``rewards_n = [g0k0, …, g0k(G−1), g1k0, …]`` with
N = num_prompts × G, G = ``group_size`` completions per prompt. Advantages are per
completion, ``adv_n``; a group whose rewards are all equal carries no learning signal and gets
advantages of exactly 0 (not rounding noise divided by ε).
"""
from __future__ import annotations

import jax.numpy as jnp

SCALES = ("group", "batch", "none")


def _groups(rewards_n, group_size):
    n = rewards_n.shape[0]
    if group_size < 2 or n % group_size:
        raise ValueError(
            f"advantages: need group_size ≥ 2 dividing N; got N={n}, group_size={group_size}."
        )
    return rewards_n.reshape(n // group_size, group_size)


def _flat_group(rewards_gk):
    """True per group when all its rewards are equal (max == min), shape (num_groups, 1)."""
    return (jnp.max(rewards_gk, -1) == jnp.min(rewards_gk, -1))[:, None]


def group_advantages(rewards_n, group_size, scale="group", eps=1e-6, ddof=1):
    """GRPO advantages A_i = (r_i − mean_group(r)) / (σ + ε).

    Args:
      rewards_n: float (N,), group-contiguous.
      group_size: G completions per prompt.
      scale: σ is the group's std (``"group"``, GRPO), the std of the whole batch of rewards
        (``"batch"``, as TRL's ``scale_rewards="batch"``), or no scaling (``"none"``,
        Dr. GRPO: A_i = r_i − mean).
      eps: ε added to σ.
      ddof: std degrees of freedom; 1 (unbiased) as TRL and tunix use.

    Returns:
      adv_n (N,); exactly 0 in groups with equal rewards.
    """
    rewards_gk = _groups(rewards_n, group_size)
    centred_gk = rewards_gk - jnp.mean(rewards_gk, axis=-1, keepdims=True)
    if scale == "group":
        centred_gk = centred_gk / (jnp.std(rewards_gk, -1, keepdims=True, ddof=ddof) + eps)
    elif scale == "batch":
        centred_gk = centred_gk / (jnp.std(rewards_n, ddof=ddof) + eps)
    elif scale != "none":
        raise ValueError(f"group_advantages: unknown scale {scale!r}; choose one of {SCALES}.")
    return jnp.where(_flat_group(rewards_gk), 0.0, centred_gk).reshape(-1)


def rloo_advantages(rewards_n, group_size):
    """RLOO: A_i = r_i − mean_{j≠i} r_j = G/(G − 1) · (r_i − mean_group(r)); (N,)."""
    rewards_gk = _groups(rewards_n, group_size)
    loo_mean_gk = (jnp.sum(rewards_gk, -1, keepdims=True) - rewards_gk) / (group_size - 1)
    return jnp.where(_flat_group(rewards_gk), 0.0, rewards_gk - loo_mean_gk).reshape(-1)


def zero_std_group_fraction(rewards_n, group_size):
    """Fraction of groups whose rewards are all equal (no gradient signal); scalar."""
    return jnp.mean(_flat_group(_groups(rewards_n, group_size)).astype(jnp.float32))
