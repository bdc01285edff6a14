"""Student training: a jitted step over a batch of questions' candidate lists, and the host
loop that draws batches (deterministic for a seed: keys from one root, fold_in per step)."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mighty.distill.rerank.losses import rerank_loss
from mighty.models.reranker import Reranker


def trainable(train_encoder: bool):
    """Which parameters learn. A frozen encoder keeps the random hashed embedding: a random
    projection of the n-gram bag, under which cos(q, d) measures word and character n-gram
    overlap, and only the head learns (it then stays close to the BM25 order). A trained
    encoder learns paraphrases ("disconnecting" ~ "connection drops") but also memorises the
    training issues; the val-selected step and the unseen-entry mask keep that in check."""
    return nnx.Param if train_encoder else nnx.All(nnx.Param, nnx.Not(nnx.PathContains("encoder")))


@functools.partial(nnx.jit, static_argnames=("alpha", "supervised", "train_encoder"))
def train_step(model: Reranker, opt: nnx.Optimizer, batch: dict, *, alpha: float, supervised: str,
               train_encoder: bool):
    def loss_fn(m):
        logits_bk = m(batch["q_ids"], batch["kb_ids"], batch["cand"], batch["lex"])
        return rerank_loss(logits_bk, batch["label"], batch["mask"], batch["teacher"],
                           batch["teacher_mask"], alpha=alpha, supervised=supervised)

    diff = nnx.DiffState(0, trainable(train_encoder))
    (loss, parts), grads = nnx.value_and_grad(loss_fn, argnums=diff, has_aux=True)(model)
    opt.update(model, grads)
    return {"loss": loss, **parts}


def draw(key: jax.Array, n: int, n_teacher: int, batch: int, teacher_frac: float) -> np.ndarray:
    """Question indices of one batch: `teacher_frac` of it from the first `n_teacher` (the
    teacher-scored questions, so the MSE term sees data every step), the rest from all `n`."""
    kt, ka = jax.random.split(key)
    bt = int(round(batch * teacher_frac)) if n_teacher else 0
    idx_t = np.asarray(jax.random.randint(kt, (bt,), 0, max(n_teacher, 1)))
    idx_a = np.asarray(jax.random.randint(ka, (batch - bt,), 0, n))
    return np.concatenate([idx_t, idx_a])


def train(model: Reranker, arrays: dict, *, steps: int, batch_size: int, lr: float, weight_decay: float,
          alpha: float, supervised: str, teacher_frac: float, n_teacher: int, key: jax.Array,
          train_encoder: bool = False, val: dict | None = None, eval_every: int = 25,
          progress: bool = True) -> list[dict]:
    """`arrays`: q_ids [Q, L], kb_ids [N, L], cand/lex/label/teacher/teacher_mask/mask [Q, k(, f)]
    (mask: 1 on candidates the loss sees);
    rows 0..n_teacher-1 are the teacher-scored questions. Returns per-step metrics.

    With `val` (q_ids/cand/lex/label of questions about issues the training split lacks), the
    student is scored every `eval_every` steps by NDCG@10 there and the best parameters are
    kept (step 0 included: the lexical prior alone), so fitting the training issues past the
    point where held-out issues stop improving is undone."""
    from tqdm import tqdm

    sched = optax.warmup_cosine_decay_schedule(0.0, lr, max(1, steps // 20), steps, lr * 0.05)
    opt = nnx.Optimizer(model, optax.adamw(sched, weight_decay=weight_decay),
                        wrt=trainable(train_encoder))
    kb_ids = jnp.asarray(arrays["kb_ids"])
    n = len(arrays["q_ids"])
    log = []
    best = (val_ndcg(model, val, kb_ids), 0, jax.tree_util.tree_map(jnp.copy, nnx.state(model))) if val else None
    for step in tqdm(range(steps), desc="rerank student", disable=not progress):
        idx = draw(jax.random.fold_in(key, step), n, n_teacher, batch_size, teacher_frac)
        batch = {name: jnp.asarray(arrays[name][idx]) for name in ("q_ids", "cand", "lex", "label", "teacher",
                                                                    "teacher_mask", "mask")}
        batch["kb_ids"] = kb_ids
        m = train_step(model, opt, batch, alpha=alpha, supervised=supervised, train_encoder=train_encoder)
        row = {"step": step, **{f"rerank/{k}": float(v) for k, v in m.items()}}
        if val is not None and ((step + 1) % eval_every == 0 or step + 1 == steps):
            row["rerank/val_ndcg@10"] = val_ndcg(model, val, kb_ids)
            if row["rerank/val_ndcg@10"] > best[0]:
                best = (row["rerank/val_ndcg@10"], step + 1, jax.tree_util.tree_map(jnp.copy, nnx.state(model)))
        log.append(row)
    if val is not None:
        nnx.update(model, best[2])
        log.append({"step": steps, "rerank/best_step": best[1], "rerank/best_val_ndcg@10": best[0]})
    return log


@nnx.jit
def _val_logits(model: Reranker, q_ids, kb_ids, cand, lex):
    return model(q_ids, kb_ids, cand, lex)


def val_ndcg(model: Reranker, val: dict, kb_ids) -> float:
    from mighty.distill.rerank.evaluate import ndcg_at, gold_positions, order_by

    logits_qk = np.asarray(_val_logits(model, jnp.asarray(val["q_ids"]), kb_ids, jnp.asarray(val["cand"]),
                                       jnp.asarray(val["lex"])))
    return float(ndcg_at(gold_positions(order_by(logits_qk), val["label"])).mean())
