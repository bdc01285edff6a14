"""`auto` compute dtype: bfloat16 where this machine computes it fast, float32 elsewhere.

bf16 × bf16 → f32 dots (`models.layers.dense`) ran 2.5–3.5× float32 on an Intel Xeon with
AMX-BF16, but 0.66× float32 on an AMD EPYC with AVX2 only (a jitted 2048² matmul, quiet).
CI and users land on either family, so a config says `auto` and the probe below decides once
per process, from the backend and the CPU's flags; every manifest records the decision.
"""
from __future__ import annotations

import functools
import logging

log = logging.getLogger(__name__)

AUTO = "auto"
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of a fast bf16 dot


def choose_compute_dtype(platform: str, cpu_flags: frozenset[str]) -> tuple[str, str]:
    """(dtype, reason) for a backend platform and the CPU's flags. Pure: tests call it directly."""
    if platform != "cpu":
        return "bfloat16", f"accelerator backend {platform!r}"
    for flag in BF16_CPU_FLAGS:
        if flag in cpu_flags:
            return "bfloat16", f"cpu flag {flag}"
    return "float32", f"cpu without {' or '.join(BF16_CPU_FLAGS)}: bf16 dots are slower than f32 there"


def read_cpu_flags(path: str = "/proc/cpuinfo") -> frozenset[str]:
    """The first processor's flags (empty where /proc/cpuinfo does not exist, e.g. macOS)."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@functools.lru_cache(maxsize=1)
def probe() -> dict:
    """The process-wide decision for `auto`, logged once: {resolved, reason, platform}."""
    import jax

    platform = jax.default_backend()
    dtype, reason = choose_compute_dtype(platform, read_cpu_flags())
    log.info("compute dtype auto -> %s (%s)", dtype, reason)
    return {"requested": AUTO, "resolved": dtype, "reason": reason, "platform": platform}


def resolve_dtype(name: str) -> str:
    """`auto` -> the probed dtype; any other name passes through unchanged."""
    return probe()["resolved"] if name == AUTO else name
