"""The Llama/Qwen2 decoder as a Flax NNX module, plus chunked token log-probabilities."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from mighty.models.config import ModelConfig
from mighty.models.layers import Block, KVCache, RMSNorm, param, rope_tables


def default_positions(attention_mask):
    """Left padding: real tokens count 0,1,2,... from their first real token; pads sit at 0."""
    return jnp.maximum(jnp.cumsum(attention_mask, axis=-1) - 1, 0).astype(jnp.int32)


class Transformer(nnx.Module):
    """Decoder-only LM. `model(ids [B,T] int32) -> logits [B,T,V] float32`."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs | None = None):
        rngs = rngs if rngs is not None else nnx.Rngs(0)
        self.cfg = cfg
        pd = cfg.jnp_param_dtype
        self.embed = param(rngs, (cfg.vocab_size, cfg.hidden_size), ("vocab", "embed"), pd)
        self.layers = nnx.List([Block(cfg, rngs) for _ in range(cfg.num_layers)])
        self.final_norm = RMSNorm(cfg.hidden_size, cfg.rms_eps, cfg.jnp_dtype, pd)
        if not cfg.tie_embeddings:
            self.lm_head = param(rngs, (cfg.hidden_size, cfg.vocab_size), ("embed", "vocab"), pd)

    def __call__(self, input_ids, *, positions=None, attention_mask=None):
        return _logits_jit(self, input_ids, positions, attention_mask)

    def hidden(self, input_ids, *, positions=None, attention_mask=None):
        """Final-normed hidden states `[B, T, D]` in the compute dtype."""
        return _hidden_jit(self, input_ids, positions, attention_mask)

    def forward(self, input_ids, *, positions=None, attention_mask=None, cache: KVCache | None = None):
        """Run the stack; with `cache`, write this chunk's K/V at `cache.index` and attend over it.

        input_ids `[B, T]`; attention_mask `[B, T]` (1 = real token); positions `[B, T]`.
        Returns (hidden `[B, T, D]`, updated cache or None).
        """
        _check_ids(input_ids, self.cfg)
        if attention_mask is None:
            attention_mask = jnp.ones(input_ids.shape, jnp.int32)
        attention_mask = attention_mask.astype(jnp.int32)
        # positions below a bound known here come from a table (models.layers.rope_tables):
        # the defaults lie in [0, T), a cache's in [0, S)
        bound = input_ids.shape[1] if positions is None else None
        if cache is not None:
            bound = cache.mask.shape[1]
        if positions is None:
            positions = default_positions(attention_mask)
        x = jnp.take(self.embed[...], input_ids, axis=0).astype(self.cfg.jnp_dtype)  # (B, T, D)
        call = _layer_call(getattr(self, "remat", "none"))
        rope = rope_tables(positions, self.cfg, x.dtype, bound)  # once for every layer
        if cache is None:
            for layer in self.layers:
                x = call(layer, x, rope, attention_mask, None, None)[0]
            return self.final_norm(x), None
        mask = jax.lax.dynamic_update_slice(cache.mask, attention_mask, (0, cache.index))  # (B, S)
        keys, values = [], []
        for i, layer in enumerate(self.layers):
            x, (k, v) = call(layer, x, rope, mask, (cache.keys[i], cache.values[i]), cache.index)
            keys.append(k)
            values.append(v)
        new_cache = KVCache(tuple(keys), tuple(values), mask, cache.index + input_ids.shape[1])
        return self.final_norm(x), new_cache

    def unembed_matrix(self):
        """`[D, V]` output projection (the transposed embedding when tied)."""
        return self.embed[...].T if self.cfg.tie_embeddings else self.lm_head[...]

    def unembed(self, h):
        """h `[..., D]` -> float32 logits `[..., V]`."""
        lead, d = h.shape[:-1], h.shape[-1]
        h2 = h.reshape(-1, d)  # (N, D)
        if self.cfg.tie_embeddings:
            # Contract h and the [V, D] table on D directly: `h @ E.T` makes XLA:CPU copy the
            # transposed table (113 MB for SmolLM2) on every decode step, and `(E @ h.T).T`
            # misses the bf16 kernels (3-9x slower in bf16; benchmarks/README.md, "bf16").
            e = self.embed[...].astype(h.dtype)
            logits = jax.lax.dot_general(h2, e, (((1,), (1,)), ((), ())),
                                         preferred_element_type=jnp.float32)  # (N, V)
        else:
            logits = jnp.matmul(h2, self.lm_head[...].astype(h.dtype), preferred_element_type=jnp.float32)
        return logits.reshape(*lead, -1)


