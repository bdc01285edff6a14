"""The jitted KD step (its optimizer and train state: `training`).

Train state: a plain pytree `{"params": nested dict, "opt_state": optax state, "step": int32}`; the
model's structure (`graphdef`) is static and closed over. A batch holds `M = grad_accum`
microbatches of `b` sequences, each sequence a left-padded student prompt `[P]` followed by a
right-padded teacher (or student, on-policy) completion `[N]`:

  prompt_ids, prompt_mask          (M, b, P)  int32
  completion_ids, completion_mask  (M, b, N)  int32
  boost                            (M, b, N)  bool   high-stakes tokens (per-token α)
  teacher: topk_ids + topk_logprobs (M, b, N, K)     from the label cache, or
           teacher_logits           (M, b, N, V)     from a live teacher (on-policy)
  token_index, token_mask          (M, R)     int32  optional: the real completion slots
                                                     (`distill.batching.token_rows`)

Only completion tokens are scored (mask = completion_mask). Logits are computed only for the
R rows of `token_index` (the real completion tokens gathered into one compact block), never
for the prompt or the completion padding. One compiled program per (P, N, R, teacher kind).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from mighty.distill.alpha import alpha_from_boost
from mighty.distill.config import KDConfig
from mighty.distill.losses import kd_loss
from mighty.models.lora import set_dropout_key
from mighty.models.transformer import completion_hidden
from mighty.training import accumulate_grads, bind_rest


@dataclasses.dataclass(frozen=True)
class LossSpec:
    """Static loss knobs (hashable, closed over by jit): T, α, boost multiplier, D, β, skew."""

    temperature: float = 1.0
    alpha: float = 0.5
    multiplier: float = 1.0
    divergence: str = "forward_kl"
    beta: float = 0.5
    skew: float = 0.1

    @classmethod
    def from_config(cls, kd: KDConfig) -> "LossSpec":
        return cls(temperature=kd.temperature, alpha=kd.alpha, multiplier=kd.alpha_boost.multiplier,
                   divergence=kd.divergence, beta=kd.beta, skew=kd.skew)


def batch_hidden(model, mb) -> jax.Array:
    """(b, N, D) student hidden states at the positions that predict the completion tokens."""
    return completion_hidden(model, mb["prompt_ids"], mb["prompt_mask"], mb["completion_ids"],
                             mb["completion_mask"])


def completion_logits(model, mb) -> jax.Array:
    """(b, N, V) student logits at the positions that predict the completion tokens."""
    return model.unembed(batch_hidden(model, mb))


def scored_rows(mb) -> tuple[jax.Array, jax.Array]:
    """(R,) flat indices into the b·N completion slots to score, and their mask (1 = real).

    The batcher's `token_index` lists only the real completion tokens (R bucketed, see
    `distill.batching.token_rows`), so the unembedding and the loss skip padding; without
    it every slot is scored (the mask still excludes padding)."""
    if "token_index" in mb:
        return mb["token_index"], mb["token_mask"]
    mask = mb["completion_mask"].reshape(-1)
    return jnp.arange(mask.size), mask


def take_rows(x_bn, index_r) -> jax.Array:
    """(b, N, ...) per-token array -> (R, ...) at the scored slots."""
    return jnp.take(x_bn.reshape(-1, *x_bn.shape[2:]), index_r, axis=0)


def teacher_of(mb, rows):
    """The teacher at the scored rows: (R, V) logits, or top-K (ids, log-probs) (R, K)."""
    if "teacher_logits" in mb:
        return rows(mb["teacher_logits"])
    return (rows(mb["topk_ids"]), rows(mb["topk_logprobs"]))


def microbatch_loss(params, mb, graphdef, rest, spec: LossSpec, key=None):
    """The microbatch's token-mean loss and its metrics (`kd/tokens` weights it in the
    accumulation). `key` drives LoRA dropout (models/lora.py); models without dropout adapters
    ignore it."""
    model = nnx.merge(graphdef, params, rest)
    if key is not None:
        set_dropout_key(model, key)
    index_r, mask_r = scored_rows(mb)
    rows = lambda x: take_rows(x, index_r)  # noqa: E731
    logits_rv = model.unembed(rows(batch_hidden(model, mb)))  # (R, V): scored rows only
    alpha_r = alpha_from_boost(rows(mb["boost"]), base_alpha=spec.alpha, multiplier=spec.multiplier)
    loss, metrics = kd_loss(logits_rv, teacher_of(mb, rows), rows(mb["completion_ids"]), mask_r,
                            temperature=spec.temperature, alpha=alpha_r,
                            divergence=spec.divergence, beta=spec.beta, skew=spec.skew)
    return loss, metrics


def make_kd_step(graphdef, rest, tx, schedule, spec: LossSpec, *, out_shardings=None):
    """-> jitted `kd_step(state, batch, key) -> (state, metrics)`, state donated.

    `out_shardings` (state, metrics) pins the new state to the old one's layout on a mesh."""
    kw = {} if out_shardings is None else {"out_shardings": out_shardings}
    step = jax.jit(kd_step_fn(graphdef, rest, tx, schedule, spec), donate_argnums=0, **kw)
    # `rest` (a LoRA student's frozen base) goes in as an argument: closed over, XLA would
    # embed every frozen weight in the program as a constant
    return bind_rest(step, rest)


