"""Tiny KD / GRPO / sampler cases run on any mesh (imported by the scale workers, not collected).

Each `run_*` takes a `models.mesh.Layout`, builds born-sharded parameters, feeds this
process's rows of a fixed global batch (so one process and many agree), and returns host
NumPy results to compare across meshes and process counts.
"""
from __future__ import annotations

import jax
import numpy as np
from flax import nnx

from distill.config import OptimConfig as KDOptim
from distill.step import LossSpec, init_state as kd_init_state, make_kd_step, make_optimizer as kd_optimizer
from models import ModelConfig, Transformer, generate
from models.mesh import Layout, init_sharded, to_host
from rl.advantages import group_advantages
from rl.config import GRPOConfig, OptimConfig as RLOptim, RolloutConfig
from rl.reference import ReferencePass
from rl.step import init_state as rl_init_state, make_grpo_step, make_optimizer as rl_optimizer

CFG = ModelConfig.tiny(tie_embeddings=False, num_layers=1)  # V=128, D=32, 4 heads / 2 kv heads
ROWS, P, N, K = 8, 16, 12, 4


def _left_padded(rng, rows, width, lo):
    lengths = rng.integers(lo, width + 1, rows)
    mask = (np.arange(width)[None] >= width - lengths[:, None]).astype(np.int32)
    return (rng.integers(3, CFG.vocab_size, (rows, width)) * mask).astype(np.int32), mask


def kd_batch(seed=0, micro=2):
    """(M, b, ...) host batch with a top-K teacher, as distill.batching.collate builds it."""
    rng = np.random.default_rng(seed)
    out = {}
    p_ids, p_mask = _left_padded(rng, micro * ROWS, P, 4)
    lengths = rng.integers(3, N + 1, micro * ROWS)
    c_mask = (np.arange(N)[None] < lengths[:, None]).astype(np.int32)
    c_ids = (rng.integers(3, CFG.vocab_size, (micro * ROWS, N)) * c_mask).astype(np.int32)
    raw = rng.normal(0, 2, (micro * ROWS, N, K + 1))
    lp = raw - np.log(np.exp(raw).sum(-1, keepdims=True))
    lp = -np.sort(-lp[..., :K], axis=-1)
    ids = np.argsort(rng.random((micro * ROWS, N, CFG.vocab_size)), -1)[..., :K].astype(np.int32)
    out = dict(prompt_ids=p_ids, prompt_mask=p_mask, completion_ids=c_ids, completion_mask=c_mask,
               boost=rng.random((micro * ROWS, N)) < 0.2, topk_ids=ids, topk_logprobs=lp.astype(np.float32))
    return {k: v.reshape(micro, ROWS, *v.shape[1:]) for k, v in out.items()}


def _model(seed):
    return lambda: Transformer(CFG, rngs=nnx.Rngs(seed))


def run_kd(layout: Layout, steps: int = 2) -> dict:
    graphdef, params, rest, p_sh = init_sharded(_model(0), layout.mesh, layout.rules)
    tx, schedule = kd_optimizer(KDOptim(lr=1e-2, warmup_steps=1), 10)
    state, s_sh = layout.state(kd_init_state(params, tx), p_sh)
    step = make_kd_step(graphdef, rest, tx, schedule, LossSpec(temperature=2.0, alpha=0.3, multiplier=2.0),
                        out_shardings=(s_sh, layout.replicated))
    rows = layout.rows(ROWS)
    metrics = []
    for s in range(steps):
        host = kd_batch(seed=s)
        batch = layout.batch({k: v[:, rows] for k, v in host.items()}, batch_dim=1, global_rows=ROWS)
        state, m = step(state, batch, jax.random.key(s))
        metrics.append(to_host(m))
    return {"params": to_host(state["params"]), "metrics": metrics}


def grpo_inputs(seed=0):
    rng = np.random.default_rng(seed)
    p_ids, p_mask = _left_padded(rng, ROWS, P, 4)
    lengths = rng.integers(2, 9, ROWS)
    mask = (np.arange(8)[None] < lengths[:, None]).astype(np.int32)
    tokens = (rng.integers(3, CFG.vocab_size, (ROWS, 8)) * mask).astype(np.int32)
    rewards = rng.normal(size=ROWS).astype(np.float32)
    rewards[4:] = 0.5  # one zero-variance group: advantages exactly 0
    return dict(prompt_ids=p_ids, prompt_mask=p_mask, tokens=tokens, mask=mask), rewards


def run_grpo(layout: Layout, steps: int = 2, micro_batches: int = 2, return_state: bool = False):
    """G=4 completions per prompt; with ROWS=8 on 8 devices each group spans 4 devices."""
    cfg = GRPOConfig(num_generations=4, prompts_per_step=2, beta=0.04, micro_batches=micro_batches,
                     ref_chunk=4, ref_offload=True, rollout=RolloutConfig(max_new_tokens=8),
                     optim=RLOptim(lr=1e-2, warmup_steps=0))
    graphdef, params, _, p_sh = init_sharded(_model(0), layout.mesh, layout.rules)
    _, ref_params, _, _ = init_sharded(_model(1), layout.mesh, layout.rules)
    tx = rl_optimizer(cfg.optim, 10)
    state, s_sh = layout.state(rl_init_state(params, tx), p_sh)
    step = make_grpo_step(graphdef, tx, cfg, max_len=8, out_shardings=(s_sh, layout.replicated))
    host, rewards = grpo_inputs()
    rows = layout.rows(ROWS)
    batch = layout.batch({k: v[rows] for k, v in host.items()}, global_rows=ROWS)
    adv = group_advantages(layout.batch(rewards[rows], global_rows=ROWS), cfg.num_generations)
    ref = ReferencePass(graphdef, ref_params, chunk_rows=cfg.ref_chunk, offloaded=cfg.ref_offload)
    logp_ref = ref(batch["prompt_ids"], batch["prompt_mask"], batch["tokens"], batch["mask"])
    full = {**batch, "adv": adv, "logp_ref": logp_ref, "logp_old": jax.numpy.zeros_like(logp_ref)}
    metrics = []
    for s in range(steps):
        state, m = step(state, {**full, "first": np.asarray(s == 0)}, jax.random.key(s))
        metrics.append(to_host(m))
    out = {"params": to_host(state["params"]), "metrics": metrics, "adv": to_host(adv),
           "logp_ref": to_host(logp_ref)}
    return (out, state) if return_state else out


def run_sampler(layout: Layout, greedy_only: bool = False) -> dict:
    """Greedy and sampled decoding from sharded weights with a batch-sharded prompt."""
    graphdef, params, rest, _ = init_sharded(_model(0), layout.mesh, layout.rules)
    model = nnx.merge(graphdef, params, rest)
    host, _ = grpo_inputs()
    b = layout.batch({k: host[k] for k in ("prompt_ids", "prompt_mask")}, global_rows=ROWS)
    out = {}
    for name, temp in (("greedy", 0.0), ("sampled", 1.0))[:1 if greedy_only else 2]:
        o = generate(model, b["prompt_ids"], b["prompt_mask"], jax.random.key(7), max_new_tokens=10,
                     temperature=temp, eos_id=CFG.eos_id, pad_id=CFG.pad_id)
        out[name] = {"tokens": to_host(o.tokens), "logprobs": to_host(o.logprobs), "mask": to_host(o.mask)}
    return out
