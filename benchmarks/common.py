"""Shared benchmark plumbing: matmul peak, A/B alternation with warm-up, medians, tables.

Every benchmark runs all sides in one process (or one worker process per foreign venv),
alternating A B A B after warm-up, and reports medians and ratios: on a shared 2-core
machine absolute times drift with the load, ratios of interleaved runs much less.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_MODE", "disabled")


def load_average() -> float:
    """1-minute load average (how shared the machine was while measuring)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def matmul_peak(n: int = 2048, repeats: int = 7, dtype: str = "float32") -> float:
    """Measured FLOP/s of a jitted `n x n` matmul in `dtype` (median of `repeats`): the roof
    for MFU on this machine, taken in the same run as the step it normalises."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32).astype(dtype)
    b = jax.random.normal(jax.random.key(1), (n, n), jnp.float32).astype(dtype)
    # float32 accumulation: the form every layer uses (`models.layers.dense`); a bf16 -> bf16
    # dot runs no faster than float32 on XLA:CPU, so it would understate the bf16 roof
    f = jax.jit(lambda x, y: jnp.matmul(x, y, preferred_element_type=jnp.float32))
    f(a, b).block_until_ready()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, b).block_until_ready()
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times)


def torch_matmul_peak(n: int = 2048, repeats: int = 7) -> float:
    """The same roof as seen by torch (informational: the peer's BLAS on the same cores)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times)


@dataclasses.dataclass
class Timings:
    """Seconds per call for each side, in the order they ran (after warm-up)."""

    times: dict[str, list[float]]
    extras: dict[str, list[dict]]  # per-call side info (token counts, phase times, ...)
    loads: list[float]

    def median(self, side: str) -> float:
        return statistics.median(self.times[side])

    def ratio(self, side: str, other: str) -> float:
        """Median over rounds of side/other: each round ran both back to back, so a load
        change between rounds cancels (more robust than a ratio of medians)."""
        return statistics.median(a / b for a, b in zip(self.times[side], self.times[other]))

    def extra_median(self, side: str, key: str) -> float:
        vals = [e[key] for e in self.extras[side] if key in e]
        return statistics.median(vals) if vals else float("nan")


def alternate(sides: Mapping[str, Callable[[], dict | None]], *, repeats: int, warmup: int = 1,
              log: Callable[[str], None] | None = print) -> Timings:
    """Run each side `warmup` times, then A B C A B C ... `repeats` rounds; each call returns
    an optional dict of extras (e.g. tokens generated) and must block until its work is done."""
    for name, fn in sides.items():
        for i in range(warmup):
            t = time.perf_counter()
            fn()
            if log:
                log(f"  warm-up {name} #{i}: {time.perf_counter() - t:.2f} s")
    times = {k: [] for k in sides}
    extras = {k: [] for k in sides}
    loads = []
    for r in range(repeats):
        loads.append(load_average())
        for name, fn in sides.items():
            t = time.perf_counter()
            extra = fn() or {}
            dt = extra.pop("seconds", None) or (time.perf_counter() - t)
            times[name].append(dt)
            extras[name].append(extra)
            if log:
                log(f"  round {r} {name}: {dt:.3f} s  {_fmt(extra)}")
    return Timings(times, extras, loads)


def _fmt(extra: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in extra.items())


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A GitHub-markdown table of `rows` (dicts) in `columns` order."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def save_json(path: str | None, payload: dict) -> None:
    if not path:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=2, default=float)


def print_and_save(title: str, rows: list[dict[str, Any]], columns: list[str], json_path: str | None, *,
                   setup_name: str, dtype: str, peak: float, lora: int, timings: "Timings") -> None:
    """The tail every step benchmark shares: its table, the process's peak RSS, and the JSON record."""
    print(f"\n{title}")
    print(table(rows, columns))
    print(f"process peak RSS {peak_rss_mb():.0f} MB (every side in this process)")
    save_json(json_path, {"config": setup_name, "dtype": dtype, "machine": machine(), "peak_flops": peak,
                          "lora_rank": lora, "sides": list(timings.times), "peak_rss_mb": peak_rss_mb(),
                          "rows": rows, "times": timings.times, "loads": timings.loads})


