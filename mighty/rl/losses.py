"""GRPO / DAPO / Dr. GRPO policy losses and KL estimators (pure, jittable).

Notation: π_θ the policy being trained, π_old the policy that sampled the completions (its
log-probs are stored once per batch and reused for μ inner iterations), π_ref the frozen
reference, A the advantage, ε_low/ε_high the clip range (DAPO's clip-higher uses
ε_high > ε_low), β the KL coefficient.

Per token:  ρ = π_θ/π_old,
            ℓ = −min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A) + β·k(π_θ, π_ref) − c_H·H
and ``aggregate`` reduces ℓ over the batch in one of ``AGGREGATIONS``.

Policy-loss variants (``POLICY_LOSSES``, the first term of ℓ):
  ppo    the clipped surrogate above (GRPO / DAPO), optionally dual-clipped (Ye et al. 2020):
         for A < 0 the objective is max(min(ρA, clip(ρ)A), c·A), c > 1, so a huge ρ on a bad
         token cannot produce an unbounded step;
  gspo   GSPO (Zheng et al. 2025): one ratio per sequence, s_i = exp(mean_t log ρ_it) (the
         length-normalised sequence log-ratio), clipped at [1 − ε_low, 1 + ε_high] and
         broadcast to the sequence's tokens (GSPO's ε is ~1e-3, not 0.2: conf/grpo/gspo.yaml);
  cispo  CISPO (MiniMax-M1, 2025): −sg(clip(ρ, 1 − ε_low, 1 + ε_high))·A·log π_θ, the
         clipped importance weight under stop-gradient, so every token keeps a gradient.
Token masks on the policy-gradient term: top-entropy-quantile masking (Wang et al. 2025,
"80/20": only the ρ_H share of highest-entropy tokens gets a policy gradient) and a
sampler–trainer importance weight (``rl.mismatch``: TIS), both constants.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

KL_ESTIMATORS = ("k1", "k2", "k3")
AGGREGATIONS = ("token", "sequence", "dr_grpo")
POLICY_LOSSES = ("ppo", "gspo", "cispo")


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


def dual_clip_surrogate(ratio_bt, adv_bt, eps_low, eps_high, c):
    """Dual-clip PPO objective per token (Ye et al. 2020, "Mastering complex control in MOBA
    games", eq. 5): the clipped surrogate, and for A < 0 bounded below by c·A (c > 1)."""
    surr_bt = clipped_surrogate(ratio_bt, adv_bt, eps_low, eps_high)
    return jnp.where(adv_bt < 0, jnp.maximum(surr_bt, c * adv_bt), surr_bt)


def sequence_log_ratio(logp_new_bt, logp_old_bt, mask_bt):
    """GSPO's length-normalised sequence log-ratio (B,): (1/|y_i|) Σ_t log(π_θ/π_old)."""
    mask_bt = mask_bt.astype(logp_new_bt.dtype)
    total_b = jnp.sum((logp_new_bt - logp_old_bt) * mask_bt, -1)
    return total_b / jnp.maximum(jnp.sum(mask_bt, -1), 1.0)


def cispo_objective(ratio_bt, logp_new_bt, adv_bt, eps_low, eps_high):
    """CISPO per token (to maximise): sg(clip(ρ, 1 − ε_low, 1 + ε_high))·A·log π_θ. The gradient
    is the clipped weight times A·∇log π_θ; no token is ever cut off from the gradient."""
    weight_bt = jax.lax.stop_gradient(jnp.clip(ratio_bt, 1.0 - eps_low, 1.0 + eps_high))
    return weight_bt * adv_bt * logp_new_bt


def top_entropy_mask(entropy_bt, mask_bt, rho):
    """1 on the ⌈ρ·n⌉ highest-entropy valid tokens of the batch (ties at the threshold all
    kept), 0 elsewhere (B, T); n = number of valid tokens. Wang et al. 2025 use ρ = 0.2.
    The entropy only selects tokens: no gradient flows through the mask."""
    mask_bt = mask_bt.astype(bool)
    h_bt = jax.lax.stop_gradient(jnp.where(mask_bt, entropy_bt, -jnp.inf))
    n = jnp.sum(mask_bt)
    k = jnp.clip(jnp.ceil(rho * n).astype(jnp.int32), 1, h_bt.size)
    desc = -jnp.sort(-h_bt.reshape(-1))
    threshold = desc[k - 1]
    return mask_bt & (h_bt >= threshold)


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


def _metrics(ratio_bt, adv_bt, kl_bt, entropy_bt, mask_bt, eps_low, eps_high, dual_c):
    low_bt = (ratio_bt < 1.0 - eps_low) & (adv_bt < 0)  # clipped: no gradient
    high_bt = (ratio_bt > 1.0 + eps_high) & (adv_bt > 0)
    mean = lambda x: _masked_stats(x, mask_bt)[0]
    r_mean, r_min, r_max = _masked_stats(ratio_bt, mask_bt)
    out = {
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
    if dual_c:
        out["grpo/clip_frac_dual"] = mean((ratio_bt > dual_c) & (adv_bt < 0))
    return out


def _is_zero(x):
    return isinstance(x, (int, float)) and x == 0


def _check_args(logp_ref_bt, beta, entropy_bt, entropy_coef, kl_estimator, policy_loss,
                dual_clip_c, top_entropy_rho):
    if logp_ref_bt is None and not _is_zero(beta):
        raise ValueError("grpo_loss: beta != 0 needs logp_ref_bt (reference log-probs).")
    if entropy_bt is None and not (_is_zero(entropy_coef) and top_entropy_rho == 1):
        raise ValueError("grpo_loss: entropy_coef != 0 or top_entropy_rho < 1 needs entropy_bt "
                         "(see token_entropy).")
    if kl_estimator not in KL_ESTIMATORS:
        raise ValueError(f"grpo_loss: unknown kl_estimator {kl_estimator!r}; "
                         f"choose one of {KL_ESTIMATORS}.")
    if policy_loss not in POLICY_LOSSES:
        raise ValueError(f"grpo_loss: unknown policy_loss {policy_loss!r}; choose one of {POLICY_LOSSES}.")
    if dual_clip_c and (dual_clip_c <= 1 or policy_loss != "ppo"):
        raise ValueError(f"grpo_loss: dual_clip_c (c) must be > 1 and needs policy_loss='ppo'; "
                         f"got c={dual_clip_c}, policy_loss={policy_loss!r} (0 disables it)")
    if not 0 < top_entropy_rho <= 1:
        raise ValueError(f"grpo_loss: top_entropy_rho (ρ_H) must be in (0, 1], got {top_entropy_rho}")


def policy_objective(logp_new_bt, logp_old_bt, adv_bt, mask_bt, *, policy_loss, eps_low,
                     eps_high, dual_clip_c):
    """(objective per token to maximise, the ratio the clip acts on) for one variant (B, T)."""
    if policy_loss == "gspo":
        seq_b = sequence_log_ratio(logp_new_bt, logp_old_bt, mask_bt)
        ratio_bt = jnp.broadcast_to(jnp.exp(seq_b)[:, None], mask_bt.shape)
        return clipped_surrogate(ratio_bt, adv_bt, eps_low, eps_high), ratio_bt
    ratio_bt = jnp.exp(logp_new_bt - logp_old_bt)
    if policy_loss == "cispo":
        return cispo_objective(ratio_bt, logp_new_bt, adv_bt, eps_low, eps_high), ratio_bt
    if dual_clip_c:
        return dual_clip_surrogate(ratio_bt, adv_bt, eps_low, eps_high, dual_clip_c), ratio_bt
    return clipped_surrogate(ratio_bt, adv_bt, eps_low, eps_high), ratio_bt


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
    policy_loss="ppo",
    dual_clip_c=0.0,
    top_entropy_rho=1.0,
    is_weight_bt=None,
    kl_mask_b=None,
):
    """Clipped-surrogate GRPO loss (to minimise) and ``grpo/…`` metrics.

    Args:
      logp_new_bt: log π_θ of the sampled completion tokens (B, T); differentiated.
      logp_old_bt: stored log π_old (B, T), treated as a constant. For μ = 1 pass
        ``logp_new_bt`` itself: ρ = 1 and the gradient is the policy gradient A·∇log π_θ.
      logp_ref_bt: log π_ref (B, T), a constant; may be None when β = 0.
      adv_b: advantages (B,) (broadcast over tokens) or per-token (B, T).
      mask_bt: 1 on completion tokens, 0 on padding (and on tokens or sequences an
        importance-sampling mask dropped: they leave the loss and its denominator).
      eps_low, eps_high: ε_low, ε_high of the clip range [1 − ε_low, 1 + ε_high].
      beta: β of the KL(π_θ ‖ π_ref) penalty, estimated by ``kl_estimator``.
      aggregation: one of ``AGGREGATIONS`` (see ``aggregate``); ``max_len`` for dr_grpo.
      entropy_bt: per-token entropy (B, T) (see ``token_entropy``) for a bonus
        ``entropy_coef``·H and for ``top_entropy_rho``.
      policy_loss: one of ``POLICY_LOSSES`` (module doc); dual_clip_c: c > 1 enables dual-clip.
      top_entropy_rho: ρ_H; < 1 keeps the policy gradient on the top-ρ_H entropy tokens only
        (the others still count in the denominator, and still carry KL and entropy terms).
      is_weight_bt: constant importance weight on the policy-gradient term (TIS), or None.
      kl_mask_b: (B,) rows whose KL term counts (None: all), e.g. not zero-variance groups.

    Returns:
      ``(loss, metrics)``; metrics: clip fractions (low: ρ < 1 − ε_low with A < 0; high:
      ρ > 1 + ε_high with A > 0; dual: ρ > c with A < 0), ratio mean/min/max (the sequence
      ratio for gspo), KL mean, entropy mean, token count (token means over the mask).
    """
    _check_args(logp_ref_bt, beta, entropy_bt, entropy_coef, kl_estimator, policy_loss,
                dual_clip_c, top_entropy_rho)
    mask_bt = mask_bt.astype(bool)
    adv_bt = jnp.broadcast_to(adv_b if adv_b.ndim == 2 else adv_b[:, None], mask_bt.shape)
    # padding may hold garbage: keep it finite so zero cotangents stay zero
    adv_bt = jnp.where(mask_bt, adv_bt, 0.0)
    logp_new_bt = jnp.where(mask_bt, logp_new_bt, 0.0)
    logp_old_bt = jax.lax.stop_gradient(jnp.where(mask_bt, logp_old_bt, 0.0))
    obj_bt, ratio_bt = policy_objective(logp_new_bt, logp_old_bt, adv_bt, mask_bt,
                                        policy_loss=policy_loss, eps_low=eps_low,
                                        eps_high=eps_high, dual_clip_c=dual_clip_c)
    if is_weight_bt is not None:
        obj_bt = obj_bt * jax.lax.stop_gradient(is_weight_bt)
    ent_bt = jnp.zeros_like(obj_bt) if entropy_bt is None else jnp.where(mask_bt, entropy_bt, 0.0)
    if top_entropy_rho < 1:
        obj_bt = jnp.where(top_entropy_mask(ent_bt, mask_bt, top_entropy_rho), obj_bt, 0.0)
    loss_bt = -obj_bt
    kl_bt = jnp.zeros_like(loss_bt)
    if logp_ref_bt is not None:
        logp_ref_bt = jax.lax.stop_gradient(jnp.where(mask_bt, logp_ref_bt, 0.0))
        kl_bt = kl_estimate(logp_new_bt, logp_ref_bt, kl_estimator)
        if kl_mask_b is not None:
            kl_bt = jnp.where(kl_mask_b.astype(bool)[:, None], kl_bt, 0.0)
        loss_bt = loss_bt + beta * kl_bt
    loss_bt = loss_bt - entropy_coef * ent_bt
    loss = aggregate(loss_bt, mask_bt, aggregation, max_len)
    metrics = _metrics(ratio_bt, adv_bt, kl_bt, ent_bt, mask_bt, eps_low, eps_high, dual_clip_c)
    return loss, {"grpo/loss": loss, **metrics}
