"""Tiny KD / GRPO / sampler cases run on any mesh (imported by the scale workers, not collected).

Each `run_*` takes a `models.mesh.Layout`, builds born-sharded parameters, feeds this
process's rows of a fixed global batch (so one process and many agree), and returns host
NumPy results to compare across meshes and process counts.
"""
from __future__ import annotations

import jax
import numpy as np
import optax
from flax import nnx

from mighty.distill.config import OptimConfig as KDOptim
from mighty.distill.step import LossSpec, make_kd_step
from mighty.models import ModelConfig, Transformer, generate
from mighty.models.mesh import Layout, init_model, init_sharded, to_host
from mighty.rl.advantages import group_advantages
from mighty.rl.config import GRPOConfig, GRPOOptimConfig as RLOptim, RolloutConfig
from mighty.rl.reference import ReferencePass
from mighty.rl.step import group_prompts, make_grpo_step, prompt_group_size
from mighty.training import init_state, make_optimizer
from tolerances import capture_grads  # tests/tolerances.py: the workers put tests/ on sys.path

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


def gradient_sgd(lr: float) -> optax.GradientTransformation:
    """SGD that keeps each step's gradient in its state (`opt[0]`). Meshes and process counts
    only reorder sums, so what they must agree on is the gradient (tests/tolerances.py); SGD
    moves the parameters linearly in it, so the next step's gradient stays comparable, where
    Adam's ±lr·sign(g) would turn rounding in near-zero gradients into full-size moves."""
    return optax.chain(capture_grads(), optax.sgd(lr))


def _model(seed):
    return lambda: Transformer(CFG, rngs=nnx.Rngs(seed))


def run_kd(layout: Layout, steps: int = 2) -> dict:
    graphdef, params, rest, p_sh = init_sharded(_model(0), layout.mesh, layout.rules)
    _, schedule = make_optimizer(KDOptim(lr=1e-2, warmup_steps=1), 10)
    tx = gradient_sgd(1e-2)
    state, s_sh = layout.state(init_state(params, tx), p_sh)
    step = make_kd_step(graphdef, rest, tx, schedule, LossSpec(temperature=2.0, alpha=0.3, multiplier=2.0),
                        out_shardings=(s_sh, layout.replicated))
    rows = layout.rows(ROWS)
    metrics, grads = [], []
    for s in range(steps):
        host = kd_batch(seed=s)
        batch = layout.batch({k: v[:, rows] for k, v in host.items()}, batch_dim=1, global_rows=ROWS)
        state, m = step(state, batch, jax.random.key(s))
        metrics.append(to_host(m))
        grads.append(to_host(state["opt_state"][0]))
    # terms: row-tokens summed into each gradient entry (2 microbatches × 8 rows × N tokens)
    return {"params": to_host(state["params"]), "metrics": metrics, "grads": grads, "lr": np.asarray(1e-2),
            "terms": np.asarray(host["completion_mask"].size)}


def grpo_inputs(seed=0, group: int = 1):
    """Rows with their own prompts, or (group=G) one prompt per block of G rows, as a rollout."""
    rng = np.random.default_rng(seed)
    p_ids, p_mask = _left_padded(rng, ROWS, P, 4)
    p_ids, p_mask = np.repeat(p_ids[::group], group, 0), np.repeat(p_mask[::group], group, 0)
    lengths = rng.integers(2, 9, ROWS)
    mask = (np.arange(8)[None] < lengths[:, None]).astype(np.int32)
    tokens = (rng.integers(3, CFG.vocab_size, (ROWS, 8)) * mask).astype(np.int32)
    rewards = rng.normal(size=ROWS).astype(np.float32)
    rewards[4:] = 0.5  # one zero-variance group: advantages exactly 0
    return dict(prompt_ids=p_ids, prompt_mask=p_mask, tokens=tokens, mask=mask), rewards


