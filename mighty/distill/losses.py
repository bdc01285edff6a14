"""Knowledge-distillation losses (pure, jittable).

Notation: p is the teacher distribution, q the student, T the temperature, α the weight of
the hard cross-entropy, β the generalized-JSD interpolation and the skew coefficient of
DistiLLM's skew KL. ``x_T`` is ``x`` tempered: ``x_T ∝ x^(1/T)``.

Per real token the loss is

    ℓ = α · CE(q, label) + (1 − α) · T² · D(p_T ‖ q_T)

and ``kd_loss`` returns the mean of ℓ over the tokens with ``mask = 1``. CE uses the
untempered student (T = 1). The T² factor keeps the soft-gradient magnitude independent of
T (Hinton et al., 2015): ∂ T²·KL(p_T‖q_T) / ∂z_student = T · (q_T − p_T) → (z_s − z_t)/V
(both centred) as T → ∞.

Teacher given as top-K (the labeling cache: ids and logprobs at T = 1 over the full vocab):
both distributions live on K + 1 outcomes, the K teacher ids plus a tail bucket holding
everything else. Tail masses are ``1 − Σ_k exp(logp_k)``, computed in log space
(``log1mexp``), never by renormalising the K entries. For T ≠ 1 the temperature acts on
these (K + 1)-outcome distributions, for teacher and student alike: the tail bucket is
tempered as one outcome, ``r^(1/T)`` instead of the unknowable ``Σ_{v∈tail} p_v^(1/T)``.
This is exact for T = 1 and for tails of at most one token (K ≥ V − 1), keeps D = 0 when
student and teacher agree, and otherwise under-weights the tail for T > 1 (and over-weights
it for T < 1) relative to tempering the full vocabulary.

Numerics: log 0 is represented by ``LOG_FLOOR`` (finite, ``exp`` underflows to exactly 0), so
``0 · (log 0 − log q)`` is 0 rather than NaN and no gradient is NaN. Tail masses below
``TAIL_EMPTY`` are float32 noise in ``1 − Σ p`` and are treated as empty.
"""
from __future__ import annotations

import math
from typing import Union

import jax
import jax.numpy as jnp

from mighty.models.layers import first_argmax

LOG_FLOOR = -1e3  # finite stand-in for log(0)
TAIL_EMPTY = 1e-6  # tail masses below this are rounding noise of 1 − Σ_k p_k
DIVERGENCES = ("forward_kl", "reverse_kl", "jsd", "skew_forward_kl", "skew_reverse_kl")

TopK = tuple  # (ids_btk int32, logprobs_btk float)
Teacher = Union[jax.Array, TopK]


# ----------------------------------------------------------------------------- divergences
# Each takes teacher log-probs ``logp_...n`` and student log-probs ``logq_...n`` over the last
# axis (n outcomes) and returns the divergence per row ``[...]``.


def forward_kl(logp, logq):
    """KL(p ‖ q) = Σ p (log p − log q): mass-covering."""
    return jnp.sum(jnp.exp(logp) * (logp - logq), axis=-1)


def reverse_kl(logp, logq):
    """KL(q ‖ p) = Σ q (log q − log p): mode-seeking."""
    return forward_kl(logq, logp)


def _log_mix(logx, logy, w):
    """log(w·x + (1 − w)·y) for a weight w in [0, 1) (Python number or traced)."""
    return jnp.logaddexp(jnp.log(w) + logx, jnp.log1p(-w) + logy)


def generalized_jsd(logp, logq, beta):
    """Generalized JSD of GKD (Agarwal et al., 2024), β ∈ (0, 1).

    JSD(β) = β · KL(p ‖ m) + (1 − β) · KL(q ‖ m),  m = β·p + (1 − β)·q.

    β = 0.5 is the symmetric JSD. JSD(β) itself vanishes at both ends; its shape does not:
    JSD(β)/β → KL(p‖q) as β → 0 (forward-like) and JSD(β)/(1 − β) → KL(q‖p) as β → 1
    (reverse-like). Use ``forward_kl``/``reverse_kl`` for the end points.
    """
    logm = _log_mix(logp, logq, beta)
    return beta * forward_kl(logp, logm) + (1.0 - beta) * forward_kl(logq, logm)


def skew_forward_kl(logp, logq, skew):
    """DistiLLM skew KL: KL(p ‖ s·p + (1 − s)·q), skew s ∈ [0, 1); s = 0 is forward KL."""
    if isinstance(skew, (int, float)) and skew == 0:
        return forward_kl(logp, logq)
    return forward_kl(logp, _log_mix(logp, logq, skew))


