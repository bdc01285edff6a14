"""Jitted batched sampling: one prefill, then a `lax.while_loop` decode over a fixed KV cache.

Shapes are static per (batch, prompt bucket, max_new_tokens, top_k, return_topk, mode);
temperature, top_p, eos and pad ids are traced, so changing them never recompiles.
The loop exits as soon as every row has emitted EOS.
"""
from __future__ import annotations

import threading
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.experimental import io_callback
from jax.sharding import NamedSharding

from mighty.models.layers import KVCache, first_argmax
from mighty.models.mesh import logical_sharding, replicated
from mighty.models.sharding import DEFAULT_RULES
from mighty.models.tokenizer import bucket_length
from mighty.models.transformer import Transformer, default_positions


class SampleOutput(NamedTuple):
    tokens: jax.Array         # (B, N) int32; pad_id after EOS
    logprobs: jax.Array       # (B, N) f32, log p(token) under the raw model (temperature 1)
    mask: jax.Array           # (B, N) int32, 1 up to and including EOS
    topk_ids: jax.Array       # (B, N, K) int32 (K=0 unless return_topk)
    topk_logprobs: jax.Array  # (B, N, K) f32
    lengths: jax.Array        # (B,) int32 generated tokens incl. EOS
    truncated: jax.Array      # (B,) bool: hit max_new_tokens without EOS
    eos_logprobs: jax.Array   # (B, N) f32, log p(EOS) at every step (where an answer could end)


# The jitted program calls back into whatever stream function is current, so a new callback
# (e.g. a fresh lambda per request) never forces a recompile. XLA runs host callbacks on its
# own threads, so this is a process-wide slot, held under a lock by one streaming call at a time.
_STREAM_LOCK = threading.Lock()
_STREAM_FN: list = [None]


def _stream_dispatch(step, tokens, valid):
    fn = _STREAM_FN[0]
    if fn is not None:
        fn(int(step), np.asarray(tokens), np.asarray(valid))


def generate(model: Transformer, prompt_ids, prompt_mask, key, *, max_new_tokens: int,
             temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, eos_id: int,
             pad_id: int, return_topk: int = 0, rules=DEFAULT_RULES, group_size: int = 1,
             stream: Callable[[int, np.ndarray, np.ndarray], None] | None = None) -> SampleOutput:
    """Sample continuations of left-padded prompts `[B, T]` (mask 1 on real tokens).

    temperature=0 is greedy. top_k=0 and top_p=1 disable those filters. `stream(step,
    tokens_b, valid_b)` is called on the host after every step, in order.

    `group_size` = G samples every prompt G times: outputs have B·G rows, rows b·G … b·G+G−1
    continuing prompt b, exactly as if each prompt had been repeated G times (row r draws
    with fold_in(key, r) either way), but the prompt is prefilled once and its KV cache
    copied G times. Prompts must then sit on one device.

    Prompts sharded over a mesh (host or global arrays, e.g. `models.mesh.shard_batch` of each
    process's rows) keep that layout: the KV cache and every output are split by `rules` (rows
    on `batch`, the cache's heads on `kv_heads`), so each process reads its own rows back
    (`models.mesh.host_rows`). A global array must come with its width already a multiple of 16.
    """
    graphdef, params = nnx.split(model)
    args, kwargs = _generate_args(graphdef, params, model.cfg, prompt_ids, prompt_mask, key,
                                  max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k,
                                  top_p=top_p, eos_id=eos_id, pad_id=pad_id, return_topk=return_topk,
                                  rules=rules, group_size=group_size, streaming=stream is not None)
    if stream is None:
        return _generate_jit(*args, **kwargs)
    with _STREAM_LOCK:
        _STREAM_FN[0] = stream
        try:
            return jax.block_until_ready(_generate_jit(*args, **kwargs))  # callbacks finish in here
        finally:
            _STREAM_FN[0] = None


def _prompts(prompt_ids, prompt_mask):
    """-> int32 (ids, mask) `[B, T']` on the devices, T' a bucket width; a batch-sharded
    layout is kept."""
    if isinstance(prompt_ids, jax.Array) and not prompt_ids.is_fully_addressable:
        return _check_global(prompt_ids, prompt_mask)  # other processes hold rows: no host copy
    ids, mask = _left_pad_to_bucket(np.asarray(prompt_ids), np.asarray(prompt_mask))
    sharding = getattr(prompt_ids, "sharding", None)
    if sharding is not None and len(sharding.device_set) > 1:
        ids, mask = jax.device_put((ids, mask), sharding)
    return ids, mask


