"""One KD update on cached top-K teacher log-probs: ours (`distill.step.make_kd_step`) vs TRL.

    python benchmarks/kd_step.py --config B            # the default student, vocab 49,152
    python benchmarks/kd_step.py --config A

The closest TRL equivalent of our offline KD step is `trl.SFTTrainer` with a KD loss:
TRL's `GKDTrainer` runs a live teacher forward pass every step (our λ > 0 on-policy mode),
whereas the default Mighty recipe reads the teacher's top-K log-probs from the label cache.
So the TRL side subclasses `SFTTrainer.compute_loss` with the same loss in torch:
α·CE(teacher token) + (1 − α)·KL(p ‖ q) over the K + 1 outcomes (top-K + tail), T = 1,
masked mean over completion tokens, logits only at completion positions (`logits_to_keep`).

Identical work on both sides: the same checkpoint, the same padded batches (left-padded
prompts of P tokens, right-padded completions of N tokens with a realistic length spread,
K = 20 teacher log-probs per token), batch 8 as 2 microbatches of 4 (gradient accumulation),
AdamW with clipping at 1.0, float32 master weights; `--dtype bfloat16` runs both sides'
matmuls in bfloat16 (ours: compute dtype; TRL: `bf16=True`, CPU autocast).

Ours scores only the real completion tokens (`token_index` from `distill.batching.token_rows`,
as the trainer's batcher builds it); TRL unembeds all N completion positions per row. MFU
counts the useful model FLOPs (unembedding at real completion tokens) for both sides.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import common  # noqa: E402
from benchmarks.setups import Setup, config_a, config_b  # noqa: E402
from mighty.distill.batching import TOKEN_ROW_KEYS, Example, collate  # noqa: E402

ALPHA, LR, CLIP, K = 0.3, 3e-4, 1.0, 20


def make_batches(setup: Setup, *, steps: int, micro: int, per_micro: int, completion: int,
                 seed: int = 0) -> list[dict]:
    """`steps` batches of numpy arrays shaped (M, b, ...) (see distill/step.py), built by the
    trainer's own batcher (`distill.batching.collate`: padding, microbatches balanced by
    length, compact token rows)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    vocab = setup.shape["vocab"]
    p_len = max(len(p) for p in setup.prompt_ids)
    out = []
    for _ in range(steps):
        rows = []
        for i in range(micro * per_micro):
            n = int(rng.integers(completion // 4, completion + 1))
            c_ids = rng.integers(3, vocab, size=n).astype(np.int32)
            topk_ids = rng.integers(3, vocab, size=(n, K)).astype(np.int32)
            topk_ids[:, 0] = c_ids
            raw = -np.sort(rng.exponential(1.0, size=(n, K + 1)), axis=-1)[:, ::-1]
            logp = raw - np.log(np.exp(raw).sum(-1, keepdims=True))  # K + 1 outcomes sum to 1
            rows.append(Example(uid=f"bench-{i}", device_type="bench",
                                prompt_ids=np.asarray(setup.prompt_ids[i % len(setup.prompt_ids)], np.int32),
                                completion_ids=c_ids, topk_ids=topk_ids,
                                topk_logprobs=logp[:, :K].astype(np.float32)))
        out.append(collate(rows, p_len, completion, setup.pad_id, micro=per_micro))
    return out


class OurSide:
    def __init__(self, setup: Setup, batches: list[dict], dtype: str = "float32", lora: int = 0):
        import jax
        from flax import nnx

        from mighty.distill.config import OptimConfig
        from mighty.distill.step import LossSpec, make_kd_step
        from mighty.training import init_state, make_optimizer
        from mighty.models import load_pretrained

        model, _ = load_pretrained(setup.model_dir, compute_dtype=dtype)  # float32 master params
        if lora:  # params: the adapters; rest: the frozen base, a step argument
            from mighty.models.lora import apply_lora

            model = apply_lora(model, common.our_lora(lora))
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
        rest = nnx.to_pure_dict(rest) if lora else rest
        tx, schedule = make_optimizer(OptimConfig(lr=LR, warmup_steps=0, clip_norm=CLIP,
                                                  weight_decay=0.0, b2=0.95), 1000)
        self.step_fn = make_kd_step(graphdef, rest, tx, schedule,
                                    LossSpec(temperature=1.0, alpha=ALPHA, divergence="forward_kl"))
        self.state = init_state(nnx.to_pure_dict(params), tx)
        self.batches, self.i, self.key = batches, 0, jax.random.key(0)
        # one program per row bucket R (distill.batching.token_rows): a long run compiles each
        # once, so compile them all here and no timed step includes a compile
        for b in {tuple(v.shape for v in b.values()): b for b in batches}.values():
            self.state, m = self.step_fn(self.state, b, self.key)
        jax.block_until_ready(m)

    def __call__(self) -> dict:
        import jax

        batch = self.batches[self.i % len(self.batches)]
        self.i += 1
        self.state, m = self.step_fn(self.state, batch, self.key)
        m = jax.device_get(m)
        return {"tokens": int(m["kd/tokens"])}


def kd_loss_torch(logits, ids, logp_k, labels, mask, alpha):
    """The same K + 1-outcome loss as distill.losses.kd_loss (forward KL, T = 1)."""
    import torch

    logq_v = torch.log_softmax(logits.float(), dim=-1)  # (b, N, V)
    ce = -logq_v.gather(-1, labels[..., None])[..., 0]

    def with_tail(lp):
        tail = torch.log(torch.clamp(1.0 - lp.exp().sum(-1), min=1e-12))
        return torch.cat([lp, tail[..., None]], dim=-1)

    logq = with_tail(logq_v.gather(-1, ids))
    logp = with_tail(torch.clamp(logp_k, min=-1e3))
    kl = (logp.exp() * (logp - logq)).sum(-1)
    m = mask.float()
    return ((alpha * ce + (1 - alpha) * kl) * m).sum() / m.sum().clamp(min=1)


class TRLSide:
    """`trl.SFTTrainer` with `compute_loss` replaced by the KD loss above."""

    def __init__(self, setup: Setup, batches: list[dict], workdir: str, dtype: str = "float32",
                 lora: int = 0):
        import numpy as np
        import torch
        from datasets import Dataset
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from trl import SFTConfig, SFTTrainer

        torch.set_num_threads(os.cpu_count() or 1)
        micro, per = batches[0]["prompt_ids"].shape[:2]
        rows = {k: [] for k in batches[0] if k not in TOKEN_ROW_KEYS}
        for b in batches:  # the same rows, in the same order, micro-batch by micro-batch
            for k in rows:
                v = b[k]
                rows[k].extend(v.reshape(-1, *v.shape[2:]).tolist())
        data = Dataset.from_dict(rows)
        P, N = batches[0]["prompt_ids"].shape[-1], batches[0]["completion_ids"].shape[-1]

        def to_torch(examples):
            t = {k: torch.tensor(np.asarray([e[k] for e in examples])) for k in examples[0]}
            return {"input_ids": torch.cat([t["prompt_ids"], t["completion_ids"]], 1).long(),
                    "attention_mask": torch.cat([t["prompt_mask"], t["completion_mask"]], 1).long(),
                    "labels": t["completion_ids"].long(), "completion_mask": t["completion_mask"],
                    "topk_ids": t["topk_ids"].long(), "topk_logprobs": t["topk_logprobs"].float()}

        class KDSFTTrainer(SFTTrainer):
            def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
                out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                            logits_to_keep=N + 1)
                logits = out.logits[:, :-1]  # position P-1+t predicts completion token t
                loss = kd_loss_torch(logits, inputs["topk_ids"], inputs["topk_logprobs"],
                                     inputs["labels"], inputs["completion_mask"], ALPHA)
                return (loss, out) if return_outputs else loss

        args = SFTConfig(
            output_dir=os.path.join(workdir, "trl_kd"), use_cpu=True, bf16=dtype == "bfloat16", fp16=False,
            per_device_train_batch_size=per, gradient_accumulation_steps=micro,
            learning_rate=LR, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
            adam_beta2=0.95, max_grad_norm=CLIP, max_steps=len(batches), logging_steps=10_000,
            save_strategy="no", report_to=[], disable_tqdm=True, dataloader_num_workers=0,
            remove_unused_columns=False, dataset_kwargs={"skip_prepare_dataset": True}, seed=0)
        model = AutoModelForCausalLM.from_pretrained(setup.model_dir, dtype=torch.float32)
        tok = AutoTokenizer.from_pretrained(setup.model_dir)
        self.gate = common.GatedTrainer(lambda callbacks: KDSFTTrainer(
            model=model, args=args, train_dataset=data, processing_class=tok,
            data_collator=to_torch, callbacks=callbacks, peft_config=common.peft_lora(lora)))
        self.tokens = [int(b["completion_mask"].sum()) for b in batches]
        self.i = 0
        del P

    def __call__(self) -> dict:
        self.gate()
        self.i += 1
        return {"tokens": self.tokens[(self.i - 1) % len(self.tokens)]}

    def close(self):
        self.gate.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", choices=["A", "B"], default="B")
    p.add_argument("--sides", default="ours,trl")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--micro", type=int, default=2, help="microbatches (gradient accumulation)")
    p.add_argument("--per-micro", type=int, default=4, help="sequences per microbatch")
    p.add_argument("--completion", type=int, default=128, help="N completion columns")
    p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                   help="matmul precision of both sides (float32 master weights either way)")
    p.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "mighty_bench"))
    p.add_argument("--json", default=None)
    p.add_argument("--lora", type=int, default=0, help="LoRA rank on all projections, both sides (0: full FT)")
    a = p.parse_args(argv)
    os.makedirs(a.workdir, exist_ok=True)
    setup = config_a(a.workdir) if a.config == "A" else config_b(a.workdir)
    return run(setup, a.sides.split(","), repeats=a.repeats, warmup=a.warmup, micro=a.micro,
               per_micro=a.per_micro, completion=a.completion, workdir=a.workdir, json_path=a.json,
               dtype=a.dtype, lora=a.lora)