def skew_reverse_kl(logp, logq, skew):
    """DistiLLM skew reverse KL: KL(q ‖ s·q + (1 − s)·p); s = 0 is reverse KL."""
    if isinstance(skew, (int, float)) and skew == 0:
        return reverse_kl(logp, logq)
    return forward_kl(logq, _log_mix(logq, logp, skew))


def _check_unit(name, value, *, closed_low):
    if isinstance(value, (int, float)):
        ok = (0.0 <= value < 1.0) if closed_low else (0.0 < value < 1.0)
        if not ok:
            interval = "[0, 1)" if closed_low else "(0, 1)"
            raise ValueError(f"kd_loss: {name}={value} must lie in {interval}.")


def soft_divergence(logp, logq, name, *, beta=0.5, skew=0.1):
    """Dispatch on ``name`` (one of ``DIVERGENCES``); returns D(p ‖ q) per row."""
    if name == "forward_kl":
        return forward_kl(logp, logq)
    if name == "reverse_kl":
        return reverse_kl(logp, logq)
    if name == "jsd":
        _check_unit("beta", beta, closed_low=False)
        return generalized_jsd(logp, logq, beta)
    if name == "skew_forward_kl":
        _check_unit("skew", skew, closed_low=True)
        return skew_forward_kl(logp, logq, skew)
    if name == "skew_reverse_kl":
        _check_unit("skew", skew, closed_low=True)
        return skew_reverse_kl(logp, logq, skew)
    raise ValueError(f"kd_loss: unknown divergence {name!r}; choose one of {DIVERGENCES}.")


# ----------------------------------------------------------------------------- tail bucket


def log1mexp(x):
    """log(1 − exp(−x)) for x > 0, accurate at both ends (Mächler, 2012)."""
    return jnp.where(
        x < math.log(2.0), jnp.log(-jnp.expm1(-x)), jnp.log1p(-jnp.exp(-x))
    )


def tail_logprob(logp_k):
    """log(1 − Σ_k exp(logp_k)) over the last axis; ``LOG_FLOOR`` when the tail is empty."""
    neg_lse = -jax.nn.logsumexp(logp_k, axis=-1)  # −log Σ p_k ≥ 0 up to rounding
    empty = neg_lse <= TAIL_EMPTY
    # both branches stay finite, so the unused one cannot poison gradients
    return jnp.where(empty, LOG_FLOOR, log1mexp(jnp.maximum(neg_lse, TAIL_EMPTY)))


def with_tail(logp_k):
    """[..., K] log-probs → [..., K + 1] with the tail bucket appended last."""
    return jnp.concatenate([logp_k, tail_logprob(logp_k)[..., None]], axis=-1)


# ----------------------------------------------------------------------------- kd loss


def masked_mean(x_bt, mask_bt):
    """Σ mask·x / Σ mask, with 0 (not NaN) when the mask is empty."""
    total = jnp.sum(jnp.where(mask_bt, x_bt, 0.0))
    return total / jnp.maximum(jnp.sum(mask_bt), 1)


def _gather(x_btv, ids_bt):
    return jnp.take_along_axis(x_btv, ids_bt[..., None], axis=-1)[..., 0]


def _full_teacher(logits_btv, teacher_btv, labels_bt, temperature):
    """Full-vocab teacher: exact tempering; CE from one logsumexp (no extra [B,T,V])."""
    ce_bt = jax.nn.logsumexp(logits_btv, axis=-1) - _gather(logits_btv, labels_bt)
    logq = jax.nn.log_softmax(logits_btv / temperature, axis=-1)  # (B, T, V)
    logp = jax.nn.log_softmax(teacher_btv / temperature, axis=-1)
    logp = jax.lax.stop_gradient(jnp.maximum(logp, LOG_FLOOR))
    zeros_bt = jnp.zeros_like(ce_bt)
    tails = (zeros_bt, zeros_bt)
    return ce_bt, logp, logq, first_argmax(teacher_btv), tails


def _topk_teacher(logits_btv, ids_btk, logp_btk, labels_bt, temperature):
    """Top-K teacher: K + 1 outcomes (ids + tail), tempered on that space (module doc).

    Only the log-partition and the K + 1 gathered columns enter the loss, so no (B, T, V)
    log_softmax is materialised: one reduction over V, and a backward of softmax · g_lse
    plus a scatter of K + 1 columns."""
    lse_bt = jax.nn.logsumexp(logits_btv, axis=-1)
    ce_bt = lse_bt - _gather(logits_btv, labels_bt)
    logq_k = jnp.take_along_axis(logits_btv, ids_btk, axis=-1) - lse_bt[..., None]
    logq = with_tail(logq_k)  # (B, T, K+1)
    logp = with_tail(jnp.maximum(logp_btk, LOG_FLOOR))
    tails = (jnp.exp(logp[..., -1]), jnp.exp(logq[..., -1]))
    logq = jax.nn.log_softmax(logq / temperature, axis=-1)
    logp = jax.lax.stop_gradient(jax.nn.log_softmax(logp / temperature, axis=-1))
    top1_bt = _gather(ids_btk, jnp.argmax(logp_btk, axis=-1))
    return ce_bt, logp, logq, top1_bt, tails


