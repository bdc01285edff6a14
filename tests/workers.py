"""Run a worker script on 8 fake CPU devices and read back its results (the sharded tests)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

# LLVM opt level 0 compiles ~2x faster; both sides of every comparison use the same flags
FAST_XLA = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"


def fake_devices_env(devices: int, **extra: str) -> dict[str, str]:
    """The environment of a subprocess that sees `devices` CPU devices (XLA_FLAGS must be set
    before jax is imported)."""
    return {**os.environ, "JAX_PLATFORMS": "cpu", **extra,
            "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices} {FAST_XLA}"}


def run_on_fake_devices(script: Path, out: Path, *, timeout: int, devices: int = 8) -> dict[str, np.ndarray]:
    """`python script out` with `devices` host devices; -> the .npz it wrote, as a dict."""
    env = fake_devices_env(devices)
    proc = subprocess.run([sys.executable, str(script), str(out)], env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return dict(np.load(out))


def case(results: dict, *parts: str) -> dict:
    """The arrays saved under the prefix "/".join(parts), e.g. `case(r, "fsdp", "grpo")` (keys are
    prefix + a pytree path "['params']…", so "grpo" does not catch "grpo_shared")."""
    prefix = "/".join(parts)
    return {k[len(prefix):]: v for k, v in results.items() if k.startswith(prefix + "[")}
