"""Sampler–trainer mismatch of the default student, f32 vs bf16 compute, and the step-time cost
of each mismatch correction, in one invocation.

    python benchmarks/grpo_mismatch.py                       # 18-block pruned SmolLM2, 4×4 rows, 32 tokens
    python benchmarks/grpo_mismatch.py --layers 6 --new-tokens 16 --repeats 2
    python benchmarks/grpo_mismatch.py --random              # a random tiny model (no checkpoint)

Part 1: for each compute dtype, sample prompts × G completions with `models.generate` (the
sampler's KV-cache decode) and recompute the raw log-probs with the trainer's full-sequence
pass (`rl.step.completion_logprobs`, same dtype); print `rl.mismatch.mismatch_metrics`.
Part 2: the jitted GRPO update (`rl.step.make_grpo_step`, f32) with every `grpo.mismatch`
correction on the same batch; median step time and its ratio to correction=none.
The student is the teacher's 18 most influential blocks (ShortGPT influence measured on the
benchmark prompts; the shipped student measures it on knowledge-base text).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import common  # noqa: E402,F401  (sets the CPU / offline env first)

CORRECTIONS = [("none", "token"), ("tis", "token"), ("tis", "sequence"), ("mis", "token"),
               ("mis", "sequence"), ("mis", "geometric")]


def student(layers: int, random: bool):
    import jax.numpy as jnp
    from flax import nnx

    from mighty.models import ModelConfig, Transformer, load_pretrained
    if random:
        cfg = ModelConfig.tiny()
        return Transformer(cfg, rngs=nnx.Rngs(0)), None
    from mighty.data import format_prompt, load_prompts
    from mighty.distill.student import block_influence, choose_layers, prune_layers

    teacher, tok = load_pretrained("smollm2-135m-instruct")
    texts = [tok.chat_text(format_prompt(r["question"])) for r in load_prompts("all")[:8]]
    ids, mask = _pad([tok.encode(t) for t in texts], tok.pad_id)
    infl = block_influence(teacher, jnp.asarray(ids), jnp.asarray(mask))
    keep = choose_layers(teacher.cfg.num_layers, num_layers=layers, strategy="influence",
                         influence=[float(x) for x in infl])
    return prune_layers(teacher, keep), tok


def _pad(seqs, pad_id, width=None):
    import numpy as np
    width = width or max(len(s) for s in seqs)
    ids = np.full((len(seqs), width), pad_id, np.int32)
    mask = np.zeros((len(seqs), width), np.int32)
    for i, s in enumerate(seqs):
        s = s[-width:]
        ids[i, width - len(s):], mask[i, width - len(s):] = s, 1
    return ids, mask


def prompts(tok, model, n: int):
    import numpy as np
    if tok is None:
        rng = np.random.default_rng(0)
        return _pad([rng.integers(3, model.cfg.vocab_size, 12).tolist() for _ in range(n)], model.cfg.pad_id)
    from mighty.data import format_prompt, load_prompts
    texts = [tok.chat_text(format_prompt(r["question"])) for r in load_prompts("all")[:n]]
    return _pad([tok.encode(t) for t in texts], tok.pad_id, width=128)


def measure(model, ids, mask, group: int, new_tokens: int, dtype: str, eos: int, pad: int):
    """Sample with the policy in `dtype`, recompute in the same dtype: mismatch metrics."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from mighty.models import generate
    from mighty.models.transformer import with_compute_dtype
    from mighty.rl.mismatch import log_ratio, mismatch_metrics
    from mighty.rl.step import completion_logprobs

    policy = with_compute_dtype(model, dtype)
    out = generate(policy, jnp.asarray(ids), jnp.asarray(mask), jax.random.key(0),
                   max_new_tokens=new_tokens, temperature=1.0, eos_id=eos, pad_id=pad,
                   group_size=group)
    graphdef, params = nnx.split(policy, nnx.Param)
    lp = jax.jit(completion_logprobs, static_argnums=0)(graphdef, params, jnp.asarray(ids), jnp.asarray(mask),
                                                        out.tokens, out.mask)[0]
    delta = log_ratio(lp, out.logprobs, out.mask)
    return {k.split("/", 1)[1]: float(v) for k, v in mismatch_metrics(delta, out.mask, (0.01, 0.1)).items()}, out