def _check_global(ids, mask):
    if ids.ndim != 2 or ids.shape != mask.shape or ids.shape[1] % 16:
        raise ValueError(f"generate: a multi-process prompt batch must be [B, T] ids and mask with "
                         f"T a multiple of 16 (pad on the host first); got {ids.shape}, {mask.shape}")
    if not bool(jnp.all(mask[:, -1] > 0)):  # a global reduction: every process gets the answer
        raise ValueError("generate: prompts must be left-padded and non-empty; some rows end in "
                         "padding. Use Tokenizer.batch(..., padding_side='left').")
    return ids.astype(jnp.int32), mask.astype(jnp.int32)


def lower_generate(graphdef, params, cfg, prompt_ids, prompt_mask, key, *, max_new_tokens: int,
                   temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, eos_id: int, pad_id: int,
                   return_topk: int = 0, rules=DEFAULT_RULES, group_size: int = 1):
    """`generate`'s program lowered for these (possibly abstract, `jax.ShapeDtypeStruct`)
    arguments, without running it: what the memory planner compiles and measures.

    `eos_id`, `pad_id`, temperature and top_p are traced values in the program, so abstract
    scalars may stand in for them; `prompt_ids` must already be a multiple of 16 wide."""
    args, kwargs = _generate_args(graphdef, params, cfg, prompt_ids, prompt_mask, key,
                                  max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k,
                                  top_p=top_p, eos_id=eos_id, pad_id=pad_id, return_topk=return_topk,
                                  rules=rules, group_size=group_size, streaming=False)
    return _generate_jit.lower(*args, **kwargs)


def _scalar(value, dtype):
    return value if isinstance(value, jax.ShapeDtypeStruct) else jnp.asarray(value, dtype)


def _generate_args(graphdef, params, cfg, prompt_ids, prompt_mask, key, *, max_new_tokens: int,
                   temperature, top_k: int, top_p, eos_id, pad_id, return_topk: int, rules,
                   group_size: int, streaming: bool) -> tuple[tuple, dict]:
    """The sampler program's (traced args, static kwargs), validated: one place for `generate`
    and `lower_generate`."""
    concrete = lambda v: not isinstance(v, jax.ShapeDtypeStruct)  # noqa: E731
    if max_new_tokens < 1:
        raise ValueError(f"generate: max_new_tokens must be >= 1, got {max_new_tokens}")
    if top_k < 0 or (concrete(temperature) and temperature < 0) or (concrete(top_p) and not 0 < top_p <= 1):
        raise ValueError(f"generate: need temperature >= 0, 0 < top_p <= 1, top_k >= 0; got "
                         f"{temperature}, {top_p}, {top_k}")
    abstract_prompts = isinstance(prompt_ids, jax.ShapeDtypeStruct)
    ids, mask = (prompt_ids, prompt_mask) if abstract_prompts else _prompts(prompt_ids, prompt_mask)
    shardings = _shardings(cfg, ids, int(max_new_tokens), rules)
    if group_size < 1 or (group_size > 1 and shardings is not None):
        raise ValueError(f"generate: group_size must be ≥ 1 and, above 1, needs prompts on one "
                         f"device (repeat sharded prompts instead); got {group_size}")
    kwargs = dict(max_new_tokens=int(max_new_tokens), top_k=min(int(top_k), cfg.vocab_size),
                  return_topk=int(return_topk), greedy=concrete(temperature) and temperature == 0,
                  use_top_p=concrete(top_p) and top_p < 1.0, streaming=streaming, shardings=shardings,
                  group_size=int(group_size))
    temp = _scalar(max(temperature, 1e-6), jnp.float32) if concrete(temperature) else temperature
    args = (graphdef, params, ids, mask, key, temp, _scalar(top_p, jnp.float32),
            _scalar(eos_id, jnp.int32), _scalar(pad_id, jnp.int32))
    return args, kwargs


def _shardings(cfg, ids, max_new_tokens: int, rules):
    """(KV-cache shardings, row sharding) for prompts split over a mesh, else None. Without a
    constraint XLA is free to keep the whole cache on every device."""
    sharding = getattr(ids, "sharding", None)
    if not isinstance(sharding, NamedSharding) or sharding.mesh.size == 1:
        return None
    mesh, (b, t) = sharding.mesh, ids.shape
    size = t + max_new_tokens
    keys = logical_sharding(("batch", "kv_heads", "head_dim", None),
                            (b, cfg.num_kv_heads, cfg.head_dim, size), mesh, rules)
    values = logical_sharding(("batch", "kv_heads", None, "head_dim"),
                              (b, cfg.num_kv_heads, size, cfg.head_dim), mesh, rules)
    rows = logical_sharding(("batch",), (b,), mesh, rules)  # dim 0 of any (B, ...) array
    n = cfg.num_layers
    return KVCache((keys,) * n, (values,) * n, rows, replicated(mesh)), rows


