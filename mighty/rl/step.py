"""The jitted GRPO update: `grpo_step(state, batch, key) -> (state, metrics)`.

`state` is a plain pytree {params, opt_state, step}; params are the pure-dict `nnx.Param`
state of the policy, rebuilt into a module inside the trace with `nnx.merge`. `batch` holds
only arrays of static shape (N = prompts·G rows, P prompt and L = L_max completion columns):

    prompt_ids, prompt_mask  (N, P) or, one per group of G rows, (N/G, P) int32, left padded
    tokens, mask             (N, L) int32; mask = 1 on completion tokens that enter the loss
    adv                      (N,)   float32 advantages
    logp_old                 (N, L) log π_old, read only when `first` is False (μ > 1)
    logp_ref                 (N, L) log π_ref (present when β > 0)
    sampler_logp             (N, L) raw log π the sampler recorded (optional: mismatch/* metrics
                                    and the grpo.mismatch correction)
    logp_old_raw             (N, L) raw log π_old of the trainer (with sampler_logp when μ > 1)
    kl_rows                  (N,)   1 where the KL term counts (grpo.flat_group_kl = false)
    first                    ()     bool: first inner iteration, π_old = π_θ exactly

The trainer's log-probs are those of the distribution the sampler drew from: temperature,
top-k and top-p as `grpo.rollout` sets them (rl/mismatch.py says why).

Log-probabilities come from the final hidden states of the completion positions only, through
`models.transformer.chunked_logprobs` (vocab chunks, never a float32 (N, T, V) tensor); the
entropy uses the same chunking.
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from mighty.models.transformer import chunked_logprobs, completion_hidden
from mighty.rl.config import GRPOConfig, RolloutConfig
from mighty.rl.losses import grpo_loss
from mighty.rl.mismatch import correction_metrics, is_weights, log_ratio, mismatch_metrics, processed_logprobs
from mighty.training import accumulate_grads, bind_rest, merge_states

VOCAB_CHUNK = 8192


def chunked_lse_entropy(h_btd, w_dv, *, chunk: int = VOCAB_CHUNK, scale: float = 1.0):
    """log Σ_v e^{z_v} and H(π(·|s_t)), both (B, T), from hidden states in one pass over vocab
    chunks (the log-probs and the entropy share every chunk's matmul); z = scale·h·W (scale =
    1/T for a sampling temperature T).

    Carries (m, s0, s1) = (running max, Σ e^{z−m}, Σ e^{z−m}·z), so lse = m + log s0 and
    H = lse − s1/s0, without a (B, T, V) tensor. m is a stop-gradient shift (the result does
    not depend on it), so gradients are exact.
    """
    d, vocab = w_dv.shape
    chunk = min(chunk, vocab)
    n = -(-vocab // chunk)
    w = jnp.pad(w_dv.astype(h_btd.dtype), ((0, 0), (0, n * chunk - vocab)))
    w_cdk = w.reshape(d, n, chunk).transpose(1, 0, 2)  # (C, D, chunk)
    valid_ck = (jnp.arange(n * chunk) < vocab).reshape(n, chunk)

    def body(carry, xs):
        m, s0, s1 = carry
        w_c, valid_c = xs
        z = jnp.matmul(h_btd, w_c, preferred_element_type=jnp.float32) * scale  # (B, T, chunk)
        z = jnp.where(valid_c, z, -jnp.inf)
        m_new = jax.lax.stop_gradient(jnp.maximum(m, jnp.max(z, -1)))
        decay = jnp.exp(m - m_new)
        e = jnp.exp(z - m_new[..., None])
        s1_c = jnp.sum(jnp.where(valid_c, e * z, 0.0), -1)
        return (m_new, s0 * decay + jnp.sum(e, -1), s1 * decay + s1_c), None

    if n > 1:  # with one chunk the forward holds all of (B, T, V) anyway: skip the recompute
        body = jax.checkpoint(body)
    shape = h_btd.shape[:2]
    init = (jnp.full(shape, -jnp.inf, jnp.float32), jnp.zeros(shape, jnp.float32),
            jnp.zeros(shape, jnp.float32))
    (m, s0, s1), _ = jax.lax.scan(body, init, (w_cdk, valid_ck))
    lse = m + jnp.log(s0)
    return lse, lse - s1 / s0


def chunked_entropy(h_btd, w_dv, *, chunk: int = VOCAB_CHUNK):
    """H(π(·|s_t)) (B, T) from hidden states, streaming over vocab chunks."""
    return chunked_lse_entropy(h_btd, w_dv, chunk=chunk)[1]


def completion_logprobs(graphdef, params, prompt_ids, prompt_mask, tokens, mask, *,
                        entropy: bool = False, chunk: int = VOCAB_CHUNK,
                        temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                        with_raw: bool = False):
    """log q(tokens | prompt) (N, L) and optionally H(q) (N, L) at completion positions, for
    q = the raw model's distribution after the sampler's temperature / top-k / top-p (all off:
    q = π). `with_raw` also returns the raw (T = 1) log π, a constant, for the mismatch
    against the sampler's record: (logp, ent, raw).

    One forward pass over [prompt ‖ completion[:-1]]; only the L hidden states that predict
    completion tokens are unembedded (the prompt positions never touch the vocab matrix).
    Temperature alone streams over vocab chunks; top-k / top-p builds (N, L, V) logits.
    Prompts come one per row (N, P) or one per group (N/G, P): see `completion_hidden`.
    `params` is one state or (trainable, frozen) states (a LoRA policy: `training.merge_states`).
    """
    model = merge_states(graphdef, params)
    h = completion_hidden(model, prompt_ids, prompt_mask, tokens, mask)
    w = model.unembed_matrix()
    t = temperature if temperature > 0 else 1.0  # greedy (T = 0) has no distribution: raw π
    on = mask > 0
    if top_k > 0 or top_p < 1:
        z = jnp.matmul(h, w.astype(h.dtype), preferred_element_type=jnp.float32)  # (N, L, V)
        logp, ent = processed_logprobs(z, tokens, temperature=t, top_k=top_k, top_p=top_p)
        raw = jnp.take_along_axis(jax.nn.log_softmax(jax.lax.stop_gradient(z)), tokens[..., None], -1)[..., 0]
        return _outputs(jnp.where(on, logp, 0.0), ent if entropy else None, jnp.where(on, raw, 0.0), with_raw)
    if not entropy and t == 1.0:
        logp = chunked_logprobs(h, w, tokens, mask, chunk=chunk)
        return _outputs(logp, None, jax.lax.stop_gradient(logp), with_raw)
    lse, ent = chunked_lse_entropy(h, w, chunk=chunk, scale=1.0 / t)  # one vocab pass for both
    w_t = jnp.take(w.astype(h.dtype).T, tokens, axis=0)  # (N, L, D) target columns
    target = jnp.einsum("bld,bld->bl", h, w_t, preferred_element_type=jnp.float32)
    logp = jnp.where(on, target / t - lse, 0.0)
    raw = jax.lax.stop_gradient(logp)
    if with_raw and t != 1.0:
        h0 = jax.lax.stop_gradient(h)
        lse1 = chunked_lse_entropy(h0, jax.lax.stop_gradient(w), chunk=chunk)[0]
        raw = jax.lax.stop_gradient(jnp.where(on, target - lse1, 0.0))
    return _outputs(logp, ent if entropy else None, raw, with_raw)


def _outputs(logp, ent, raw, with_raw):
    return (logp, ent, raw) if with_raw else (logp, ent)


def sampling_kwargs(rc: RolloutConfig) -> dict:
    """The sampler's processing, for `completion_logprobs` (the trainer's q = the sampler's)."""
    return {"temperature": rc.temperature, "top_k": rc.top_k, "top_p": rc.top_p}


