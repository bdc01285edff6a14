"""Two local processes joined with jax.distributed (coordinator on 127.0.0.1, gloo CPU
collectives, 2 fake devices each, mesh fsdp_tensor: parameters split across the processes)
run KD and GRPO steps, and full GRPO learner iterations with rollouts, that match one process
on one device; orbax checkpoints written by the two processes restore on one, and the reverse;
params digests agree across process counts."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.tolerances import assert_adam_runs_close, assert_sgd_runs_match
from tests.workers import fake_devices_env

HERE = Path(__file__).parent
WORKER = str(HERE / "multiprocess_worker.py")
_env = fake_devices_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check(proc, what):
    assert proc.returncode == 0, f"{what} failed:\n{proc.stderr[-4000:]}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("multiprocess")
    _check(subprocess.run([sys.executable, WORKER, "single", str(out)], env=_env(1), capture_output=True,
                          text=True, timeout=1200), "single-process run")
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, WORKER, "multi", str(out), "fsdp_tensor"],
                              env=_env(2, MIGHTY_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
                                       MIGHTY_NUM_PROCESSES="2", MIGHTY_PROCESS_ID=str(i)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        for i, p in enumerate(procs):
            _, err = p.communicate(timeout=1500)
            assert p.returncode == 0, f"process {i} failed:\n{err[-4000:]}"
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    _check(subprocess.run([sys.executable, WORKER, "restore", str(out)], env=_env(1), capture_output=True,
                          text=True, timeout=600), "single-process restore")
    return {name: dict(np.load(out / f"{name}.npz")) for name in
            ("single", "multi", "multi_restored", "single_restored")}


@pytest.mark.slow
def test_two_processes_match_one(runs):
    one, two = runs["single"], runs["multi"]
    assert int(two["processes"]) == 2 and int(two["devices"]) == 4
    assert int(one["processes"]) == 1 and int(one["devices"]) == 1
    cases = ("kd", "grpo", "learner")
    keys = [k for k in one if k.startswith(cases)]
    assert any("params" in k for k in keys) and keys == [k for k in two if k.startswith(cases)]
    for k in keys:
        if one[k].dtype.kind in "biuU":  # tokens, masks, lengths, texts, digests: exactly equal
            np.testing.assert_array_equal(two[k], one[k], err_msg=k)
    for case in ("kd", "grpo"):  # SGD steps that keep their gradients (tests/scale/test_sharded.py)
        sub = lambda run: {k[len(case):]: run[k] for k in keys if k.startswith(case + "[")}  # noqa: E731
        assert_sgd_runs_match(sub(two), sub(one), what=f"2 processes {case}", ulps=16)
    for k in (k for k in keys if k.startswith("learner") and one[k].dtype.kind == "f"):
        if "['params']" in k:  # the learner's own AdamW: 2 steps × μ = 2 updates of lr = 1e-2
            assert_adam_runs_close(two[k], one[k], atol=1e-4, lr=1e-2, updates=4, what=k)
        else:
            np.testing.assert_allclose(two[k], one[k], rtol=2e-4, atol=2e-5, err_msg=k)


@pytest.mark.slow
def test_rollouts_are_sharded_across_processes(runs):
    """The learner's rollouts ran on parameters split across both processes, each process
    scoring its 6 of the 12 rows; group 1 (rows 4..7) straddles them, and its rewards vary, so
    its advantages need the group's mean and std across the processes."""
    one, two = runs["single"], runs["multi"]
    assert bool(two["params_span_processes"]) and not bool(one["params_span_processes"])
    for s in (0, 1):
        rewards = two[f"learner['steps'][{s}]['rewards']"]
        assert rewards.shape == (12,) and np.std(rewards[4:8]) > 0
        assert len(set(two[f"learner['steps'][{s}]['texts']"])) > 4  # sampled, not one greedy text
        assert float(two[f"learner['steps'][{s}]['metrics']['grpo/zero_std_frac']"]) < 1


@pytest.mark.slow
def test_params_digest_is_the_same_on_one_and_two_processes(runs):
    """rl.learner.params_digest all-gathers shards other processes hold, so the digest of one
    state is the same whether computed on 2 processes or, after a checkpoint round trip, on 1."""
    assert str(runs["multi"]["digest"]) == str(runs["single_restored"]["digest"])
    assert str(runs["single"]["digest"]) == str(runs["multi_restored"]["digest"])


@pytest.mark.slow
def test_checkpoint_from_two_processes_restores_on_one(runs):
    saved, restored = runs["multi"], runs["single_restored"]
    params = [k for k in restored if k.startswith("state['params']")]
    assert params and int(restored["step"]) == 2
    for k in params:  # bit-exact: the same bytes, re-laid out from 4 devices to 1
        np.testing.assert_array_equal(restored[k], saved["grpo" + k[len("state"):]], err_msg=k)


@pytest.mark.slow
def test_checkpoint_from_one_process_restores_on_two(runs):
    saved, restored = runs["single"], runs["multi_restored"]
    assert bool(restored["spans_processes"])  # restored straight into shards on both processes
    params = [k for k in restored if k.startswith("state['params']")]
    assert params
    for k in params:
        np.testing.assert_array_equal(restored[k], saved["grpo" + k[len("state"):]], err_msg=k)
    assert any(k.startswith("state['opt_state']") for k in restored)
