"""`auto` compute dtype: bfloat16 where this machine computes it fast, float32 elsewhere.

bf16 × bf16 → f32 dots (`models.layers.dense`) ran 2.5–3.5× float32 on an Intel Xeon with
AMX-BF16, but 0.66× float32 on an AMD EPYC with AVX2 only (a jitted 2048² matmul, quiet).
CI and users land on either family, so a config says `auto` and the probe below decides once
per process, from the backend and the CPU's flags. Every stage's manifest records the
decision (`record`), and config hashes see the resolved dtype (`resolve_auto`), so a run
stored on a bf16 machine is not reused as if it were the f32 run of another.
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Mapping

log = logging.getLogger(__name__)

AUTO = "auto"
DTYPE_CHOICES = ("float32", "bfloat16", "float16", AUTO)
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of a fast bf16 dot
# config keys that name a model dtype (stage configs nest them: student.compute_dtype, …)
DTYPE_KEYS = frozenset({"dtype", "compute_dtype", "param_dtype", "teacher_dtype", "student_dtype"})


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
    """The process-wide decision for `auto`, logged once: {requested, resolved, reason, platform}."""
    import jax

    platform = jax.default_backend()
    dtype, reason = choose_compute_dtype(platform, read_cpu_flags())
    log.info("compute dtype auto -> %s (%s)", dtype, reason)
    return {"requested": AUTO, "resolved": dtype, "reason": reason, "platform": platform}


def resolve_dtype(name: str) -> str:
    """`auto` -> the probed dtype; any other name passes through unchanged."""
    return probe()["resolved"] if name == AUTO else name


def check_dtype(where: str, value: str | None, *, optional: bool = False) -> None:
    """A config's dtype field names one of DTYPE_CHOICES (None too where `optional`)."""
    if value is None and optional:
        return
    if value not in DTYPE_CHOICES:
        raise ValueError(f"{where}={value!r}; choose one of {list(DTYPE_CHOICES)}"
                         f"{' or null' if optional else ''} (auto: bfloat16 on a CPU with "
                         f"{' or '.join(BF16_CPU_FLAGS)} or on an accelerator, else float32)")


def dtype_fields(cfg: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """{dotted path: value} of every dtype field (DTYPE_KEYS naming a DTYPE_CHOICES value)
    in a nested config mapping."""
    out: dict[str, str] = {}
    for k, v in cfg.items():
        if isinstance(v, Mapping):
            out |= dtype_fields(v, f"{prefix}{k}.")
        elif k in DTYPE_KEYS and v in DTYPE_CHOICES:
            out[f"{prefix}{k}"] = v
    return out


def resolve_auto(cfg: Any) -> Any:
    """The config with every `auto` dtype field replaced by what it means on this machine
    (a copy; no probe unless a field says auto)."""
    if not isinstance(cfg, Mapping):
        return cfg
    return {k: resolve_dtype(v) if k in DTYPE_KEYS and v == AUTO else resolve_auto(v) for k, v in cfg.items()}


def record(cfg: Mapping[str, Any]) -> dict:
    """A manifest's `precision`: the dtype fields of the stage's config as they ran and, where
    any says `auto`, the probe's decision and its reason."""
    fields = dtype_fields(cfg)
    auto = sorted(k for k, v in fields.items() if v == AUTO)
    if not auto:
        return {"requested": "explicit", "fields": fields}
    return {**probe(), "auto": auto, "fields": {k: resolve_dtype(v) for k, v in fields.items()}}