def run(setup: Setup, sides, *, repeats, warmup, micro, per_micro, completion, workdir, json_path=None,
        dtype="float32", lora=0):
    steps = repeats + warmup
    batches = make_batches(setup, steps=steps, micro=micro, per_micro=per_micro, completion=completion)
    p_len = batches[0]["prompt_ids"].shape[-1]
    print(f"KD config {setup.name}: {micro}x{per_micro} sequences of {p_len} prompt + {completion} "
          f"completion tokens, K={K}, {dtype}{f', LoRA r={lora}' if lora else ''}, shape {setup.shape}; "
          f"load {common.load_average():.1f}")
    runners = {}
    for side in sides:
        if side == "ours":
            runners[side] = OurSide(setup, batches, dtype, lora)
        elif side == "trl":
            runners[side] = TRLSide(setup, batches, tempfile.mkdtemp(dir=workdir), dtype, lora)
        else:
            raise SystemExit(f"unknown side {side!r}; choose from ours,trl")
    peak = common.matmul_peak(dtype=dtype)
    try:
        t = common.alternate(runners, repeats=repeats, warmup=warmup)
    finally:
        for r in runners.values():
            getattr(r, "close", lambda: None)()
    peak = (peak + common.matmul_peak(dtype=dtype)) / 2
    s = setup.shape
    rows_n = micro * per_micro
    real = sum(int(b["completion_mask"].sum()) for b in batches) / len(batches) / rows_n
    fwd = common.llama_forward_flops(hidden=s["hidden"], layers=s["layers"], heads=s["heads"],
                                     kv_heads=s["kv_heads"], head_dim=s["head_dim"], ffn=s["ffn"],
                                     vocab=s["vocab"], rows=rows_n, seq=p_len + completion,
                                     scored=real)  # useful work: real completion tokens
    rows = []
    base = t.median("ours") if "ours" in t.times else None
    for side in t.times:
        med = t.median(side)
        row = {"side": side, "step_s": med, "tokens/s": t.extra_median(side, "tokens") / med,
               "MFU": 3 * fwd / med / peak}
        if side != "ours" and base:
            row["ours_speedup"] = t.ratio(side, "ours")
        rows.append(row)
    common.print_and_save(
        f"KD step, config {setup.name}, {dtype}; matmul peak {peak / 1e9:.1f} GFLOP/s; load "
        f"{min(t.loads):.1f}-{max(t.loads):.1f}; median of {repeats}",
        rows, ["side", "step_s", "ours_speedup", "tokens/s", "MFU"], json_path,
        setup_name=setup.name, dtype=dtype, peak=peak, lora=lora, timings=t)
    return rows


if __name__ == "__main__":
    main()
