"""On 8 fake CPU devices (fsdp, fsdp_tensor) a LoRA and a QLoRA KD step give the 1-device
gradients and parameters, with the frozen base and the adapters really sharded.

The worker runs in a subprocess because XLA_FLAGS must be set before jax is imported.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.tolerances import assert_sgd_runs_match

HERE = Path(__file__).parent
FAST_XLA = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("lora_sharded") / "results.npz"
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count=8 {FAST_XLA}"}
    proc = subprocess.run([sys.executable, str(HERE / "lora_sharded_worker.py"), str(out)], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return dict(np.load(out))


def _case(results, mesh, quant):
    prefix = f"{mesh}/{quant}"
    return {k[len(prefix):]: v for k, v in results.items() if k.startswith(prefix + "[")}


@pytest.mark.slow
@pytest.mark.parametrize("mesh", ["fsdp", "fsdp_tensor"])
@pytest.mark.parametrize("quant", ["none", "nf4"])
def test_lora_kd_step_sharded_equals_one_device(results, mesh, quant):
    want, got = _case(results, "single", quant), _case(results, mesh, quant)
    sharding = ("['frozen_shard_elems']", "['adapter_shard_elems']")
    # each device holds a fraction of the base; of the adapters too, though less of a cut: the
    # rank axis is replicated, and B's output axes (heads, mlp) map to `tensor` only
    frozen, adapter = (int(got[k]) / int(want[k]) for k in sharding)
    assert frozen <= 0.5 and adapter < 0.75, (frozen, adapter)
    assert sum(k.startswith("['params']") for k in want) == 2 * 7  # A, B of 7 projections
    assert_sgd_runs_match({k: v for k, v in got.items() if k not in sharding},
                          {k: v for k, v in want.items() if k not in sharding}, what=f"{mesh} {quant}")
