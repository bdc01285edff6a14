"""Decode throughput: our jitted sampler vs transformers `generate`, SmolLM2-135M fp32, CPU.

    python benchmarks/sampler.py [--batches 1 32] [--new-tokens 128] [--rounds 2]

Both run greedy for exactly --new-tokens tokens (EOS disabled), timed A B A B after a
warm-up (which also compiles ours). Tokens/s counts generated tokens over the whole batch,
prefill included.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

QUESTIONS = ["My Bluetooth headphones won't pair with my phone.", "My smart speaker keeps dropping Wi-Fi.",
             "My soundbar has no sound over HDMI ARC.", "The left earbud is much quieter than the right."]


def reference_model(model):
    """transformers LlamaForCausalLM holding exactly our (dequantised) weights."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from models.hf_weights import hf_tensors_from_model

    hf_cfg = model.cfg.to_hf_dict()
    config = AutoConfig.for_model(**{k: v for k, v in hf_cfg.items() if k != "architectures"})
    ref = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    state = {k: torch.from_numpy(v) for k, v in hf_tensors_from_model(model).items()}
    missing, unexpected = ref.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    ref.tie_weights()
    ref.generation_config.eos_token_id = None  # force the full length
    return ref


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    import jax
    import torch

    import models

    torch.set_num_threads(os.cpu_count() or 1)
    model, tok = models.load_pretrained(args.model)
    ref = reference_model(model)
    n = args.new_tokens
    print(f"{args.model}: {sum(x.size for x in jax.tree.leaves(model)) / 1e6:.1f}M params, fp32, "
          f"{n} new tokens, {os.cpu_count()} CPUs, jax {jax.__version__}, torch {torch.__version__}", flush=True)
    for b in args.batches:
        seqs = [tok.chat([{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]) for i in range(b)]
        ids, mask = tok.batch(seqs)

        def ours():
            out = models.generate(model, ids, mask, jax.random.key(0), max_new_tokens=n, temperature=0.0,
                                  eos_id=-1, pad_id=tok.pad_id)
            jax.block_until_ready(out.tokens)
            assert int(out.lengths.min()) == n

        def theirs():
            with torch.no_grad():
                out = ref.generate(torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(mask, dtype=torch.long),
                                   max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=tok.pad_id)
            assert out.shape[1] - ids.shape[1] == n

        t0 = time.perf_counter()
        ours()
        compile_s = time.perf_counter() - t0
        theirs()
        times = {"mighty": [], "transformers": []}
        for _ in range(args.rounds):  # A B A B
            for name, fn in (("mighty", ours), ("transformers", theirs)):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        rate = {k: b * n / min(v) for k, v in times.items()}
        print(f"batch {b:3d}: mighty {rate['mighty']:7.1f} tok/s | transformers {rate['transformers']:7.1f} tok/s"
              f" | ratio {rate['mighty'] / rate['transformers']:.2f}x  (first call incl. compile {compile_s:.1f}s;"
              f" runs mighty {['%.2f' % t for t in times['mighty']]} s, transformers "
              f"{['%.2f' % t for t in times['transformers']]} s)", flush=True)


if __name__ == "__main__":
    main()