def _constrain(tree, sharding):
    return tree if sharding is None else jax.lax.with_sharding_constraint(tree, sharding)


def _left_pad_to_bucket(ids, mask):
    if ids.ndim != 2 or ids.shape != mask.shape:
        raise ValueError(f"generate: prompt_ids {ids.shape} and prompt_mask {mask.shape} must both be [B, T]")
    if not mask[:, -1].all():
        rows = np.nonzero(mask[:, -1] == 0)[0].tolist()
        raise ValueError(f"generate: prompts must be left-padded and non-empty; rows {rows} end "
                         f"in padding. Use Tokenizer.batch(..., padding_side='left').")
    # a width that is already a multiple of 16 was bucketed by the caller (e.g. rl.rollout)
    t = ids.shape[1] if ids.shape[1] % 16 == 0 else bucket_length(ids.shape[1], "pow2", minimum=16)
    pad = ((0, 0), (t - ids.shape[1], 0))
    return jnp.asarray(np.pad(ids, pad), jnp.int32), jnp.asarray(np.pad(mask, pad), jnp.int32)


def _last_nonzero(p):
    """Index of the last positive entry along the last axis (0 if none)."""
    iota = jax.lax.broadcasted_iota(jnp.int32, p.shape, p.ndim - 1)
    return jnp.max(jnp.where(p > 0, iota, 0), axis=-1)


def _count_le(cum, r):
    """#{i: cum[..., i] <= r}: the index whose cumulative interval holds r."""
    return jnp.sum((cum <= r[..., None]).astype(jnp.int32), axis=-1)


