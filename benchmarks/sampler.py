"""Decode throughput: our jitted sampler vs transformers `generate`, same model and batch, CPU.

    python benchmarks/sampler.py [--batches 1 32] [--new-tokens 128] [--repeats 3] [--json F]

The foundation issue's setting by default: SmolLM2-135M in float32, batch 1 and batch 32, 128
new tokens. Both sides decode greedily for exactly --new-tokens tokens (EOS disabled) from the
same chat prompts on identical (dequantised) weights. Per batch size: build both sides, measure
the matmul peak, warm each side up (ours compiles), alternate A B A B for --repeats rounds,
measure the peak again. Prints the median time per batch, tokens/s (generated tokens over the
whole batch, prefill included), the median per-round ratio, and our MFU (model FLOPs of the
prefill and every decode step, `common.llama_generate_flops`) against the measured peak.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import common  # noqa: E402  (sets the CPU / offline env first)
from benchmarks.setups import flop_shape  # noqa: E402

QUESTIONS = ["My Bluetooth headphones won't pair with my phone.", "My smart speaker keeps dropping Wi-Fi.",
             "My soundbar has no sound over HDMI ARC.", "The left earbud is much quieter than the right."]


def reference_model(model):
    """transformers causal LM holding exactly our (dequantised) weights."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from mighty.models.hf_weights import hf_tensors_from_model

    hf_cfg = model.cfg.to_hf_dict()
    config = AutoConfig.for_model(**{k: v for k, v in hf_cfg.items() if k != "architectures"})
    ref = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    state = {k: torch.from_numpy(v) for k, v in hf_tensors_from_model(model).items()}
    missing, unexpected = ref.load_state_dict(state, strict=False)
    if unexpected or not set(missing) <= {"lm_head.weight"}:
        raise RuntimeError(f"reference_model: weights do not line up (missing {missing}, unexpected {unexpected})")
    ref.tie_weights()
    ref.generation_config.eos_token_id = None  # force the full length
    return ref


def model_shape(cfg) -> dict:
    """The FLOP counters' shape arguments for a `ModelConfig` (via its HF config dict)."""
    return flop_shape(cfg.to_hf_dict())


def chat_batch(tok, batch: int):
    """`batch` left-padded chat prompts (ids, mask) cycling through QUESTIONS."""
    seqs = [tok.chat([{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]) for i in range(batch)]
    return tok.batch(seqs)


class OurSampler:
    """`models.generate`, greedy, exactly `new_tokens` tokens per row."""

    def __init__(self, model, ids, mask, new_tokens: int, pad_id: int):
        self.model, self.ids, self.mask, self.n, self.pad_id = model, ids, mask, new_tokens, pad_id

    def __call__(self) -> dict:
        import jax

        from mighty import models

        out = models.generate(self.model, self.ids, self.mask, jax.random.key(0), max_new_tokens=self.n,
                              temperature=0.0, eos_id=-1, pad_id=self.pad_id)
        lengths = jax.device_get(out.lengths)  # blocks until the batch is done
        if int(lengths.min()) != self.n:
            raise RuntimeError(f"sampler benchmark: a row stopped early ({lengths.tolist()}), expected {self.n}")
        return {"tokens": int(lengths.sum())}


class TheirSampler:
    """transformers `generate`, greedy, `min_new_tokens = max_new_tokens`."""

    def __init__(self, ref, ids, mask, new_tokens: int, pad_id: int):
        import torch

        self.ref, self.n, self.pad_id = ref, new_tokens, pad_id
        self.ids = torch.tensor(ids, dtype=torch.long)
        self.mask = torch.tensor(mask, dtype=torch.long)

    def __call__(self) -> dict:
        import torch

        with torch.no_grad():
            out = self.ref.generate(self.ids, attention_mask=self.mask, max_new_tokens=self.n,
                                    min_new_tokens=self.n, do_sample=False, pad_token_id=self.pad_id)
        new = out.shape[1] - self.ids.shape[1]
        if new != self.n:
            raise RuntimeError(f"sampler benchmark: transformers generated {new} tokens, expected {self.n}")
        return {"tokens": new * out.shape[0]}


def report(shape: dict, batch: int, prompt: int, new_tokens: int, t: common.Timings, peak: float) -> list[dict]:
    """One row per side: median seconds per batch, tokens/s, ours/this ratio, MFU."""
    flops = common.llama_generate_flops(**shape, rows=batch, prompt=prompt, new=new_tokens)
    rows = []
    for side in t.times:
        med = t.median(side)
        row = {"side": side, "batch": batch, "batch_s": med, "tokens/s": t.extra_median(side, "tokens") / med,
               "MFU": flops / med / peak}
        if side != "ours" and "ours" in t.times:
            row["ours_speedup"] = t.ratio(side, "ours")  # median per-round time(this) / time(ours)
        rows.append(row)
    return rows


def run(model_name: str, batches: list[int], new_tokens: int, *, repeats: int, warmup: int,
        sides: list[str], json_path: str | None = None) -> list[dict]:
    import jax

    from mighty import models

    model, tok = models.load_pretrained(model_name)
    ref = reference_model(model) if "transformers" in sides else None
    if ref is not None:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
    shape = model_shape(model.cfg)
    print(f"{model_name}: {sum(x.size for x in jax.tree.leaves(model)) / 1e6:.1f}M params, float32, "
          f"{new_tokens} new tokens, {os.cpu_count()} CPUs, jax {jax.__version__}; load {common.load_average():.1f}",
          flush=True)
    rows, raw = [], {}
    for b in batches:
        ids, mask = chat_batch(tok, b)
        runners = {}
        if "ours" in sides:
            runners["ours"] = OurSampler(model, ids, mask, new_tokens, tok.pad_id)
        if ref is not None:
            runners["transformers"] = TheirSampler(ref, ids, mask, new_tokens, tok.pad_id)
        peak = common.matmul_peak()
        t = common.alternate(runners, repeats=repeats, warmup=warmup)
        peak = (peak + common.matmul_peak()) / 2
        batch_rows = report(shape, b, ids.shape[1], new_tokens, t, peak)
        print(f"\nbatch {b}, prompt {ids.shape[1]} tokens; matmul peak {peak / 1e9:.1f} GFLOP/s; load "
              f"{min(t.loads):.1f}-{max(t.loads):.1f}; median of {repeats}")
        print(common.table(batch_rows, ["side", "batch", "batch_s", "tokens/s", "ours_speedup", "MFU"]), flush=True)
        rows += batch_rows
        raw[str(b)] = {"prompt": ids.shape[1], "peak_flops": peak, "times": t.times, "loads": t.loads}
    common.save_json(json_path, {"model": model_name, "dtype": "float32", "new_tokens": new_tokens,
                                 "machine": common.machine(), "rows": rows, "batches": raw})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--sides", default="ours,transformers")
    ap.add_argument("--json", default=None, help="write the results here")
    a = ap.parse_args(argv)
    return run(a.model, a.batches, a.new_tokens, repeats=a.repeats, warmup=a.warmup,
               sides=a.sides.split(","), json_path=a.json)


if __name__ == "__main__":
    main()
