"""Content-addressed stages on toy stage bodies: reuse, optional parents, a missing parent."""
import json

import pytest
from omegaconf import OmegaConf

from mighty.experiments.stages import Stage, run_stages


def make_stages(calls: list):
    def body(name):
        def run(cfg, out, inputs):
            calls.append((name, sorted(inputs)))
            (out / "value.json").write_text(json.dumps({"inputs": sorted(inputs)}))
            return {"ran": name}
        return run

    return {
        "data": Stage("data", (), lambda c: {"n": c.n}, body("data")),
        "ref": Stage("ref", ("data",), lambda c: {"m": c.m}, body("ref")),
        "train": Stage("train", ("data",), lambda c: {"lr": c.lr}, body("train")),
        "eval": Stage("eval", ("data", "ref"), lambda c: {"m": c.m}, body("eval"), optional=("train",)),
    }


def test_a_shared_reference_runs_once_across_a_sweep(tmp_path):
    calls = []
    st = make_stages(calls)
    order = [st["data"], st["ref"], st["train"], st["eval"]]
    first = run_stages(order, OmegaConf.create({"n": 1, "m": 2, "lr": 0.1}), tmp_path, log=lambda _: None)
    second = run_stages(order, OmegaConf.create({"n": 1, "m": 2, "lr": 0.2}), tmp_path, log=lambda _: None)
    assert [c[0] for c in calls] == ["data", "ref", "train", "eval", "train", "eval"]
    assert second["ref"]["skipped"] and second["ref"]["dir"] == first["ref"]["dir"]
    assert second["eval"]["dir"] != first["eval"]["dir"]  # a new student: a new eval
    assert calls[3] == ("eval", ["data", "ref", "train"])
    # a reused stage spends nothing now, and still reports what it took when computed
    assert second["ref"]["seconds"] == 0.0
    assert second["ref"]["computed_seconds"] == first["ref"]["seconds"] == first["ref"]["computed_seconds"]


def test_optional_parent_absent_gives_its_own_key(tmp_path):
    calls = []
    st = make_stages(calls)
    cfg = OmegaConf.create({"n": 1, "m": 2, "lr": 0.1})
    with_train = run_stages([st["data"], st["ref"], st["train"], st["eval"]], cfg, tmp_path, log=lambda _: None)
    without = run_stages([st["data"], st["ref"], st["eval"]], cfg, tmp_path, log=lambda _: None)
    assert calls[-1] == ("eval", ["data", "ref"])
    assert without["eval"]["key"] != with_train["eval"]["key"]


def test_a_missing_required_parent_is_named(tmp_path):
    st = make_stages([])
    with pytest.raises(ValueError, match=r"stage 'eval' needs \['ref'\].*add them to `stages`"):
        run_stages([st["data"], st["eval"]], OmegaConf.create({"n": 1, "m": 2, "lr": 0.1}), tmp_path,
                   log=lambda _: None)