def inverse_cdf_sample(x, keys, block: int = 256):
    """One draw per row from softmax(x) (`[B, V]`, -inf allowed) with one uniform per row.

    Gumbel-max (`jax.random.categorical`) draws V random numbers per row, which dominated
    the decode step at a 49k vocabulary on CPU. Here r = u·Σp picks a block of `block`
    tokens by its cumulative mass and then the token inside it; both cumulative sums are
    small triangular matmuls. Zero-probability tokens are never picked (rounding at the top
    end falls back to the last positive entry).
    """
    b, v = x.shape
    nb = -(-v // block)
    p = jnp.exp(x - jnp.max(x, axis=-1, keepdims=True))  # (B, V) unnormalised, 0 at -inf
    p = jnp.pad(p, ((0, 0), (0, nb * block - v))).reshape(b, nb, block)
    mass = jnp.sum(p, axis=-1)  # (B, nb)
    cum = mass @ jnp.triu(jnp.ones((nb, nb), p.dtype))  # (B, nb) inclusive cumulative sums
    u = jax.vmap(lambda k: jax.random.uniform(k, (), p.dtype))(keys)  # (B,)
    r = u * cum[:, -1]
    j = jnp.minimum(_count_le(cum, r), _last_nonzero(mass))  # (B,) block index
    before = jnp.take_along_axis(cum, j[:, None], axis=-1)[:, 0] - jnp.take_along_axis(mass, j[:, None], axis=-1)[:, 0]
    inner = jnp.take_along_axis(p, j[:, None, None], axis=1)[:, 0]  # (B, block)
    cum_in = inner @ jnp.triu(jnp.ones((block, block), p.dtype))
    i = jnp.minimum(_count_le(cum_in, r - before), _last_nonzero(inner))
    return j * block + i


def sample_logits(logits, keys, temperature, top_p, *, greedy: bool, top_k: int, use_top_p: bool):
    """logits `[B, V]` f32, keys `[B]` -> token ids `[B]`: temperature, then top-k, then top-p."""
    if greedy:
        return first_argmax(logits).astype(jnp.int32)
    x = logits / temperature
    ids = None
    if top_k > 0:
        x, ids = jax.lax.top_k(x, top_k)  # (B, k), sorted descending
    if use_top_p:
        if ids is None:
            order = jnp.argsort(-x, axis=-1)
            x, ids = jnp.take_along_axis(x, order, axis=-1), order
        probs = jax.nn.softmax(x, axis=-1)
        mass_before = jnp.cumsum(probs, axis=-1) - probs  # keep while the mass ahead < top_p
        x = jnp.where(mass_before < top_p, x, -jnp.inf)
    choice = inverse_cdf_sample(x, keys)
    return (choice if ids is None else jnp.take_along_axis(ids, choice[:, None], axis=-1)[:, 0]).astype(jnp.int32)


class _Loop(NamedTuple):
    step: jax.Array
    token: jax.Array      # (B,) last emitted token, fed to the next decode step
    positions: jax.Array  # (B,) position of `token`
    done: jax.Array       # (B,) bool
    cache: KVCache
    out: SampleOutput


def _emit(state: _Loop, logits, row_keys, consts, opts) -> _Loop:
    """Sample from `logits` (B, V), record the token at column `step`, update done flags."""
    temperature, top_p, eos_id, pad_id = consts
    keys = jax.vmap(jax.random.fold_in, (0, None))(row_keys, state.step)
    tok = sample_logits(logits, keys, temperature, top_p, greedy=opts["greedy"],
                        top_k=opts["top_k"], use_top_p=opts["use_top_p"])
    logp = jax.nn.log_softmax(logits, axis=-1)  # (B, V)
    valid = ~state.done
    tok = jnp.where(valid, tok, pad_id)
    tok_lp = jnp.where(valid, jnp.take_along_axis(logp, tok[:, None], axis=-1)[:, 0], 0.0)
    o, s = state.out, state.step
    o = o._replace(tokens=o.tokens.at[:, s].set(tok), logprobs=o.logprobs.at[:, s].set(tok_lp),
                   mask=o.mask.at[:, s].set(valid.astype(jnp.int32)),
                   eos_logprobs=o.eos_logprobs.at[:, s].set(jnp.where(valid, logp[:, eos_id], 0.0)))
    if opts["return_topk"]:
        lp, ids = jax.lax.top_k(logp, opts["return_topk"])
        o = o._replace(topk_ids=o.topk_ids.at[:, s].set(ids), topk_logprobs=o.topk_logprobs.at[:, s].set(lp))
    if opts["streaming"]:
        io_callback(_stream_dispatch, None, s, tok, valid, ordered=True)
    return state._replace(token=tok, done=state.done | (tok == eos_id), out=o)


def _generate_core(graphdef, params, ids, mask, key, temperature, top_p, eos_id, pad_id, **opts):
    model = nnx.merge(graphdef, params)
    # nothing here is differentiated, and nnx.remat cannot lift a module that the decode
    # while_loop captures ("Cannot mutate Param from a different trace level"): a policy
    # trained with mesh.remat samples with plain blocks
    model.remat = "none"
    t, g = ids.shape[1], opts.get("group_size", 1)  # callers lowering the jit directly may omit it
    b = ids.shape[0] * g
    n, k = opts["max_new_tokens"], opts["return_topk"]
    positions = default_positions(mask)
    cache_sh, rows_sh = opts.get("shardings") or (None, None)
    cache = _constrain(KVCache.init(model.cfg, ids.shape[0], t + n), cache_sh)
    h, cache = model.forward(ids, positions=positions, attention_mask=mask, cache=cache)
    logits = model.unembed(h[:, -1])  # (B, V): only the last column is needed
    if g > 1:  # each prompt's prefill serves its G rows
        cache = cache.repeat_rows(g)
        logits, positions = jnp.repeat(logits, g, axis=0), jnp.repeat(positions, g, axis=0)
    row_keys = jax.vmap(jax.random.fold_in, (None, 0))(key, jnp.arange(b))
    out = SampleOutput(
        tokens=jnp.full((b, n), pad_id, jnp.int32), logprobs=jnp.zeros((b, n), jnp.float32),
        mask=jnp.zeros((b, n), jnp.int32), topk_ids=jnp.zeros((b, n, k), jnp.int32),
        topk_logprobs=jnp.zeros((b, n, k), jnp.float32), lengths=jnp.zeros((b,), jnp.int32),
        truncated=jnp.zeros((b,), bool), eos_logprobs=jnp.zeros((b, n), jnp.float32))
    consts = (temperature, top_p, eos_id, pad_id)
    state = _Loop(jnp.int32(0), jnp.zeros((b,), jnp.int32), positions[:, -1], jnp.zeros((b,), bool), cache, out)
    state = _emit(state, logits, row_keys, consts, opts)

    def cond(s: _Loop):
        return (s.step + 1 < n) & ~jnp.all(s.done)

    def body(s: _Loop):
        pos = s.positions + 1
        h, cache = model.forward(s.token[:, None], positions=pos[:, None],
                                 attention_mask=jnp.ones((b, 1), jnp.int32), cache=s.cache)
        logits = model.unembed(h[:, 0])  # (B, V)
        s = s._replace(step=s.step + 1, positions=pos, cache=_constrain(cache, cache_sh))
        return _emit(s, logits, row_keys, consts, opts)

    state = jax.lax.while_loop(cond, body, state)
    o = state.out
    return _constrain(o._replace(lengths=o.mask.sum(axis=1), truncated=~state.done), rows_sh)


def _call_core(*args, **opts):
    return _generate_core(*args, **opts)  # looked up at trace time, so tests can wrap it


_generate_jit = jax.jit(_call_core, static_argnums=(0,), static_argnames=(
    "max_new_tokens", "top_k", "return_topk", "greedy", "use_top_p", "streaming", "shardings",
    "group_size"))