def group_prompts(prompt_ids, prompt_mask, group_size: int):
    """(N, P) prompts of group-contiguous rows -> (N/G, P), one per group, after checking that
    every row of a group holds its group's prompt (a mismatch would silently mix prompts)."""
    n, p = prompt_ids.shape
    if group_size == 1:
        return prompt_ids, prompt_mask
    ids_g, mask_g = prompt_ids[::group_size], prompt_mask[::group_size]
    same = lambda x, x_g: jnp.all(x.reshape(n // group_size, group_size, p) == x_g[:, None])
    if not bool(same(prompt_ids, ids_g) & same(prompt_mask, mask_g)):
        raise ValueError(f"group_prompts: rows of a group of {group_size} hold different prompts; "
                         f"GRPO batches must be group-contiguous (rows g·G … g·G+G−1 share prompt "
                         f"g), or set grpo.share_prompt=false")
    return ids_g, mask_g


def make_grpo_step(graphdef, tx: optax.GradientTransformation, cfg: GRPOConfig, *,
                   max_len: int, chunk: int = VOCAB_CHUNK, out_shardings=None, rest=None):
    """Build the jitted `grpo_step(state, batch, key) -> (state, metrics)`; state is donated.

    `cfg.micro_batches` = M > 1 accumulates the gradient over M row blocks in a `lax.scan`
    (same update as one pass, up to float rounding). `out_shardings` (state, metrics) pins the
    layout on a mesh. `rest`: a LoRA policy's frozen base (the state holds its adapters only),
    an argument of the program, never differentiated.
    """
    use_ref = cfg.beta > 0
    micro = getattr(cfg, "micro_batches", 1)

    def loss_fn(params, batch, rest):
        logp, ent, raw = completion_logprobs(
            graphdef, params if rest is None else (params, rest), batch["prompt_ids"],
            batch["prompt_mask"], batch["tokens"], batch["mask"], entropy=True, chunk=chunk,
            with_raw=True, **sampling_kwargs(cfg.rollout))
        if cfg.entropy_coef == 0:
            ent = jax.lax.stop_gradient(ent)  # logged only
        # first inner iteration: π_old is π_θ itself, so ρ = 1 exactly (no recompute noise)
        logp_old = jnp.where(batch["first"], jax.lax.stop_gradient(logp), batch["logp_old"])
        mask, weight, extra = sampler_correction(batch, raw, cfg)
        loss, metrics = grpo_loss(
            logp, logp_old, batch["logp_ref"] if use_ref else None, batch["adv"], mask,
            eps_low=cfg.eps_low, eps_high=cfg.eps_high, beta=cfg.beta,
            kl_estimator=cfg.kl_estimator, aggregation=cfg.loss_agg, max_len=max_len,
            entropy_bt=ent, entropy_coef=cfg.entropy_coef, policy_loss=cfg.policy_loss,
            dual_clip_c=cfg.dual_clip_c, top_entropy_rho=cfg.top_entropy_rho,
            is_weight_bt=weight, kl_mask_b=batch.get("kl_rows"))
        return loss, {**metrics, **extra}

    def grads_of(params, batch, rest):
        loss = lambda p, b: loss_fn(p, b, rest)  # noqa: E731  (∇ w.r.t. the trainable state only)
        if micro == 1:
            (_, metrics), grads = jax.value_and_grad(loss, has_aux=True)(params, batch)
            return grads, metrics
        return accumulated_grads(loss, params, batch, micro, cfg.loss_agg)

    def grpo_step(state, batch, key, rest=None):
        del key  # no stochastic layers; kept so every step shares one signature
        grads, metrics = grads_of(state["params"], batch, rest)
        updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
        params = optax.apply_updates(state["params"], updates)
        metrics = {**metrics, "grpo/grad_norm": optax.global_norm(grads),
                   "grpo/update_norm": optax.global_norm(updates)}
        return {"params": params, "opt_state": opt_state, "step": state["step"] + 1}, metrics

    kw = {} if out_shardings is None else {"out_shardings": out_shardings}
    return bind_rest(jax.jit(grpo_step, donate_argnums=0, **kw), rest)


def sampler_correction(batch, raw_bt, cfg: GRPOConfig):
    """(loss mask, IS weight or None, mismatch/* metrics) from the sampler's recorded raw
    log-probs and the trainer's raw log π_old (this pass's on the first inner iteration).
    Without `sampler_logp` in the batch: the mask as is, no weight, no metrics."""
    mask = batch["mask"]
    if "sampler_logp" not in batch:
        return mask, None, {}
    raw_old = jnp.where(batch["first"], raw_bt, batch.get("logp_old_raw", raw_bt))
    delta = log_ratio(raw_old, batch["sampler_logp"], mask)
    mc = cfg.mismatch
    metrics = mismatch_metrics(delta, mask, tuple(mc.thresholds))
    if mc.correction == "none":
        return mask, None, metrics
    w, keep = is_weights(delta, mask, correction=mc.correction, level=mc.level, cap=mc.cap,
                         floor=mc.floor)
    return keep.astype(mask.dtype), w, {**metrics, **correction_metrics(w, mask, keep)}


def prompt_group_size(cfg: GRPOConfig, blocks: int = 1) -> int:
    """Rows per shared prompt for a pass over `blocks` equal blocks (microbatches × batch
    devices): with `grpo.share_prompt`, the largest divisor g of G for which the rollout's
    N/g prompt copies split evenly into the blocks, so each block holds whole sub-groups of
    g rows (G itself when the groups split evenly: 8 prompts × G = 8 in 4 blocks; 2 for 32
    prompts × 8 in 16 microbatches × 8 devices). 1, a prompt per row, when sharing is off."""
    if not cfg.share_prompt:
        return 1
    g, rows = cfg.num_generations, cfg.prompts_per_step * cfg.num_generations
    return max((d for d in range(1, g + 1) if g % d == 0 and (rows // d) % blocks == 0), default=1)


def accumulated_grads(loss_fn, params, batch, micro: int, loss_agg: str):
    """Σ_m w_m ∇ℓ_m / Σ_m w_m over M row blocks (training.accumulate_grads), with w_m = tokens_m
    (token aggregation) or 1 (sequence, dr_grpo: equal-size blocks), so the sum is the
    gradient of the full-batch loss. tokens_m is the count the loss itself reports
    (`grpo/tokens`, after an importance-sampling mask), so the normaliser is the full batch's
    even when the loss drops tokens. With one prompt per (sub-)group ((N/g, P) prompts) each
    block takes whole (sub-)groups."""
    n, groups = batch["tokens"].shape[0], batch["prompt_ids"].shape[0]
    if groups % micro:  # groups = n rows, or n / g (sub-)group prompts
        raise ValueError(f"grpo.micro_batches={micro} must divide the batch's {groups} "
                         f"{'rows' if groups == n else 'groups'}")
    # strided blocks (groups or rows m, m+M, m+2M, ...): a batch sharded in contiguous row
    # blocks keeps every microbatch spread over all devices (a contiguous split would put each
    # on one shard)
    def split(x):
        if not x.ndim:
            return jnp.broadcast_to(x, (micro,))
        rows_per_unit = x.shape[0] // groups  # g for completion rows, 1 for group prompts
        units = x.reshape(groups // micro, micro, rows_per_unit, *x.shape[1:]).swapaxes(0, 1)
        return units.reshape(micro, x.shape[0] // micro, *x.shape[1:])

    return accumulate_grads(jax.value_and_grad(loss_fn, has_aux=True), params, jax.tree.map(split, batch),
                            weight_key="grpo/tokens" if loss_agg == "token" else None,
                            count_key="grpo/tokens")
