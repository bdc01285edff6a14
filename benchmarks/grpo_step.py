"""One GRPO step (rollout + π_ref log-probs + reward + one update), ours vs TRL vs tunix.

    python benchmarks/grpo_step.py --config A                 # ours, TRL, tunix (if its venv exists)
    python benchmarks/grpo_step.py --config B --sides ours,trl

A step is the whole thing a researcher waits for: sample prompts × G completions, score
them, compute π_ref log-probs, one optimizer update (μ = 1). Identical on every side: the same
HF checkpoint and prompts (benchmarks/setups.py), β = 0.04, ε = 0.2 / 0.28, token-level loss
aggregation, AdamW (β₂ = 0.99) with clipping at 1.0, temperature 1, float32 (`--dtype bfloat16`:
bf16 matmuls on both sides, float32 master weights; ours: model compute dtype, TRL: `bf16=True`).

TRL runs its own `Trainer.train()` loop in a thread that a callback parks at every step
boundary; tunix runs in its own venv (`.venv-tunix`, see README) as a worker process that
takes one step per command. So the sides alternate A B C A B C with one idle while another
runs, and each side's time covers its full loop iteration (data, generation, losses, logging).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import common  # noqa: E402  (sets the CPU / offline env first)
from benchmarks.setups import Setup, config_a, config_b, even_token_reward  # noqa: E402

BETA, EPS_LOW, EPS_HIGH, LR, B2, CLIP = 0.04, 0.2, 0.28, 1e-6, 0.99, 1.0
TUNIX_PY = Path(__file__).resolve().parents[1] / ".venv-tunix" / "bin" / "python"


# -- ours ---------------------------------------------------------------------------------------

class OurSide:
    """`rl.learner.Learner.train_step`: the exact per-step path of `python -m mighty.rl.train`."""

    def __init__(self, setup: Setup, group: int, workdir: str, dtype: str = "float32", lora: int = 0):
        import jax
        import jax.numpy as jnp
        import numpy as np
        from flax import nnx

        from mighty.models.lora import apply_lora, lora_reference

        from mighty.models import load_pretrained
        from mighty.rl.config import GRPOConfig, GRPOOptimConfig, RolloutConfig, TrainConfig
        from mighty.rl.learner import Learner

        policy, tok = load_pretrained(setup.model_dir, compute_dtype=dtype)  # float32 master params
        if not setup.stop_at_eos:
            tok.eos_id, tok.pad_id = setup.eos_id, setup.pad_id  # EOS outside the vocab: full length
        cfg = GRPOConfig(num_generations=group, prompts_per_step=len(setup.prompts), mu=1, beta=BETA,
                         eps_low=EPS_LOW, eps_high=EPS_HIGH, loss_agg="token",
                         rollout=RolloutConfig(max_new_tokens=setup.max_new_tokens, temperature=1.0),
                         optim=GRPOOptimConfig(lr=LR, warmup_steps=0, b2=B2, clip_norm=CLIP))
        train = TrainConfig(steps=10_000, eval_every=0, ckpt_every=0, table_every=0, progress=False)
        if lora:  # adapters trained alone; π_ref = the base with adapters off (no second copy)
            policy = apply_lora(policy, common.our_lora(lora))
            ref = lora_reference(policy)
        else:
            graphdef, params = nnx.split(policy, nnx.Param)
            ref = (graphdef, jax.tree.map(jnp.copy, nnx.to_pure_dict(params)))
        ids = {text: row for text, row in zip(setup.prompts, setup.prompt_ids)}
        records = [{"prompt_id": str(i), "question": t} for i, t in enumerate(setup.prompts)]

        def reward(prompts, completions, **_):
            return np.asarray(even_token_reward(prompts, completions), np.float64)

        self.learner = Learner(cfg, train, policy=policy, tokenizer=tok,
                               encode=lambda r: ids[r["question"]], reward_fn=reward,
                               train_prompts=records, heldout=[], run_dir=workdir, reference=ref)
        self.step = 0

    def __call__(self) -> dict:
        m, ro = self.learner.train_step(self.step)
        self.step += 1
        return {"tokens": int(ro.lengths.sum()), "gen_s": m["perf/generate_s"],
                "update_s": m["perf/update_s"], "rollout_s": m["perf/rollout_s"],
                "score_s": m["perf/score_s"], "ref_wait_s": m["perf/logprob_wait_s"]}


# -- TRL ----------------------------------------------------------------------------------------

class TRLSide:
    """TRL 1.16 `GRPOTrainer.train()` in a thread, released one optimizer step at a time."""

    def __init__(self, setup: Setup, group: int, workdir: str, steps: int, dtype: str = "float32",
                 lora: int = 0):
        import torch
        from datasets import Dataset
        from transformers import AutoTokenizer
        from trl import GRPOConfig, GRPOTrainer

        torch.set_num_threads(os.cpu_count() or 1)
        tok = AutoTokenizer.from_pretrained(setup.model_dir)
        args = GRPOConfig(
            output_dir=os.path.join(workdir, "trl"), use_cpu=True, bf16=dtype == "bfloat16", fp16=False,
            per_device_train_batch_size=len(setup.prompts) * group, num_generations=group,
            gradient_accumulation_steps=1, steps_per_generation=1, num_iterations=1,
            max_completion_length=setup.max_new_tokens, temperature=1.0, top_p=1.0, top_k=0,
            beta=BETA, epsilon=EPS_LOW, epsilon_high=EPS_HIGH, loss_type="dapo",
            scale_rewards="group", learning_rate=LR, lr_scheduler_type="constant",
            warmup_steps=0, adam_beta2=B2, max_grad_norm=CLIP, weight_decay=0.0,
            max_steps=steps, logging_steps=10_000, save_strategy="no", report_to=[],
            disable_tqdm=True, dataloader_num_workers=0, seed=0, shuffle_dataset=False)
        data = Dataset.from_dict({"prompt": list(setup.prompts) * steps})

        def reward(prompts, completions, **_):
            return even_token_reward(prompts, completions)

        self.gate = common.GatedTrainer(lambda callbacks: GRPOTrainer(
            model=setup.model_dir, reward_funcs=reward, args=args, train_dataset=data,
            processing_class=tok, callbacks=callbacks, peft_config=common.peft_lora(lora)))
        self.rows = len(setup.prompts) * group

    def __call__(self) -> dict:
        self.gate()
        lengths = self.gate.trainer._metrics["train"].get("completions/mean_length") or [float("nan")]
        return {"tokens": lengths[-1] * self.rows}

    def close(self):
        self.gate.close()


# -- tunix (own venv, worker process) -----------------------------------------------------------

class TunixSide:
    """`benchmarks/tunix_worker.py` under `.venv-tunix/bin/python`, one step per command."""

    def __init__(self, setup: Setup, group: int, workdir: str, steps: int, python: str):
        import json
        import subprocess

        spec = dict(model_dir=setup.model_dir, prompt_ids=setup.prompt_ids, group=group,
                    max_new_tokens=setup.max_new_tokens, eos_id=setup.eos_id, pad_id=setup.pad_id,
                    beta=BETA, eps_low=EPS_LOW, eps_high=EPS_HIGH, lr=LR, b2=B2, clip=CLIP,
                    steps=steps, workdir=os.path.join(workdir, "tunix"))
        worker = Path(__file__).with_name("tunix_worker.py")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
        self.proc = subprocess.Popen([python, str(worker), json.dumps(spec)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
        self._read("ready")

    def _read(self, want: str) -> dict:
        import json

        for line in self.proc.stdout:
            if line.startswith("@@"):
                msg = json.loads(line[2:])
                if msg.pop("event") == want:
                    return msg
        raise RuntimeError(f"tunix worker exited (code {self.proc.wait()}) before '{want}'")

    def __call__(self) -> dict:
        self.proc.stdin.write("step\n")
        self.proc.stdin.flush()
        return self._read("done")

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


# -- main ---------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", choices=["A", "B"], default="A")
    p.add_argument("--sides", default="ours,trl,tunix")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--group", type=int, default=8, help="G completions per prompt")
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=None)
    p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                   help="matmul precision of ours and TRL (float32 master weights either way)")
    p.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "mighty_bench"))
    p.add_argument("--tunix-python", default=str(TUNIX_PY))
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--lora", type=int, default=0, help="LoRA rank on all projections, both sides (0: full FT)")
    a = p.parse_args(argv)
    sides = [s for s in a.sides.split(",") if s]
    if "tunix" in sides and not Path(a.tunix_python).exists():
        print(f"tunix venv not found at {a.tunix_python}; skipping tunix (see benchmarks/README.md)")
        sides.remove("tunix")
    if "tunix" in sides and a.dtype != "float32":
        print("the tunix worker runs float32 only; skipping tunix")
        sides.remove("tunix")
    os.makedirs(a.workdir, exist_ok=True)
    if a.config == "A":
        setup = config_a(a.workdir, prompts=a.prompts, max_new_tokens=a.max_new_tokens or 64)
    else:
        setup = config_b(a.workdir, prompts=a.prompts, max_new_tokens=a.max_new_tokens or 128)
    return run(setup, sides, group=a.group, repeats=a.repeats, warmup=a.warmup,
               workdir=a.workdir, tunix_python=a.tunix_python, json_path=a.json, dtype=a.dtype, lora=a.lora)


def run(setup: Setup, sides, *, group, repeats, warmup, workdir, tunix_python=str(TUNIX_PY),
        json_path=None, dtype="float32", lora=0):
    if lora and "tunix" in sides:
        raise SystemExit("--lora compares ours with TRL + PEFT; drop tunix from --sides")
    print(f"config {setup.name}, {dtype}{f', LoRA r={lora}' if lora else ''}: {len(setup.prompts)} prompts x G={group}, "
          f"max {setup.max_new_tokens} new tokens, shape {setup.shape}; load {common.load_average():.1f}")
    steps = warmup + repeats + 1
    runners = {}
    run_dir = tempfile.mkdtemp(dir=workdir)
    for side in sides:
        t = time.perf_counter()
        if side == "ours":
            runners[side] = OurSide(setup, group, os.path.join(run_dir, "ours"), dtype, lora)
        elif side == "trl":
            runners[side] = TRLSide(setup, group, run_dir, steps, dtype, lora)
        elif side == "tunix":
            runners[side] = TunixSide(setup, group, run_dir, steps, tunix_python)
        else:
            raise SystemExit(f"unknown side {side!r}; choose from ours,trl,tunix")
        print(f"  built {side} in {time.perf_counter() - t:.1f} s")
    peak = common.matmul_peak(dtype=dtype)
    try:
        timings = common.alternate(runners, repeats=repeats, warmup=warmup)
    finally:
        for r in runners.values():
            getattr(r, "close", lambda: None)()
    peak = (peak + common.matmul_peak(dtype=dtype)) / 2  # before and after, the load drifts
    return report(setup, group, timings, peak, json_path, dtype, lora)


def report(setup: Setup, group: int, timings: common.Timings, peak: float, json_path=None,
           dtype="float32", lora=0):
    s = setup.shape
    rows_n = len(setup.prompts) * group
    p_len = max(len(x) for x in setup.prompt_ids)
    rows = []
    base = timings.median("ours") if "ours" in timings.times else None
    for side in timings.times:
        med = timings.median(side)
        toks = timings.extra_median(side, "tokens")
        comp = toks / rows_n if toks == toks else setup.max_new_tokens
        fwd = common.llama_forward_flops(**s, rows=rows_n, seq=int(p_len + comp), scored=int(comp))
        if side == "ours":  # grpo.share_prompt: each group's prompt runs through the model once
            fwd -= common.llama_forward_flops(**s, rows=rows_n - len(setup.prompts), seq=p_len, scored=0)
        row = {"side": side, "step_s": med, "completion_tok/s": toks / med if toks == toks else "",
               "mean_completion": comp, "step_MFU": 5 * fwd / med / peak}  # gen + ref + 3 (fwd+bwd)
        if side != "ours" and base:
            row["ours/this"] = timings.ratio("ours", side)
        for k in ("gen_s", "update_s", "score_s", "ref_wait_s"):
            v = timings.extra_median(side, k)
            if v == v:
                row[k] = v
        if side == "ours":
            row["update_MFU"] = 3 * fwd / row["update_s"] / peak
        rows.append(row)
    cols = ["side", "step_s", "ours/this", "completion_tok/s", "mean_completion", "step_MFU",
            "gen_s", "update_s", "update_MFU", "score_s", "ref_wait_s"]
    n = len(next(iter(timings.times.values())))
    common.print_and_save(
        f"GRPO step, config {setup.name}, {dtype}; matmul peak {peak / 1e9:.1f} GFLOP/s; "
        f"load {min(timings.loads):.1f}-{max(timings.loads):.1f}; median of {n}",
        rows, cols, json_path, setup_name=setup.name, dtype=dtype, peak=peak, lora=lora, timings=timings)
    return rows


if __name__ == "__main__":
    main()
