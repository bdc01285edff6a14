"""`make demo`: the packaged teacher answers three troubleshooting questions, streamed to the terminal."""
from __future__ import annotations

import sys
import time

import jax
from omegaconf import OmegaConf

SYSTEM = ("You are a consumer-electronics support assistant. Answer the user's problem with short, "
          "numbered troubleshooting steps (1., 2., 3., ...), most likely fix first.")
QUESTIONS = [
    "My Bluetooth headphones won't pair with my phone. What should I do?",
    "My smart speaker keeps dropping its Wi-Fi connection. How do I fix it?",
    "My soundbar plays no sound over HDMI ARC from my TV. What can I check?",
]


def main(argv=None) -> list[str]:
    from mighty.experiments.generate import answer, build_model

    cfg = OmegaConf.create({"system": SYSTEM, "max_new_tokens": 200, "temperature": 0.0, "top_k": 0,
                            "top_p": 1.0, "stream": True})
    t0 = time.perf_counter()
    print("Loading the packaged teacher (SmolLM2-135M-Instruct)...", flush=True)
    model, tokenizer = build_model(OmegaConf.create({"source": "smollm2-135m-instruct", "dtype": "float32"}))
    print(f"loaded in {time.perf_counter() - t0:.1f}s\n", flush=True)
    answers = []
    for i, question in enumerate(QUESTIONS):
        print(f"=== Q{i + 1}: {question}\n", flush=True)
        text, info = answer(model, tokenizer, cfg, question, jax.random.key(i))
        answers.append(text)
        print(f"\n[{info['tokens']} tokens, {info['tokens'] / info['seconds']:.1f} tok/s"
              f"{' incl. compile' if i == 0 else ''}]\n", flush=True)
    return answers


if __name__ == "__main__":
    main(sys.argv[1:])