def step_times(model, ids, mask, out, group: int, repeats: int):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from flax import nnx

    from mighty.rl.config import GRPOConfig, MismatchConfig, GRPOOptimConfig, RolloutConfig
    from mighty.rl.step import make_grpo_step
    from mighty.training import init_state, make_optimizer

    graphdef, params = nnx.split(model, nnx.Param)
    params = nnx.to_pure_dict(params)
    n = out.tokens.shape[0]
    rewards = np.random.default_rng(0).normal(size=n).astype(np.float32)
    from mighty.rl.advantages import group_advantages
    batch = {"prompt_ids": jnp.asarray(ids), "prompt_mask": jnp.asarray(mask), "tokens": out.tokens,
             "mask": out.mask, "adv": group_advantages(jnp.asarray(rewards), group),
             "logp_old": jnp.zeros(out.tokens.shape), "sampler_logp": out.logprobs,
             "first": jnp.asarray(True)}
    steps = {}
    for corr, level in CORRECTIONS:
        cfg = GRPOConfig(num_generations=group, prompts_per_step=n // group, beta=0.0,
                         rollout=RolloutConfig(max_new_tokens=out.tokens.shape[1]),
                         optim=GRPOOptimConfig(lr=1e-6, warmup_steps=0),
                         mismatch=MismatchConfig(correction=corr, level=level))
        tx, _ = make_optimizer(cfg.optim, 10)
        step = make_grpo_step(graphdef, tx, cfg, max_len=out.tokens.shape[1])
        state, m = step(init_state(jax.tree.map(jnp.copy, params), tx), batch, jax.random.key(0))
        jax.block_until_ready(m)  # compiled
        steps[f"{corr}/{level}"] = [step, state]
    # round-robin (A B C … A B C …), so load drift on a shared machine hits every side alike
    ts = {k: [] for k in steps}
    for r in range(repeats):
        for k, (step, state) in steps.items():
            t0 = time.perf_counter()
            state, m = step(state, batch, jax.random.key(r))
            jax.block_until_ready(m)
            ts[k].append(time.perf_counter() - t0)
            steps[k][1] = state
    times = {k: statistics.median(v) for k, v in ts.items()}
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=18)
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--random", action="store_true", help="a random tiny model instead of the student")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    model, tok = student(a.layers, a.random)
    ids, mask = prompts(tok, model, a.prompts)
    eos = tok.eos_id if tok is not None else model.cfg.eos_id
    pad = tok.pad_id if tok is not None else model.cfg.pad_id
    rows, out32 = [], None
    for dtype in ("float32", "bfloat16"):
        stats, out = measure(model, ids, mask, a.group, a.new_tokens, dtype, eos, pad)
        out32 = out32 or out
        rows.append({"dtype": dtype, **stats})
    cols = ["dtype", "token_logratio_mean", "token_logratio_abs_mean", "token_logratio_abs_max",
            "token_frac_abs_gt_0.01", "token_frac_abs_gt_0.1", "token_kl_k3", "seq_logratio_abs_max"]
    print(common.table(rows, cols))
    times = step_times(model, ids, mask, out32, a.group, a.repeats)
    base = times["none/token"]
    trows = [{"correction": k, "step_s": f"{v:.3f}", "ratio": f"{v / base:.3f}"} for k, v in times.items()]
    print(common.table(trows, ["correction", "step_s", "ratio"]))
    common.save_json(a.json, {"mismatch": rows, "step_s": times, "args": vars(a), "machine": common.machine()})


if __name__ == "__main__":
    main()
