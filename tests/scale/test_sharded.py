"""On 8 fake CPU devices, every conf/mesh config gives the 1-device results: KD step, GRPO
step (advantages across shards, chunked + offloaded π_ref pass, microbatches) and sampler.

The worker runs in a subprocess because XLA_FLAGS must be set before jax is imported.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tolerances import assert_sgd_runs_match
from tests.workers import case as saved, run_on_fake_devices

HERE = Path(__file__).parent
MESHES = ("data", "fsdp", "fsdp_tensor")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("sharded") / "results.npz"
    return run_on_fake_devices(HERE / "sharded_worker.py", out, timeout=1500)



@pytest.mark.slow
@pytest.mark.parametrize("mesh", MESHES)
def test_mesh_really_shards(results, mesh):
    assert int(results[f"{mesh}/mesh_size"]) == 8
    one, many = int(results["single/param_shard_elems"]), int(results[f"{mesh}/param_shard_elems"])
    if mesh == "data":
        assert many == one  # replicated parameters
    else:
        assert many * 4 <= one, (many, one)  # each device holds a fraction of the parameters


@pytest.mark.slow
@pytest.mark.parametrize("mesh", MESHES)
@pytest.mark.parametrize("case", ["kd", "grpo", "grpo_shared"])
def test_train_steps_match_one_device(results, mesh, case):
    want, got = saved(results, "single", case), saved(results, mesh, case)
    assert want.keys() == got.keys() and any("params" in k for k in want)
    if case == "grpo_shared":  # one prompt per group of 4 on one device; per half-group when
        # the 8 rows split over fsdp_tensor's 4 batch devices; per row over 8 batch devices
        assert int(want["['prompt_group']"]) == 4
        assert int(got["['prompt_group']"]) == {"single": 4, "fsdp_tensor": 2}.get(mesh, 1)
    assert sum(k.startswith("['grads']") for k in want) == 2 * sum(k.startswith("['params']") for k in want)
    # GRPO's group-centred advantages cancel most of each gradient entry's sum, so the leaf's
    # largest gradient understates Σ|terms| there: 16 ulps (≤ 3.3 seen across these meshes)
    assert_sgd_runs_match({k: v for k, v in got.items() if k != "['prompt_group']"},
                          {k: v for k, v in want.items() if k != "['prompt_group']"},
                          what=f"{mesh} {case}", ulps=16)
    if case.startswith("grpo"):  # the zero-variance group (rows 4..7) has exactly zero advantage
        np.testing.assert_array_equal(got["['adv']"][4:], 0.0)
        assert np.abs(got["['adv']"][:4]).min() > 0


@pytest.mark.slow
@pytest.mark.parametrize("mesh", MESHES)
def test_sampler_matches_one_device(results, mesh):
    want, got = saved(results, "single", "sampler"), saved(results, mesh, "sampler")
    for mode in ("greedy", "sampled"):
        np.testing.assert_array_equal(got[f"['{mode}']['tokens']"], want[f"['{mode}']['tokens']"],
                                      err_msg=f"{mesh} {mode} tokens")
        np.testing.assert_array_equal(got[f"['{mode}']['mask']"], want[f"['{mode}']['mask']"])
        np.testing.assert_allclose(got[f"['{mode}']['logprobs']"], want[f"['{mode}']['logprobs']"],
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("mesh", ("single",) + MESHES)
def test_sampler_kv_cache_is_split_like_the_rows(results, mesh):
    """The compiled sampler holds only each device's block of the KV cache: rows over the
    batch axes (data × fsdp), kv heads over `tensor` — never the whole cache per device."""
    data, fsdp, tensor = {"single": (1, 1, 1), "data": (8, 1, 1), "fsdp": (1, 8, 1),
                          "fsdp_tensor": (1, 4, 2)}[mesh]
    rows, kv_heads, slots, head_dim = 8, 2, 16 + 10, 8  # cases.ROWS, CFG, prompt 16 + 10 new
    want = f"f32[{rows // (data * fsdp)},{kv_heads // tensor},{slots},{head_dim}]"
    assert list(results[f"{mesh}/cache_shapes"]) == [want]


@pytest.mark.slow
@pytest.mark.parametrize("mesh", MESHES)
def test_loaded_and_initialised_weights_are_born_sharded(results, mesh):
    """load_pretrained (orbax checkpoint dir, HF safetensors dir), the random teacher and the
    pruned / scratch students come out with every parameter on its layout sharding; loaded and
    pruned values equal the eager single-device model's."""
    born = saved(results, mesh, "born")
    assert set(born) == {"['checkpoint']", "['hf']", "['teacher']", "['pruned']", "['scratch']"}
    for kind, (placed, err, _) in born.items():
        assert placed == 1.0, f"{kind} is not sharded like the layout"
        if kind in ("['checkpoint']", "['hf']"):
            assert err == 0.0, kind
    # pruning a 1-layer teacher to 1 layer copies every shard of it
    np.testing.assert_array_equal(born["['pruned']"], born["['teacher']"])
    # the jitted (born-sharded) init draws the same numbers on every mesh
    one = saved(results, "single", "born")
    for kind in ("['teacher']", "['scratch']"):
        np.testing.assert_array_equal(born[kind], one[kind], err_msg=kind)