def run_grpo(layout: Layout, steps: int = 2, micro_batches: int = 2, return_state: bool = False,
             share_prompt: bool = False):
    """G=4 completions per prompt; with ROWS=8 on 8 devices each group spans 4 devices.

    share_prompt: the update runs each prompt once per (sub-)group, as `rl.learner.update_batch`
    does (`prompt_group_size` over microbatches × this mesh's batch devices); else per row."""
    cfg = GRPOConfig(num_generations=4, prompts_per_step=2, beta=0.04, micro_batches=micro_batches,
                     ref_chunk=4, ref_offload=True, rollout=RolloutConfig(max_new_tokens=8),
                     optim=RLOptim(lr=1e-2, warmup_steps=0))
    graphdef, params, _, p_sh = init_sharded(_model(0), layout.mesh, layout.rules)
    _, ref_params, _, _ = init_sharded(_model(1), layout.mesh, layout.rules)
    tx = gradient_sgd(cfg.optim.lr)
    state, s_sh = layout.state(init_state(params, tx), p_sh)
    step = make_grpo_step(graphdef, tx, cfg, max_len=8, out_shardings=(s_sh, layout.replicated))
    host, rewards = grpo_inputs(group=cfg.num_generations if share_prompt else 1)
    rows = layout.rows(ROWS)
    batch = layout.batch({k: v[rows] for k, v in host.items()}, global_rows=ROWS)
    group = prompt_group_size(cfg, micro_batches * layout.batch_split) if share_prompt else 1
    batch["prompt_ids"], batch["prompt_mask"] = group_prompts(batch["prompt_ids"], batch["prompt_mask"], group)
    adv = group_advantages(layout.batch(rewards[rows], global_rows=ROWS), cfg.num_generations)
    ref = ReferencePass(graphdef, ref_params, chunk_rows=cfg.ref_chunk, offloaded=cfg.ref_offload)
    logp_ref = ref(batch["prompt_ids"], batch["prompt_mask"], batch["tokens"], batch["mask"])
    full = {**batch, "adv": adv, "logp_ref": logp_ref, "logp_old": jax.numpy.zeros_like(logp_ref)}
    metrics, grads = [], []
    for s in range(steps):
        state, m = step(state, {**full, "first": np.asarray(s == 0)}, jax.random.key(s))
        metrics.append(to_host(m))
        grads.append(to_host(state["opt_state"][0]))
    out = {"params": to_host(state["params"]), "metrics": metrics, "grads": grads, "adv": to_host(adv),
           "logp_ref": to_host(logp_ref), "prompt_group": np.asarray(group), "lr": np.asarray(cfg.optim.lr),
           "terms": np.asarray(host["mask"].size)}  # row-tokens summed into each gradient entry
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


def sampler_cache_shapes(layout: Layout, max_new_tokens: int = 10) -> list[str]:
    """Per-device shapes of the KV-cache buffers in the compiled sampler (`f32[B,kv,S,hd]`)."""
    import re

    import jax.numpy as jnp

    from mighty.models import sampler
    graphdef, params, rest, _ = init_sharded(_model(0), layout.mesh, layout.rules)
    g, p = nnx.split(nnx.merge(graphdef, params, rest))
    host, _ = grpo_inputs()
    b = layout.batch({k: host[k] for k in ("prompt_ids", "prompt_mask")}, global_rows=ROWS)
    ids, mask = sampler._prompts(b["prompt_ids"], b["prompt_mask"])
    text = sampler.lower_generate(
        g, p, CFG, ids, mask, jax.random.key(0), max_new_tokens=max_new_tokens, eos_id=CFG.eos_id,
        pad_id=CFG.pad_id, rules=layout.rules).compile().as_text()
    size = ids.shape[1] + max_new_tokens
    return sorted(set(re.findall(rf"f32\[\d+,\d+,{size},{CFG.head_dim}\]", text)))


def _placed(model, layout: Layout, want: dict | None = None) -> np.ndarray:
    """[every parameter has its layout sharding, max |value − want|, Σ|value|] of a model."""
    params = nnx.to_pure_dict(nnx.state(model, nnx.Param))
    leaves, shardings = jax.tree.leaves(params), jax.tree.leaves(layout.params(model))
    ok = all(x.sharding.is_equivalent_to(s, x.ndim) for x, s in zip(leaves, shardings, strict=True))
    err = 0.0 if want is None else max(float(np.abs(np.asarray(a) - np.asarray(b)).max())
                                       for a, b in zip(jax.tree.leaves(want), leaves, strict=True))
    total = sum(float(np.abs(np.asarray(x, np.float64)).sum()) for x in leaves)
    return np.asarray([float(ok), err, total])


