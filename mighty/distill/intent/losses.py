"""Pure losses of the intent student: α · CE(hard) + (1 − α) · T² · KL(soft ‖ student).

The soft target is the teacher's distribution re-tempered at T (softmax(log p / T)), the
student's logits are divided by T, and T² keeps the soft term's gradient scale independent
of T (Hinton et al. 2015).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def hard_ce(logits_bc: jnp.ndarray, labels_b: jnp.ndarray) -> jnp.ndarray:
    """Mean cross-entropy against integer labels."""
    logp_bc = jax.nn.log_softmax(logits_bc, axis=-1)
    return -jnp.take_along_axis(logp_bc, labels_b[:, None], axis=-1).mean()


def soft_kl(logits_bc: jnp.ndarray, teacher_p_bc: jnp.ndarray, temperature: float) -> jnp.ndarray:
    """Mean T² · KL(teacher_T ‖ student_T); teacher probabilities of 0 contribute 0."""
    t_logp_bc = jax.nn.log_softmax(jnp.log(jnp.clip(teacher_p_bc, 1e-12, 1.0)) / temperature, axis=-1)
    t_p_bc = jnp.exp(t_logp_bc)
    s_logp_bc = jax.nn.log_softmax(logits_bc / temperature, axis=-1)
    kl_b = (t_p_bc * (t_logp_bc - s_logp_bc)).sum(-1)
    return temperature ** 2 * kl_b.mean()


def blended(logits_bc, labels_b, teacher_p_bc, *, alpha: float, temperature: float) -> jnp.ndarray:
    """α · hard_ce + (1 − α) · soft_kl; α = 1 is hard-only, α = 0 soft-only."""
    return alpha * hard_ce(logits_bc, labels_b) + (1 - alpha) * soft_kl(logits_bc, teacher_p_bc, temperature)