# Activation checkpointing per block (a training knob, set as `model.remat = "dots"` before
# `nnx.split`; see conf/mesh): which intermediates the backward pass keeps vs recomputes.
REMAT_POLICIES = {
    "full": jax.checkpoint_policies.nothing_saveable,  # keep block inputs only
    "dots": jax.checkpoint_policies.dots_saveable,  # keep matmul outputs
    "dots_no_batch": jax.checkpoint_policies.dots_with_no_batch_dims_saveable,  # keep weight matmuls
}


def _layer_call(policy: str):
    def call(layer, x, rope, mask, layer_cache, index):
        return layer(x, rope, mask, layer_cache, index)

    if policy in (None, "none"):
        return call
    if policy not in REMAT_POLICIES:
        raise ValueError(f"Transformer.remat={policy!r}; choose 'none' or one of {sorted(REMAT_POLICIES)}")
    return nnx.remat(call, policy=REMAT_POLICIES[policy])


# Jitted entry points: eager op-by-op dispatch of a 30-layer stack costs seconds per call.
# Inside an outer jit/grad these simply inline.
@nnx.jit
def _hidden_jit(model: Transformer, input_ids, positions, attention_mask):
    return model.forward(input_ids, positions=positions, attention_mask=attention_mask)[0]


@nnx.jit
def _logits_jit(model: Transformer, input_ids, positions, attention_mask):
    h, _ = model.forward(input_ids, positions=positions, attention_mask=attention_mask)
    return model.unembed(h)


def _check_ids(input_ids, cfg: ModelConfig):
    if input_ids.ndim != 2:
        raise ValueError(f"Transformer: input_ids must be [batch, time], got shape {input_ids.shape}")
    if not jnp.issubdtype(input_ids.dtype, jnp.integer):
        raise TypeError(f"Transformer: input_ids must be integer token ids, got dtype {input_ids.dtype}")


def token_logprobs(model: Transformer, input_ids, mask, targets, *, chunk: int = 8192):
    """log p(targets[b,t] | input_ids[b,:t+1]) `[B, T]` float32, 0 where mask is 0.

    The log-partition is a running logsumexp over vocab chunks of `chunk` columns, so peak
    memory is `[B, T, chunk]` rather than `[B, T, V]`; each chunk is rematerialised in the
    backward pass for the same reason. Gradients flow to the model as usual.
    """
    return _token_logprobs_jit(model, input_ids, mask, targets, chunk=chunk)


@nnx.jit(static_argnames="chunk")
def _token_logprobs_jit(model: Transformer, input_ids, mask, targets, *, chunk: int):
    h = model.hidden(input_ids, attention_mask=mask)  # (B, T, D)
    return chunked_logprobs(h, model.unembed_matrix(), targets, mask, chunk=chunk)


