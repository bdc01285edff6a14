"""Intent router latency on this CPU: p50/p95 ms to route ONE question (featurise + forward),
after a warm-up (the first calls compile the jitted forward).

    python -m benchmarks.router_latency --model runs/intent_real/model [--n 500] [--json]

Questions are the frozen eval's, cycled to --n. Target (issue 24): p95 < 15 ms.
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def measure(model_dir: str, n: int = 500, warmup: int = 50) -> dict:
    from mighty.distill.intent.data import DataConfig, eval_rows
    from mighty.models.intent import load_intent_model

    router = load_intent_model(model_dir)
    texts = [r["text"] for r in eval_rows(DataConfig())]
    texts = [texts[i % len(texts)] for i in range(n)]
    for t in texts[:warmup]:
        router.predict_proba([t])
    ms = []
    for t in texts:
        t0 = time.perf_counter()
        router.predict_proba([t])
        ms.append((time.perf_counter() - t0) * 1e3)
    return {"model": model_dir, "n": n, "warmup": warmup, "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(np.max(ms)),
            "target_p95_ms": 15.0, "cpu": platform.processor() or platform.machine()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a saved router dir (distill.intent stage's <run>/model)")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    r = measure(a.model, a.n, a.warmup)
    print(json.dumps(r, indent=1) if a.json else
          f"router latency over {r['n']} questions: p50 {r['p50_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms "
          f"(target p95 < {r['target_p95_ms']:.0f} ms)")


if __name__ == "__main__":
    main()
