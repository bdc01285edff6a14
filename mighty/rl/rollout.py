"""GRPO rollout: G completions per prompt, their rewards, and the log-probs the loss needs.

Order of work in `Rollouts.sample` (JAX dispatch is asynchronous, so device and host overlap):

1. `models.generate` on the prompts repeated group-contiguously (rows g·G … g·G+G−1 belong to
   prompt g; on one device each prompt is prefilled once, `group_size=G`). The sampler
   derives row b's key as fold_in(key, b), so each group's completions depend only on
   (round key, group index), never on the rest of the batch.
2. Dispatch, without waiting, the reference log-probs (β > 0) and the old-policy log-probs
   (μ > 1): one forward pass each over [prompt ‖ completion], each group's prompt once.
3. Meanwhile on the host: copy the tokens, decode, and score them with the reward (the slow
   part: rubric, grammar, judge calls), add the DAPO soft overlong punishment. With many
   processes each one copies and scores only its own rows (`models.mesh.host_rows`); the
   scores, texts and infos are then exchanged so every process holds the whole batch.

The host only blocks on the log-probs when the learner builds the update batch.
"""
from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mighty.models import DEFAULT_RULES, bucket_length, generate
from mighty.models.mesh import Layout, allgather_objects, host_rows
from mighty.rewards.base import call_reward
from mighty.rl.config import GRPOConfig
from mighty.rl.reference import ReferencePass
from mighty.rl.step import completion_logprobs, sampling_kwargs
from mighty.training import merge_states


def overlong_penalty(lengths_n: np.ndarray, *, max_len: int, buffer: int, penalty: float) -> np.ndarray:
    """DAPO soft overlong punishment (N,): 0 up to L_max − L_cache, then linear down to −penalty
    at L_max. `buffer` = L_cache; 0 disables it."""
    if buffer <= 0:
        return np.zeros(np.shape(lengths_n), np.float64)
    over = np.asarray(lengths_n, np.float64) - (max_len - buffer)
    return -penalty * np.clip(over / buffer, 0.0, 1.0)


def pad_left(x: np.ndarray | jax.Array, width: int, value: int = 0):
    """Left-pad the last axis of (N, P) to `width` columns."""
    extra = width - x.shape[1]
    if extra <= 0:
        return x
    return jnp.pad(x, ((0, 0), (extra, 0)), constant_values=value)


@dataclasses.dataclass
class Rollout:
    """One rollout batch; rows are group-contiguous, N = num_groups · G.

    Device arrays: prompt_ids/prompt_mask (N, P), tokens/mask/sampler_logp (N, L),
    logp_old/logp_ref (N, L) or None; logp_old_raw (N, L) the trainer's raw (T = 1) log π_old
    when the sampler's processing (temperature, top-k, top-p) makes it differ from logp_old.
    sampler_logp is the sampler's raw log π (rl/mismatch.py). Host: lengths/truncated (N,), texts, records (one per
    group), rewards (N,) = composite + overlong, components {name: (N,)}, infos.
    """

    group_size: int
    prompt_ids: jax.Array
    prompt_mask: jax.Array
    tokens: jax.Array
    mask: jax.Array
    sampler_logp: jax.Array
    logp_old: jax.Array | None
    logp_ref: jax.Array | None
    lengths: np.ndarray
    truncated: np.ndarray
    texts: list[str]
    records: list[dict]
    rewards: np.ndarray
    components: dict[str, np.ndarray]
    infos: dict[str, Any]
    logp_old_raw: jax.Array | None = None

    @property
    def num_groups(self) -> int:
        return len(self.records)

    def select_groups(self, idx: np.ndarray) -> "Rollout":
        """The rollout restricted to groups `idx`, in that order."""
        idx = np.asarray(idx, np.int64)
        rows = (idx[:, None] * self.group_size + np.arange(self.group_size)).reshape(-1)
        dev = lambda x: None if x is None else jnp.take(x, jnp.asarray(rows), axis=0)
        return Rollout(
            self.group_size, dev(self.prompt_ids), dev(self.prompt_mask), dev(self.tokens),
            dev(self.mask), dev(self.sampler_logp), dev(self.logp_old), dev(self.logp_ref),
            self.lengths[rows], self.truncated[rows], [self.texts[i] for i in rows],
            [self.records[i] for i in idx], self.rewards[rows],
            {k: v[rows] for k, v in self.components.items()},
            _select_infos(self.infos, rows, len(self.texts)), dev(self.logp_old_raw))

    @staticmethod
    def concat(parts: Sequence["Rollout"]) -> "Rollout":
        """Stack rollouts (prompts are re-padded on the left to the widest bucket)."""
        width = max(p.prompt_ids.shape[1] for p in parts)
        cat = lambda xs: None if xs[0] is None else jnp.concatenate(xs, axis=0)
        f = lambda name: [getattr(p, name) for p in parts]
        return Rollout(
            parts[0].group_size,
            cat([pad_left(p.prompt_ids, width) for p in parts]),
            cat([pad_left(p.prompt_mask, width) for p in parts]),
            cat(f("tokens")), cat(f("mask")), cat(f("sampler_logp")), cat(f("logp_old")),
            cat(f("logp_ref")), np.concatenate(f("lengths")), np.concatenate(f("truncated")),
            sum(f("texts"), []), sum(f("records"), []), np.concatenate(f("rewards")),
            {k: np.concatenate([p.components[k] for p in parts]) for k in parts[0].components},
            _concat_infos([p.infos for p in parts]), cat(f("logp_old_raw")))


