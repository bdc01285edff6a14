import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.runtime import (Checkpointer, MetricsLogger, RngStreams, config_hash, read_manifest,
                            tree_sha256, write_manifest)


def test_config_hash_ignores_non_semantic_keys_only():
    base = {"seed": 1, "kd": {"temperature": 2.0}, "force": False}
    assert config_hash(base) == config_hash({**base, "force": True, "run_dir": "/x"})
    assert config_hash(base) != config_hash({**base, "kd": {"temperature": 1.0}})


def test_manifest_records_inputs_and_parent(tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"a": 1}\n')
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "w.bin").write_bytes(b"abc")
    write_manifest(tmp_path / "run", stage="kd", cfg={"seed": 3}, inputs={"train": inp},
                   parent=parent, seed=3, tokens=10)
    m = read_manifest(tmp_path / "run")
    assert m["stage"] == "kd" and m["tokens"] == 10 and m["seed"] == 3
    assert m["inputs"]["train"]["sha256"] == tree_sha256(inp)
    before = m["parent"]["sha256"]
    (parent / "w.bin").write_bytes(b"abd")
    assert tree_sha256(parent) != before


def test_metrics_resume_truncates_later_steps(tmp_path):
    log = MetricsLogger(tmp_path)
    for s in range(1, 6):
        log.log(s, {"kd/loss": jnp.float32(s), "perf/step_s": 0.1})
    log.close()
    log = MetricsLogger(tmp_path, resume_step=3)
    log.log(4, {"kd/loss": 40.0})
    rows = [json.loads(l) for l in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert rows[-1]["kd/loss"] == 40.0 and rows[0]["kd/loss"] == 1.0


def test_metrics_keep_nan_visible(tmp_path):
    log = MetricsLogger(tmp_path)
    log.log(1, {"x": float("nan")})
    assert json.loads((tmp_path / "metrics.jsonl").read_text())["x"] == "nan"


def test_checkpoint_round_trip_and_latest(tmp_path):
    state = {"w": jnp.arange(6.0).reshape(2, 3), "step": jnp.int32(7), "opt": [jnp.ones(2)]}
    ck = Checkpointer(tmp_path / "ckpt", max_to_keep=2)
    ck.save(1, state, {"cursor": 5})
    state2 = jax.tree.map(lambda x: x + 1, state)
    ck.save(2, state2, {"cursor": 9})
    restored, extra = ck.restore(None, state)
    assert extra == {"cursor": 9}
    jax.tree.map(np.testing.assert_array_equal, restored, state2)
    ck.close()


def test_checkpoint_missing_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        Checkpointer(tmp_path / "none").restore(None, {"w": jnp.zeros(1)})


def test_rng_streams_are_independent_and_stable():
    a = RngStreams(0, ("init", "data"))
    b = RngStreams(0, ("init", "data", "rollout"))
    assert np.array_equal(jax.random.key_data(a["data"]), jax.random.key_data(b["data"]))
    assert not np.array_equal(jax.random.key_data(a.at("data", 1)), jax.random.key_data(a.at("data", 2)))
    with pytest.raises(KeyError, match="declared streams"):
        a["nope"]