def run_born(layout: Layout, tmp) -> dict:
    """Weights born sharded on `layout`: an orbax checkpoint dir and an HF safetensors dir
    through `load_pretrained`, a random teacher, scratch and pruned students."""
    from pathlib import Path

    from mighty.distill.config import StudentConfig, TeacherConfig
    from mighty.distill.student import init_student, load_teacher
    from mighty.models import export_hf, load_pretrained, save_checkpoint
    from mighty.models.mesh import placement

    tmp = Path(tmp)
    ref = Transformer(CFG, rngs=nnx.Rngs(3))  # eager, on one device: the values to match
    want = nnx.to_pure_dict(nnx.state(ref, nnx.Param))
    save_checkpoint(ref, tmp / "ck", overwrite=True)
    export_hf(ref, None, tmp / "hf")
    out = {kind: _placed(load_pretrained(src, **placement(layout))[0], layout, want)
           for kind, src in (("checkpoint", tmp / "ck"), ("hf", tmp / "hf"))}
    teacher, _ = load_teacher(TeacherConfig(source="random", model=CFG.to_dict(), seed=3), layout)
    out["teacher"] = _placed(teacher, layout, want)
    key = jax.random.key(0)
    out["pruned"] = _placed(init_student(StudentConfig(num_layers=1), teacher, key, layout), layout, want)
    scratch = init_student(StudentConfig(init="scratch", num_layers=1), teacher, key, layout)
    out["scratch"] = _placed(scratch, layout)
    return out


def toy_reward(prompts, completions, **_):
    """Host reward of toy-token texts (distinct words, multiples of 3): varies inside a group."""
    return np.asarray([(len(set(c.split())) + sum(int(w[1:]) % 3 == 0 for w in c.split())) / 8
                       for c in completions], np.float64)


def run_learner(layout: Layout, run_dir, steps: int = 2) -> dict:
    """Full GRPO iterations through `rl.learner.Learner`: seeded rollouts from born-sharded
    weights, rewards scored on the host by each process for its rows, advantages on the global
    rewards, μ = 2 updates against π_ref. N = 3 prompts × G=4 = 12 rows, so on 2 processes
    (6 rows each) group 1 straddles them."""
    from mighty.distill.student import ToyTokenizer
    from mighty.rl.config import TrainConfig
    from mighty.rl.learner import Learner

    cfg = GRPOConfig(num_generations=4, prompts_per_step=3, mu=2, beta=0.04, ref_chunk=6,
                     rollout=RolloutConfig(max_new_tokens=8, temperature=1.0),
                     optim=RLOptim(lr=1e-2, warmup_steps=0))
    train = TrainConfig(steps=steps, eval_every=0, table_every=0, ckpt_every=0, progress=False)
    tok = ToyTokenizer(CFG)
    records = [{"question": " ".join(f"w{3 + (7 * i + 5 * j) % 120}" for j in range(3 + i))} for i in range(6)]
    ref_graph, ref_params, _, _ = init_sharded(_model(1), layout.mesh, layout.rules)
    learner = Learner(cfg, train, policy=init_model(_model(0), layout.mesh, layout.rules), tokenizer=tok,
                      encode=lambda r: tok.encode(r["question"]), reward_fn=toy_reward,
                      train_prompts=records, heldout=[], run_dir=run_dir, reference=(ref_graph, ref_params),
                      mesh=layout.cfg)
    out = {"lineage": dict(learner.lineage), "steps": []}
    for s in range(steps):
        m, ro = learner.train_step(s)
        out["steps"].append({
            "tokens": to_host(ro.tokens), "mask": to_host(ro.mask), "logp_ref": to_host(ro.logp_ref),
            "logp_old": to_host(ro.logp_old), "rewards": ro.rewards, "lengths": ro.lengths,
            "texts": np.asarray(ro.texts),
            "metrics": {k: v for k, v in m.items() if not k.startswith("perf/")}})
    out["params"] = to_host(learner.params)
    learner.ckpt.close()
    learner.logger.close()
    return out