def _select_infos(infos: Mapping[str, Any], rows: np.ndarray, n: int) -> dict:
    """Per-item info lists (length N) follow the selection; scalars and others are dropped."""
    out: dict[str, Any] = {}
    for name, info in infos.items():
        if isinstance(info, Mapping):
            out[name] = _select_infos(info, rows, n)
        elif isinstance(info, (list, np.ndarray)) and len(info) == n:
            out[name] = [info[i] for i in rows]
    return out


def _concat_infos(infos: Sequence[Mapping[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for name, first in infos[0].items():
        if all(name in i for i in infos):
            if isinstance(first, Mapping):
                out[name] = _concat_infos([i[name] for i in infos])
            elif isinstance(first, (list, np.ndarray)):
                out[name] = sum((list(i[name]) for i in infos), [])
    return out


def score(reward_fn: Callable, prompts: list[str], completions: list[str], **fields
          ) -> tuple[np.ndarray, dict[str, np.ndarray], dict]:
    """-> (total (N,), components {name: (N,)}, infos). A `rewards.Composite` reports its
    validated components; any other reward is validated here and is its own component."""
    if hasattr(reward_fn, "evaluate"):
        res = reward_fn.evaluate(prompts, completions, **fields)
        return np.asarray(res.total, np.float64), dict(res.components), dict(res.infos)
    total, info = call_reward(getattr(reward_fn, "__name__", "reward"), reward_fn, prompts,
                              completions, **fields)
    return total, {"reward": total}, {"reward": info}


def gather_rows(rows: slice, lengths, truncated, texts, total, comps, infos):
    """Each process's host results for its `rows` -> the results for every row, in row order,
    on every process (so dynamic sampling, metrics and logs agree everywhere). Processes that
    hold the same rows (a batch not split across them) count once."""
    every = allgather_objects((rows.start, (lengths, truncated, texts, total, comps, infos)))
    parts = dict(sorted(every, key=lambda part: part[0]))  # by first row; duplicates collapse
    if len(parts) == 1:
        return lengths, truncated, texts, total, comps, infos
    ls, ts, xs, tots, cs, infs = zip(*parts.values())
    return (np.concatenate(ls), np.concatenate(ts), sum(xs, []), np.concatenate(tots),
            {k: np.concatenate([c[k] for c in cs]) for k in cs[0]}, _concat_infos(infs))


class Rollouts:
    """Samples and scores rollout batches for one policy (graphdef fixed, params per call).

    Args:
      graphdef: the policy's nnx graphdef; params arrive with each `sample` call.
      tokenizer: `decode(ids)`, `eos_id`, `pad_id`.
      encode: record -> prompt token ids (chat template applied).
      reward_fn: a reward (see `score`).
      fields: records -> per-record reward fields {name: list}, repeated G times per group.
      reference: (graphdef, params) of π_ref, or None when β = 0.
      layout: the run's `models.mesh.Layout` (rows sharded over its batch axes; with many
        processes each one feeds, reads back and scores only its own rows), or None: one device.
    """

    def __init__(self, graphdef, tokenizer, encode: Callable[[dict], list[int]],
                 reward_fn: Callable, cfg: GRPOConfig, *,
                 fields: Callable[[list[dict]], dict[str, list]] | None = None,
                 reference: tuple[Any, Any] | None = None, layout: Layout | None = None):
        self.graphdef, self.tokenizer, self.encode = graphdef, tokenizer, encode
        self.reward_fn, self.cfg, self.fields = reward_fn, cfg, fields
        self.reference, self.layout = reference, layout
        self._ref = None if reference is None else ReferencePass(
            *reference, chunk_rows=cfg.ref_chunk, offloaded=cfg.ref_offload,
            sampling=sampling_kwargs(cfg.rollout))
        self._logprobs = jax.jit(completion_logprobs, static_argnums=0, static_argnames=(
            "temperature", "top_k", "top_p", "with_raw"))
        self._cache: dict[str, list[int]] = {}
        # seconds spent per phase since the learner last read them (perf/* metrics); a
        # logprob_wait_s near 0 while score_s is large means the overlap works
        self.timers: Counter = Counter()

    def prompt_batch(self, records: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Left-padded prompt ids/mask (num_prompts, P): P a power of two up to 64, then a
        multiple of 64, and at least `rollout.min_prompt_width`; the sampler keeps that width."""
        rc = self.cfg.rollout
        seqs = []
        for r in records:
            key = r["question"]  # `encode` reads the question only (the student prompt)
            if key not in self._cache:
                self._cache[key] = list(self.encode(r))[-rc.max_prompt_len:]
            seqs.append(self._cache[key])
        longest = max(len(s) for s in seqs)
        # powers of two up to 64, then multiples of 64: few shapes, and a 183-token prompt
        # costs 192 columns rather than 256 in the sampler, the π_ref pass and the update
        width = bucket_length(longest, "pow2", minimum=16) if longest <= 64 else bucket_length(longest, 64)
        width = max(width, rc.min_prompt_width)
        ids = np.full((len(seqs), width), self.tokenizer.pad_id, np.int32)
        mask = np.zeros((len(seqs), width), np.int32)
        for i, s in enumerate(seqs):
            ids[i, width - len(s):], mask[i, width - len(s):] = s, 1
        return ids, mask

    def logprobs(self, graphdef, params, prompt_ids, prompt_mask, tokens, mask
                 ) -> tuple[jax.Array, jax.Array]:
        """(log q, raw log π) (N, L): q the sampler's processed distribution (what the loss
        uses), raw π at T = 1 (what the sampler records, for the mismatch)."""
        logp, _, raw = self._logprobs(graphdef, params, prompt_ids, prompt_mask, tokens, mask,
                                      with_raw=True, **sampling_kwargs(self.cfg.rollout))
        return logp, raw

    def rows(self, n: int) -> slice:
        """This process's rows of an n-row batch (all of them on one process)."""
        return self.layout.rows(n) if self.layout is not None else slice(0, n)

    def to_devices(self, arrays: tuple[np.ndarray, ...], n: int) -> tuple[jax.Array, ...]:
        """This process's rows -> global arrays of n rows, sharded over the batch axes."""
        if self.layout is None:
            return tuple(jnp.asarray(x) for x in arrays)
        return self.layout.batch(arrays, global_rows=n)

    def score_rows(self, records: Sequence[dict], g: int, rows: slice, texts: list[str],
                   lengths: np.ndarray) -> tuple[np.ndarray, dict, dict]:
        """Rewards of rows `rows` of the group-contiguous batch (records repeated g times)."""
        rec_n = [r for r in records for _ in range(g)][rows]
        fields = {k: [v for v in vals for _ in range(g)][rows]
                  for k, vals in (self.fields(list(records)) if self.fields else {}).items()}
        fields.update(completion_tokens=[int(n) for n in lengths],
                      group_ids=np.repeat(np.arange(len(records)), g)[rows])
        return score(self.reward_fn, [r["question"] for r in rec_n], texts, **fields)

    def sample(self, params, records: Sequence[dict], key: jax.Array, *,
               need_old: bool | None = None, group_size: int | None = None,
               temperature: float | None = None, with_reference: bool = True) -> Rollout:
        """G completions for each record, scored; `key` is this round's rollout key.

        Evaluation passes group_size=1, need_old=False, with_reference=False (and temperature
        0 for greedy decoding).
        """
        cfg, rc = self.cfg, self.cfg.rollout
        g = group_size or cfg.num_generations
        need_old = cfg.mu > 1 if need_old is None else need_old
        group_ids, group_mask = self.prompt_batch(records)  # one row per prompt
        n = len(records) * g
        rows = self.rows(n)  # every process holds all records; it feeds and scores only `rows`
        ids, mask = self.to_devices((np.repeat(group_ids, g, 0)[rows], np.repeat(group_mask, g, 0)[rows]), n)
        # rows are group-contiguous, so each group's prompt is prefilled once (on one device)
        # and run once in the log-prob passes below (models.transformer.completion_hidden)
        share = g if cfg.share_prompt else 1
        prefill_once = share > 1 and self.layout is None
        policy = merge_states(self.graphdef, params)
        t0 = time.perf_counter()
        out = generate(policy, *((group_ids, group_mask) if prefill_once else (ids, mask)), key,
                       max_new_tokens=rc.max_new_tokens,
                       temperature=rc.temperature if temperature is None else temperature,
                       top_k=rc.top_k, top_p=rc.top_p, eos_id=self.tokenizer.eos_id,
                       pad_id=self.tokenizer.pad_id, group_size=g if prefill_once else 1,
                       rules=self.layout.rules if self.layout is not None else DEFAULT_RULES)
        loss_mask = out.mask
        if rc.mask_truncated:
            loss_mask = out.mask * (~out.truncated)[:, None].astype(out.mask.dtype)
        # async dispatch: these run on the device while the host scores the texts below
        logp_ref = logp_old = logp_old_raw = None
        ids_g, mask_g = (ids, mask) if share == 1 else (ids[::share], mask[::share])
        if self.reference is not None and with_reference:
            logp_ref = self._ref(ids_g, mask_g, out.tokens, out.mask)
        if need_old:
            logp_old, logp_old_raw = self.logprobs(self.graphdef, params, ids_g, mask_g, out.tokens, out.mask)
        tokens_np, lengths, truncated = host_rows((out.tokens, out.lengths, out.truncated), rows)
        t1 = time.perf_counter()
        texts = [self.tokenizer.decode(t[:k]) for t, k in zip(tokens_np, lengths)]
        total, comps, infos = self.score_rows(records, g, rows, texts, lengths)
        lengths, truncated, texts, total, comps, infos = gather_rows(
            rows, lengths, truncated, texts, total, comps, infos)
        shaping = overlong_penalty(lengths, max_len=rc.max_new_tokens, buffer=rc.overlong_buffer,
                                   penalty=rc.overlong_penalty)
        if rc.overlong_buffer > 0:
            comps = {**comps, "overlong": shaping}
        t2 = time.perf_counter()
        jax.block_until_ready((logp_ref, logp_old))
        self.timers.update(generate_s=t1 - t0, score_s=t2 - t1,
                           logprob_wait_s=time.perf_counter() - t2)
        return Rollout(g, ids, mask, out.tokens, loss_mask, out.logprobs, logp_old, logp_ref,
                       np.asarray(lengths), np.asarray(truncated), texts, list(records),
                       total + shaping, comps, infos, logp_old_raw)
