"""The blended reranker loss (pure): α · supervised + (1 − α) · MSE(σ(logit), teacher p(Yes)).

Supervised relevance term (the known issue of each training question is the one relevant
candidate):
  * "listwise" (default): softmax cross-entropy over a question's k candidates, −log p(gold),
    averaged over questions whose gold is among them. It trains exactly what recall@1 / NDCG
    reward: the gold above its siblings.
  * "bce": binary cross-entropy of σ(logit) against the 0/1 label, averaged over candidates.
The MSE compares σ(logit) with the teacher's p(Yes), averaged over the candidates the teacher
scored (`teacher_mask`): only a capped set of training questions is teacher-scored.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def listwise_ce(logits_bk, labels_bk, mask_bk):
    """Mean over rows with a gold of −Σ_j y_j log softmax(logits)_j (y normalised per row)."""
    logits_bk = jnp.where(mask_bk > 0, logits_bk, -1e9)
    logp_bk = jax.nn.log_softmax(logits_bk, -1)
    y_bk = labels_bk * mask_bk
    has_b = (y_bk.sum(-1) > 0).astype(jnp.float32)
    y_bk = y_bk / jnp.maximum(y_bk.sum(-1, keepdims=True), 1e-9)
    ce_b = -(y_bk * jnp.where(mask_bk > 0, logp_bk, 0.0)).sum(-1)
    return (ce_b * has_b).sum() / jnp.maximum(has_b.sum(), 1.0)


def pointwise_bce(logits_bk, labels_bk, mask_bk):
    ce_bk = optax.sigmoid_binary_cross_entropy(logits_bk, labels_bk)
    return (ce_bk * mask_bk).sum() / jnp.maximum(mask_bk.sum(), 1.0)


def teacher_mse(logits_bk, teacher_bk, teacher_mask_bk):
    err_bk = (jax.nn.sigmoid(logits_bk) - teacher_bk) ** 2
    return (err_bk * teacher_mask_bk).sum() / jnp.maximum(teacher_mask_bk.sum(), 1.0)


def rerank_loss(logits_bk, labels_bk, mask_bk, teacher_bk, teacher_mask_bk, *, alpha: float,
                supervised: str = "listwise"):
    """-> (loss, {"supervised", "mse"}). mask_bk: 1 on real candidates (0 pads a short list)."""
    sup_fn = {"listwise": listwise_ce, "bce": pointwise_bce}[supervised]
    sup = sup_fn(logits_bk, labels_bk, mask_bk)
    mse = teacher_mse(logits_bk, teacher_bk, teacher_mask_bk * mask_bk)
    return alpha * sup + (1.0 - alpha) * mse, {"supervised": sup, "mse": mse}
