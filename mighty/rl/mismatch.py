"""Sampler–trainer mismatch: measure it, correct it, and give the trainer the sampler's
distribution (pure, jittable).

Two things make the log-probs the sampler recorded differ from the trainer's recomputation:

* numerics: the decode loop (KV cache, one token at a time, maybe bf16) and the full-sequence
  forward of the update do not round alike. The sampler records log π(y_t) of the *raw* model
  (temperature 1, `models.sampler.SampleOutput.logprobs`), so the mismatch is measured on raw
  log-probs on both sides: δ_t = log π_trainer(y_t) − log π_sampler(y_t).
* processing: the sampler draws from q = softmax(z/T) restricted to the top-k / top-p set and
  renormalised. The trainer uses the same q (`processed_logprobs`, exact sampler semantics),
  so the policy gradient is ∇log q_θ of the distribution that produced the tokens, and KL and
  clipping act on q too. This is a choice, not a correction: the processing is applied
  identically on both sides.

Corrections (Yao et al. 2025 "Your efficient RL framework secretly brings you off-policy RL
training"; Liu et al. 2025 "When speed kills stability"): the policy-gradient term is
re-weighted by w = π_trainer/π_sampler = exp(δ) at one of three levels, token (w_t),
sequence (Π_t w_t = exp Σ_t δ_t) or geometric (exp mean_t δ_t), either truncated (TIS:
min(w, C)) or masked (MIS: w where floor ≤ w ≤ C, else the token / the whole sequence leaves
the loss and its denominator). w is computed from raw log-probs (what the sampler records);
with T ≠ 1 or truncation it is the numeric mismatch of the raw model, not of q.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

CORRECTIONS = ("none", "tis", "mis")
LEVELS = ("token", "sequence", "geometric")


def log_ratio(logp_trainer_bt, logp_sampler_bt, mask_bt):
    """δ = log π_trainer − log π_sampler (B, T), 0 off the mask; both are constants here."""
    mask_bt = mask_bt.astype(bool)
    d = jax.lax.stop_gradient(logp_trainer_bt) - jax.lax.stop_gradient(logp_sampler_bt)
    return jnp.where(mask_bt, d, 0.0)


def sequence_log_ratio(delta_bt, mask_bt, level):
    """Per-row log-weight (B,): Σ_t δ_t (sequence) or mean_t δ_t (geometric)."""
    total_b = jnp.sum(jnp.where(mask_bt.astype(bool), delta_bt, 0.0), -1)
    if level == "sequence":
        return total_b
    return total_b / jnp.maximum(jnp.sum(mask_bt.astype(jnp.float32), -1), 1.0)


def is_weights(delta_bt, mask_bt, *, correction, level="token", cap=2.0, floor=0.0):
    """Importance weights on the policy-gradient term and the mask that remains (B, T).

    tis: w ← min(w, C) (truncated IS), the mask unchanged.
    mis: w kept where floor ≤ w ≤ C; elsewhere the token (level token) or the whole row
         (sequence, geometric) leaves the mask, so also the loss denominator.
    none: w = 1.
    """
    if correction not in CORRECTIONS or level not in LEVELS:
        raise ValueError(f"is_weights: correction {correction!r} / level {level!r}; choose one "
                         f"of {CORRECTIONS} / {LEVELS}")
    mask_bt = mask_bt.astype(bool)
    if correction == "none":
        return jnp.ones(mask_bt.shape, jnp.float32), mask_bt
    if level == "token":
        logw_bt = delta_bt
    else:
        logw_bt = jnp.broadcast_to(sequence_log_ratio(delta_bt, mask_bt, level)[:, None], mask_bt.shape)
    w_bt = jnp.exp(jnp.minimum(logw_bt, 80.0))  # a product over a long row may overflow f32
    if correction == "tis":
        return jnp.where(mask_bt, jnp.minimum(w_bt, cap), 0.0), mask_bt
    keep_bt = mask_bt & (w_bt <= cap) & (w_bt >= floor)
    return jnp.where(keep_bt, w_bt, 0.0), keep_bt


def _frac_key(x: float) -> str:
    return f"{x:g}"


def mismatch_metrics(delta_bt, mask_bt, thresholds=(0.1, 1.0), prefix="mismatch"):
    """Token and sequence statistics of δ: mean, mean |δ|, max |δ|, the share beyond each
    |δ| threshold, and k3 = E_sampler[e^δ − 1 − δ] ≥ 0, an estimate of KL(π_sampler ‖ π_trainer).
    Sequence δ is Σ_t δ_t (the log of the sequence's probability ratio)."""
    mask_bt = mask_bt.astype(bool)
    n_tok = jnp.maximum(jnp.sum(mask_bt), 1)
    rows_b = jnp.any(mask_bt, -1)
    n_seq = jnp.maximum(jnp.sum(rows_b), 1)
    abs_bt = jnp.where(mask_bt, jnp.abs(delta_bt), 0.0)
    seq_b = sequence_log_ratio(delta_bt, mask_bt, "sequence")
    abs_b = jnp.where(rows_b, jnp.abs(seq_b), 0.0)
    out = {
        f"{prefix}/token_logratio_mean": jnp.sum(jnp.where(mask_bt, delta_bt, 0.0)) / n_tok,
        f"{prefix}/token_logratio_abs_mean": jnp.sum(abs_bt) / n_tok,
        f"{prefix}/token_logratio_abs_max": jnp.max(abs_bt),
        f"{prefix}/token_kl_k3": jnp.sum(jnp.where(mask_bt, jnp.expm1(delta_bt) - delta_bt, 0.0)) / n_tok,
        f"{prefix}/seq_logratio_mean": jnp.sum(jnp.where(rows_b, seq_b, 0.0)) / n_seq,
        f"{prefix}/seq_logratio_abs_max": jnp.max(abs_b),
    }
    for t in thresholds:
        out[f"{prefix}/token_frac_abs_gt_{_frac_key(t)}"] = jnp.sum(abs_bt > t) / n_tok
        out[f"{prefix}/seq_frac_abs_gt_{_frac_key(t)}"] = jnp.sum(abs_b > t) / n_seq
    return out


def correction_metrics(w_bt, mask_bt, keep_bt, prefix="mismatch"):
    """Mean applied weight, and the shares of tokens / rows a correction masked out."""
    mask_bt, keep_bt = mask_bt.astype(bool), keep_bt.astype(bool)
    n_tok = jnp.maximum(jnp.sum(mask_bt), 1)
    rows_b = jnp.any(mask_bt, -1)
    dropped_b = rows_b & ~jnp.any(keep_bt, -1)
    return {f"{prefix}/is_weight_mean": jnp.sum(jnp.where(keep_bt, w_bt, 0.0)) / jnp.maximum(jnp.sum(keep_bt), 1),
            f"{prefix}/masked_token_frac": jnp.sum(mask_bt & ~keep_bt) / n_tok,
            f"{prefix}/masked_seq_frac": jnp.sum(dropped_b) / jnp.maximum(jnp.sum(rows_b), 1)}


def processed_support(x_btv, tokens_bt, top_k: int, top_p):
    """Bool (B, T, V): the tokens the sampler could draw from scaled logits x = z/T, exactly as
    `models.sampler.sample_logits` builds it (top-k first, then top-p on the renormalised top-k
    mass: keep while the mass ahead < p). The sampled token is always kept, so a token at the
    boundary under rounding never gets log 0. No gradient flows through the set."""
    x = jax.lax.stop_gradient(x_btv)
    v = x.shape[-1]
    k = v if top_k <= 0 else min(top_k, v)
    xs = -jnp.sort(-x, axis=-1)[..., :k]  # (B, T, k) descending
    p = jax.nn.softmax(xs, axis=-1)
    keep_rank = (jnp.cumsum(p, -1) - p) < top_p
    n_keep = jnp.maximum(jnp.sum(keep_rank, -1), 1)
    threshold = jnp.take_along_axis(xs, (n_keep - 1)[..., None], axis=-1)  # (B, T, 1)
    own = jax.nn.one_hot(tokens_bt, v, dtype=bool)
    return (x >= threshold) | own


def processed_logprobs(z_btv, tokens_bt, *, temperature=1.0, top_k=0, top_p=1.0):
    """log q(y_t) and H(q) (B, T) for q = softmax(z/T) on the sampler's support, renormalised.

    Materialises (B, T, V): used only when top-k / top-p is on (temperature alone goes through
    the chunked path in `rl.step`)."""
    x = z_btv.astype(jnp.float32) / temperature
    if top_k > 0 or top_p < 1:
        x = jnp.where(processed_support(x, tokens_bt, top_k, top_p), x, -jnp.inf)
    logq = jax.nn.log_softmax(x, axis=-1)
    q = jnp.exp(logq)
    ent = -jnp.sum(q * jnp.where(q > 0, logq, 0.0), -1)  # 0·(−inf) off the support: no NaN
    return jnp.take_along_axis(logq, tokens_bt[..., None], axis=-1)[..., 0], ent
