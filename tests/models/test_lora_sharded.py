"""On 8 fake CPU devices (fsdp, fsdp_tensor) a LoRA and a QLoRA KD step give the 1-device
gradients and parameters, with the frozen base and the adapters really sharded.

The worker runs in a subprocess because XLA_FLAGS must be set before jax is imported.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tolerances import assert_sgd_runs_match
from tests.workers import case as saved, run_on_fake_devices

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("lora_sharded") / "results.npz"
    return run_on_fake_devices(HERE / "lora_sharded_worker.py", out, timeout=1200)



@pytest.mark.slow
@pytest.mark.parametrize("mesh", ["fsdp", "fsdp_tensor"])
@pytest.mark.parametrize("quant", ["none", "nf4"])
def test_lora_kd_step_sharded_equals_one_device(results, mesh, quant):
    want, got = saved(results, "single", quant), saved(results, mesh, quant)
    sharding = ("['frozen_shard_elems']", "['adapter_shard_elems']")
    # each device holds a fraction of the base; of the adapters too, though less of a cut: the
    # rank axis is replicated, and B's output axes (heads, mlp) map to `tensor` only
    frozen, adapter = (int(got[k]) / int(want[k]) for k in sharding)
    assert frozen <= 0.5 and adapter < 0.75, (frozen, adapter)
    assert sum(k.startswith("['params']") for k in want) == 2 * 7  # A, B of 7 projections
    assert_sgd_runs_match({k: v for k, v in got.items() if k not in sharding},
                          {k: v for k, v in want.items() if k not in sharding}, what=f"{mesh} {quant}")