def _dense_flops_per_token(*, hidden: int, layers: int, heads: int, kv_heads: int, head_dim: int,
                           ffn: int) -> float:
    """Projection and SwiGLU FLOPs of one token through every layer (no attention scores)."""
    proj = 2 * hidden * (heads + 2 * kv_heads) * head_dim + 2 * heads * head_dim * hidden
    return layers * (proj + 2 * 3 * hidden * ffn)


def llama_forward_flops(*, hidden: int, layers: int, heads: int, kv_heads: int, head_dim: int,
                        ffn: int, vocab: int, rows: int, seq: int, scored: int) -> float:
    """Model FLOPs of one forward pass over `rows` sequences of `seq` tokens, unembedding only
    the last `scored` positions of each (the completion), causal attention counted as half of
    the full T x T score and value products. A backward pass costs 2x this."""
    dense = _dense_flops_per_token(hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads,
                                   head_dim=head_dim, ffn=ffn)
    attn = layers * 2 * 2 * heads * head_dim * seq / 2  # per token: QK^T and PV over ~seq/2 keys
    return rows * (seq * (dense + attn) + scored * 2 * hidden * vocab)


def llama_generate_flops(*, hidden: int, layers: int, heads: int, kv_heads: int, head_dim: int,
                         ffn: int, vocab: int, rows: int, prompt: int, new: int) -> float:
    """Model FLOPs of sampling `new` tokens after a `prompt`-token prefill, for `rows` sequences:
    the prefill (unembedding its last position, which gives the first token), then one
    single-token step per further token, each attending over every cached key."""
    shape = dict(hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, head_dim=head_dim, ffn=ffn)
    prefill = llama_forward_flops(**shape, vocab=vocab, rows=rows, seq=prompt, scored=1)
    steps = new - 1
    keys = steps * prompt + steps * (steps + 1) / 2  # step t attends over prompt + t keys
    decode = steps * (_dense_flops_per_token(**shape) + 2 * hidden * vocab) + layers * 2 * 2 * heads * head_dim * keys
    return prefill + rows * decode


class GatedTrainer:
    """Run a `transformers.Trainer` (TRL's trainers included) in a thread, one optimizer step
    per call: a callback parks the loop at every `on_step_begin`, so a call covers a full loop
    iteration (data, forward, backward, optimizer, logging) and nothing overlaps the other side.

        gate = GatedTrainer(lambda callbacks: GRPOTrainer(..., callbacks=callbacks))
        gate()  # one step
    """

    def __init__(self, build: Callable[[list], Any]):
        import threading

        from transformers import TrainerCallback

        self.go, self.ready = threading.Semaphore(0), threading.Semaphore(0)
        gate = self

        class Gate(TrainerCallback):
            def on_step_begin(self, args, state, control, **kw):
                gate.ready.release()  # the previous step (and its logging) is over
                gate.go.acquire()

            def on_train_end(self, args, state, control, **kw):
                gate.ready.release()

        self.trainer = build([Gate()])
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.acquire()  # parked before the first step

    def _run(self):
        try:
            self.trainer.train()
        except BaseException as e:  # re-raised in the caller's thread
            self.error = e
            self.ready.release()

    def __call__(self) -> None:
        self.go.release()
        self.ready.acquire()
        if self.error is not None:
            raise RuntimeError("the trainer thread failed") from self.error

    def close(self):
        while self.thread.is_alive():
            self.go.release()
            self.thread.join(timeout=0.5)


# -- LoRA on both sides (--lora R) ----------------------------------------------------------------

LORA_TARGETS_HF = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def our_lora(rank: int):
    """Ours: adapters of rank r on all seven projections, α = 2r, no dropout (None: full FT)."""
    if not rank:
        return None
    from mighty.models.lora import LoRAConfig

    return LoRAConfig(rank=rank, alpha=2.0 * rank)


def peft_lora(rank: int):
    """TRL + PEFT: the same adapters (`peft.LoraConfig`; None: full FT)."""
    if not rank:
        return None
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=list(LORA_TARGETS_HF),
                      task_type="CAUSAL_LM")


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB): run one side per invocation to attribute it."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