def kd_step_fn(graphdef, rest, tx, schedule, spec: LossSpec):
    """The pure step, unjitted (tests wrap it, e.g. in `chex.assert_max_traces`)."""
    grad_fn = jax.value_and_grad(microbatch_loss, has_aux=True)

    def kd_step(state, batch, key, rest=rest):
        params = state["params"]
        n_micro = jax.tree.leaves(batch)[0].shape[0]
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n_micro))  # LoRA dropout only
        grads, metrics = accumulate_grads(
            lambda p, mb, k: grad_fn(p, mb, graphdef, rest, spec, k), params, batch,
            weight_key="kd/tokens", count_key="kd/tokens", keys=keys)
        updates, opt_state = tx.update(grads, state["opt_state"], params)
        params = optax.apply_updates(params, updates)
        metrics["kd/grad_norm"] = optax.global_norm(grads)
        metrics["kd/update_norm"] = optax.global_norm(updates)
        metrics["kd/lr"] = schedule(state["step"])
        return {"params": params, "opt_state": opt_state, "step": state["step"] + 1}, metrics

    return kd_step


def make_score_fn(graphdef, rest):
    """-> jitted `score(params, batch) -> per-example (kl, ce, top1, tokens)` at T = 1, α = 0.

    `batch` is one microbatch (no M axis) with a top-K teacher; KL is forward KL(p ‖ q) on the
    K + 1 outcome space (top-K + tail), a per-example token mean. Used by eval and the probe.
    """
    def score(params, mb, rest):
        model = nnx.merge(graphdef, params, rest)
        logits = completion_logits(model, mb)  # (b, N, V)

        def one(l_tv, ids_tk, lp_tk, y_t, m_t):
            _, m = kd_loss(l_tv[None], (ids_tk[None], lp_tk[None]), y_t[None], m_t[None],
                           temperature=1.0, alpha=0.0, divergence="forward_kl")
            return m["kd/divergence"], m["kd/ce"], m["kd/top1_agreement"], m["kd/tokens"]

        return jax.vmap(one)(logits, mb["topk_ids"], mb["topk_logprobs"],
                             mb["completion_ids"], mb["completion_mask"])

    return bind_rest(jax.jit(score), rest)  # rest an argument, as in make_kd_step


def make_teacher_logits_fn(graphdef, rest):
    """-> jitted live-teacher scoring: (params, t_prompt_ids, t_prompt_mask, comp_ids,
    comp_mask) -> (b, N, V) teacher logits on the (student-generated) completion."""
    def teacher_logits(params, p_ids, p_mask, c_ids, c_mask):
        model = nnx.merge(graphdef, params, rest)
        mb = {"prompt_ids": p_ids, "prompt_mask": p_mask, "completion_ids": c_ids,
              "completion_mask": c_mask}
        return completion_logits(model, mb)

    return jax.jit(teacher_logits)