def chunked_logprobs(h, w, targets, mask, *, chunk: int = 8192):
    """h `[B,T,D]`, w `[D,V]`, targets `[B,T]` -> `[B,T]` float32 log-probabilities."""
    d, vocab = w.shape
    chunk = min(chunk, vocab)
    n_chunks = -(-vocab // chunk)
    pad = n_chunks * chunk - vocab
    w = w.astype(h.dtype)
    w_chunks = jnp.pad(w, ((0, 0), (0, pad))).reshape(d, n_chunks, chunk).transpose(1, 0, 2)  # (C, D, chunk)
    valid = (jnp.arange(n_chunks * chunk) < vocab).reshape(n_chunks, chunk)

    def chunk_lse(carry, xs):
        w_c, valid_c = xs
        logits = jnp.matmul(h, w_c, preferred_element_type=jnp.float32)  # (B, T, chunk)
        logits = jnp.where(valid_c, logits, -jnp.inf)
        return jnp.logaddexp(carry, jax.nn.logsumexp(logits, axis=-1)), None

    if n_chunks > 1:  # with one chunk the forward holds all of [B, T, V] anyway: keep it, skip the recompute
        chunk_lse = jax.checkpoint(chunk_lse)

    init = jnp.full(h.shape[:2], -jnp.inf, jnp.float32)
    lse, _ = jax.lax.scan(chunk_lse, init, (w_chunks, valid))  # (B, T)
    w_t = jnp.take(w.T, targets, axis=0)  # (B, T, D)
    target_logit = jnp.einsum("btd,btd->bt", h, w_t, preferred_element_type=jnp.float32)
    return jnp.where(mask > 0, target_logit - lse, 0.0)


def with_compute_dtype(model: Transformer, dtype: str) -> Transformer:
    """The same parameter arrays (not copied) under another compute dtype.

    Mixed precision for training: float32 parameters, optimizer state and gradients, while
    activations run in `dtype` (bfloat16) and every dot accumulates in float32
    (`models.layers.dense`); norms, softmax and logits stay float32.
    """
    from mighty.runtime.precision import resolve_dtype

    dtype = resolve_dtype(dtype)
    if model.cfg.dtype == dtype:
        return model
    cfg = model.cfg.replace(dtype=dtype)
    graphdef, _ = nnx.split(nnx.eval_shape(lambda: Transformer(cfg, rngs=nnx.Rngs(0))), nnx.Param)
    return nnx.merge(graphdef, nnx.state(model, nnx.Param))


def with_dtype(model: Transformer, dtype: str, compute_dtype: str | None = None) -> Transformer:
    """A copy whose parameters are cast to `dtype`, computed in `compute_dtype` (default: the
    same). Serving a float32-trained model as bf16 reads half the bytes per decoded token."""
    from mighty.runtime.precision import resolve_dtype

    dtype = resolve_dtype(dtype)
    cfg = model.cfg.replace(param_dtype=dtype, dtype=resolve_dtype(compute_dtype or dtype))
    if cfg == model.cfg:
        return model
    graphdef, abstract = nnx.split(nnx.eval_shape(lambda: Transformer(cfg, rngs=nnx.Rngs(0))), nnx.Param)
    nnx.replace_by_pure_dict(abstract, jax.tree.map(lambda x: x.astype(cfg.jnp_param_dtype),
                                                    nnx.to_pure_dict(nnx.state(model, nnx.Param))))
    return nnx.merge(graphdef, abstract)


def completion_hidden(model, prompt_ids, prompt_mask, tokens, mask):
    """Final hidden states (N, L, D) at the positions that predict tokens[:, 0 … L−1].

    prompt_ids/prompt_mask: (N, P), a prompt per row, or (N/G, P), one prompt for each block of
    G consecutive rows (a GRPO group). Then the prompt runs through the stack once per group
    and writes its keys/values to a cache that the group's G completions attend to: the same
    attention and positions as the per-row pass, for (P + G·L)/(G·(P + L)) of its dense FLOPs
    (config B: 47%); the prompt's gradient sums over its G rows (the transpose of the repeat).
    The cache is in the compute dtype, like the per-row pass's keys/values.
    """
    (n, length), (groups, p) = tokens.shape, prompt_ids.shape
    if n % groups:
        raise ValueError(f"completion_hidden: {groups} prompts for {n} completion rows; pass one "
                         f"prompt per row or one per group of G consecutive rows")
    g = n // groups
    repeat = lambda x: jnp.repeat(x, g, axis=0)
    attn = jnp.concatenate([repeat(prompt_mask), mask], axis=1)[:, :-1]  # (N, P+L-1)
    if g == 1:
        ids = jnp.concatenate([prompt_ids, tokens], axis=1)[:, :-1]
        return model.hidden(ids, attention_mask=attn)[:, p - 1:]
    positions = default_positions(attn)  # exactly the per-row pass's numbering
    cache = KVCache.init(model.cfg, groups, p + length - 1, dtype=model.cfg.jnp_dtype)
    h_prompt, cache = model.forward(prompt_ids, positions=positions[::g, :p],
                                    attention_mask=prompt_mask, cache=cache)
    h_last = repeat(h_prompt[:, -1:])  # predicts tokens[:, 0]
    if length == 1:
        return h_last
    h, _ = model.forward(tokens[:, :-1], positions=positions[:, p:], attention_mask=mask[:, :-1],
                         cache=cache.repeat_rows(g))
    return jnp.concatenate([h_last, h], axis=1)