def kd_loss(
    student_logits_btv,
    teacher: Teacher,
    labels_bt,
    mask_bt,
    *,
    temperature=1.0,
    alpha=0.5,
    divergence="forward_kl",
    beta=0.5,
    skew=0.1,
):
    """Blended hard-CE + soft-KD loss, masked mean over real tokens.

    Args:
      student_logits_btv: student logits (B, T, V); position t predicts ``labels_bt[:, t]``.
      teacher: teacher logits (B, T, V), or ``(ids_btk int32, logprobs_btk)`` top-K
        log-probs at temperature 1 over the full vocab (see the module doc for the tail).
      labels_bt: int targets of the hard CE (the teacher's sampled tokens).
      mask_bt: 1 on real tokens, 0 on padding; padding never affects loss or gradients,
        even with NaN logits there.
      temperature: T > 0 of the soft term; the soft term is scaled by T².
      alpha: α, scalar or (B, T), weight of the hard CE (e.g. from ``distill.alpha``).
      divergence: one of ``DIVERGENCES``; D(p_T ‖ q_T) with p the teacher.
      beta: β ∈ (0, 1) of the generalized JSD.
      skew: skew coefficient ∈ [0, 1) of the skew KLs.

    Returns:
      ``(loss, metrics)`` with ``kd/…`` metrics: ``ce`` (hard CE), ``divergence`` (D at T,
      without T²), ``tokens``, ``top1_agreement`` (student argmax == teacher argmax),
      ``teacher_tail_mass``/``_max`` and ``student_tail_mass`` (0 for full logits),
      ``alpha_mean``.
    """
    if isinstance(temperature, (int, float)) and temperature <= 0:
        raise ValueError(f"kd_loss: temperature={temperature} must be > 0.")
    mask_bt = mask_bt.astype(bool)
    dtype = jnp.promote_types(jnp.result_type(student_logits_btv), jnp.float32)  # not bf16
    logits_btv = jnp.where(mask_bt[..., None], student_logits_btv, 0.0).astype(dtype)
    labels_bt = jnp.where(mask_bt, labels_bt, 0)
    if isinstance(teacher, (tuple, list)):
        ids_btk, logp_btk = teacher
        ids_btk = jnp.where(mask_bt[..., None], ids_btk, 0)
        logp_btk = jnp.where(mask_bt[..., None], logp_btk, 0.0).astype(dtype)
        parts = _topk_teacher(logits_btv, ids_btk, logp_btk, labels_bt, temperature)
    else:
        teacher_btv = jnp.where(mask_bt[..., None], teacher, 0.0).astype(dtype)
        parts = _full_teacher(logits_btv, teacher_btv, labels_bt, temperature)
    ce_bt, logp, logq, teacher_top1_bt, (tail_p_bt, tail_q_bt) = parts
    div_bt = soft_divergence(logp, logq, divergence, beta=beta, skew=skew)
    alpha_bt = jnp.broadcast_to(jnp.asarray(alpha, ce_bt.dtype), ce_bt.shape)
    alpha_bt = jnp.where(mask_bt, alpha_bt, 0.0)  # garbage α on padding must not reach grads
    loss_bt = alpha_bt * ce_bt + (1.0 - alpha_bt) * temperature**2 * div_bt
    agree_bt = first_argmax(logits_btv) == teacher_top1_bt  # jnp.argmax, minus its slow pair-reduce
    loss = masked_mean(loss_bt, mask_bt)
    metrics = {
        "kd/loss": loss,
        "kd/ce": masked_mean(ce_bt, mask_bt),
        "kd/divergence": masked_mean(div_bt, mask_bt),
        "kd/tokens": jnp.sum(mask_bt),
        "kd/top1_agreement": masked_mean(agree_bt, mask_bt),
        "kd/teacher_tail_mass": masked_mean(tail_p_bt, mask_bt),
        "kd/teacher_tail_mass_max": jnp.max(jnp.where(mask_bt, tail_p_bt, 0.0)),
        "kd/student_tail_mass": masked_mean(tail_q_bt, mask_bt),
        "kd/alpha_mean": masked_mean(alpha_bt, mask_bt),
    }
    return loss, metrics
