"""GRPO / DAPO / Dr. GRPO policy losses and KL estimators (pure, jittable).

Notation: π_θ the policy being trained, π_old the policy that sampled the completions (its
log-probs are stored once per batch and reused for μ inner iterations), π_ref the frozen
reference, A the advantage, ε_low/ε_high the clip range (DAPO's clip-higher uses
ε_high > ε_low), β the KL coefficient.

Per token:  ρ = π_θ/π_old,
            ℓ = −min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A) + β·k(π_θ, π_ref) − c_H·H
and ``aggregate`` reduces ℓ over the batch in one of ``AGGREGATIONS``.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

KL_ESTIMATORS = ("k1", "k2", "k3")
AGGREGATIONS = ("token", "sequence", "dr_grpo")


def kl_estimate(logp_bt, logp_ref_bt, estimator="k3"):
    """Per-token estimate of KL(π ‖ π_ref) from tokens sampled from π (Schulman, 2020).

    With log ρ = log π − log π_ref:
      k1 = log ρ                        unbiased, high variance, can be negative;
      k2 = ½ (log ρ)²                   biased (low for small KL), low variance, ≥ 0;
      k3 = exp(−log ρ) − 1 + log ρ      unbiased, low variance, ≥ 0 (GRPO's choice).
    """
    log_rho = logp_bt - logp_ref_bt
    if estimator == "k1":
        return log_rho
    if estimator == "k2":
        return 0.5 * jnp.square(log_rho)
    if estimator == "k3":
        return jnp.expm1(-log_rho) + log_rho
    raise ValueError(f"kl_estimate: unknown estimator {estimator!r}; choose {KL_ESTIMATORS}.")


def token_entropy(logits_btv):
    """H(π(·|s_t)) per token from logits, (B, T)."""
    logp_btv = jax.nn.log_softmax(logits_btv, axis=-1)
    return -jnp.sum(jnp.exp(logp_btv) * logp_btv, axis=-1)


def clipped_surrogate(ratio_bt, adv_bt, eps_low, eps_high):
    """PPO objective per token, min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A) (to maximise)."""
    clipped_bt = jnp.clip(ratio_bt, 1.0 - eps_low, 1.0 + eps_high)
    return jnp.minimum(ratio_bt * adv_bt, clipped_bt * adv_bt)


def aggregate(loss_bt, mask_bt, mode="token", max_len=None):
    """Reduce per-token losses to a scalar.

    token:    Σ_bt m·ℓ / Σ_bt m                (DAPO; every token weighs the same)
    sequence: mean_b (Σ_t m·ℓ / Σ_t m)         (GRPO; every sequence weighs the same)
    dr_grpo:  Σ_bt m·ℓ / (B · max_len)         (Dr. GRPO; constant normaliser, no length bias)

    ``max_len`` defaults to T (the padded completion length). Empty sequences contribute 0.
    """
    mask_bt = mask_bt.astype(loss_bt.dtype)
    summed_bt = jnp.where(mask_bt > 0, loss_bt, 0.0)
    if mode == "token":
        return jnp.sum(summed_bt) / jnp.maximum(jnp.sum(mask_bt), 1.0)
    if mode == "sequence":
        per_seq_b = jnp.sum(summed_bt, -1) / jnp.maximum(jnp.sum(mask_bt, -1), 1.0)
        return jnp.mean(per_seq_b)
    if mode == "dr_grpo":
        length = loss_bt.shape[1] if max_len is None else max_len
        return jnp.sum(summed_bt) / (loss_bt.shape[0] * length)
    raise ValueError(f"aggregate: unknown mode {mode!r}; choose one of {AGGREGATIONS}.")


def _masked_stats(x_bt, mask_bt):
    n = jnp.maximum(jnp.sum(mask_bt), 1)
    any_token = jnp.any(mask_bt)
    return (
        jnp.sum(jnp.where(mask_bt, x_bt, 0.0)) / n,
        jnp.where(any_token, jnp.min(jnp.where(mask_bt, x_bt, jnp.inf)), 0.0),
        jnp.where(any_token, jnp.max(jnp.where(mask_bt, x_bt, -jnp.inf)), 0.0),
    )


def _metrics(ratio_bt, adv_bt, kl_bt, entropy_bt, mask_bt, eps_low, eps_high):
    low_bt = (ratio_bt < 1.0 - eps_low) & (adv_bt < 0)  # clipped: no gradient
    high_bt = (ratio_bt > 1.0 + eps_high) & (adv_bt > 0)
    mean = lambda x: _masked_stats(x, mask_bt)[0]
    r_mean, r_min, r_max = _masked_stats(ratio_bt, mask_bt)
    return {
        "grpo/clip_frac_low": mean(low_bt),
        "grpo/clip_frac_high": mean(high_bt),
        "grpo/clip_frac": mean(low_bt | high_bt),
        "grpo/ratio_mean": r_mean,
        "grpo/ratio_min": r_min,
        "grpo/ratio_max": r_max,
        "grpo/kl": mean(kl_bt),
        "grpo/entropy": mean(entropy_bt),
        "grpo/tokens": jnp.sum(mask_bt),
    }


def _is_zero(x):
    return isinstance(x, (int, float)) and x == 0


def grpo_loss(
    logp_new_bt,
    logp_old_bt,
    logp_ref_bt,
    adv_b,
    mask_bt,
    *,
    eps_low=0.2,
    eps_high=0.2,
    beta=0.0,
    kl_estimator="k3",
    aggregation="token",
    max_len=None,
    entropy_bt=None,
    entropy_coef=0.0,
):
    """Clipped-surrogate GRPO loss (to minimise) and ``grpo/…`` metrics.

    Args:
      logp_new_bt: log π_θ of the sampled completion tokens (B, T); differentiated.
      logp_old_bt: stored log π_old (B, T), treated as a constant. For μ = 1 pass
        ``logp_new_bt`` itself: ρ = 1 and the gradient is the policy gradient A·∇log π_θ.
      logp_ref_bt: log π_ref (B, T), a constant; may be None when β = 0.
      adv_b: advantages (B,) (broadcast over tokens) or per-token (B, T).
      mask_bt: 1 on completion tokens, 0 on padding.
      eps_low, eps_high: ε_low, ε_high of the clip range [1 − ε_low, 1 + ε_high].
      beta: β of the KL(π_θ ‖ π_ref) penalty, estimated by ``kl_estimator``.
      aggregation: one of ``AGGREGATIONS`` (see ``aggregate``); ``max_len`` for dr_grpo.
      entropy_bt: per-token entropy (B, T) (see ``token_entropy``) for a bonus
        ``entropy_coef``·H; needed only when ``entropy_coef`` ≠ 0.

    Returns:
      ``(loss, metrics)``; metrics: clip fractions (low: ρ < 1 − ε_low with A < 0; high:
      ρ > 1 + ε_high with A > 0), ratio mean/min/max, KL mean, entropy mean, token count
      (all token means over the mask, whatever the aggregation).
    """
    if logp_ref_bt is None and not _is_zero(beta):
        raise ValueError("grpo_loss: beta != 0 needs logp_ref_bt (reference log-probs).")
    if entropy_bt is None and not _is_zero(entropy_coef):
        raise ValueError("grpo_loss: entropy_coef != 0 needs entropy_bt (see token_entropy).")
    if kl_estimator not in KL_ESTIMATORS:
        raise ValueError(f"grpo_loss: unknown kl_estimator {kl_estimator!r}; "
                         f"choose one of {KL_ESTIMATORS}.")
    mask_bt = mask_bt.astype(bool)
    adv_bt = jnp.broadcast_to(adv_b if adv_b.ndim == 2 else adv_b[:, None], mask_bt.shape)
    # padding may hold garbage: keep it finite so zero cotangents stay zero
    adv_bt = jnp.where(mask_bt, adv_bt, 0.0)
    logp_new_bt = jnp.where(mask_bt, logp_new_bt, 0.0)
    logp_old_bt = jax.lax.stop_gradient(jnp.where(mask_bt, logp_old_bt, 0.0))
    ratio_bt = jnp.exp(logp_new_bt - logp_old_bt)
    loss_bt = -clipped_surrogate(ratio_bt, adv_bt, eps_low, eps_high)
    kl_bt = jnp.zeros_like(loss_bt)
    if logp_ref_bt is not None:
        logp_ref_bt = jax.lax.stop_gradient(jnp.where(mask_bt, logp_ref_bt, 0.0))
        kl_bt = kl_estimate(logp_new_bt, logp_ref_bt, kl_estimator)
        loss_bt = loss_bt + beta * kl_bt
    ent_bt = jnp.zeros_like(loss_bt) if entropy_bt is None else entropy_bt
    ent_bt = jnp.where(mask_bt, ent_bt, 0.0)
    loss_bt = loss_bt - entropy_coef * ent_bt
    loss = aggregate(loss_bt, mask_bt, aggregation, max_len)
    metrics = _metrics(ratio_bt, adv_bt, kl_bt, ent_bt, mask_bt, eps_low, eps_high)
    return loss, {"grpo/loss": loss, **metrics}
