"""experiments.compare on hand-made sweep directories: labels, missing results, the table."""
import json
from pathlib import Path

import pytest
import yaml

from experiments import compare


def fake_run(sweep: Path, store: Path, name: str, overrides: list[str], accuracy: float) -> None:
    run = sweep / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    eval_dir = store / "eval" / name
    eval_dir.mkdir(parents=True)
    est = {"value": accuracy, "ci_low": accuracy - 0.1, "ci_high": accuracy + 0.1, "n": 10}
    (eval_dir / "results.json").write_text(json.dumps(
        {"systems": {"kd_student": {"summary": {"accuracy": est}, "scalars": {}}}}))
    (run / "pipeline.json").write_text(json.dumps({"stages": {"eval": {"dir": str(eval_dir)}}}))


def test_runs_are_labelled_by_the_overrides_that_differ(tmp_path):
    sweep, store = tmp_path / "sweep", tmp_path / "store"
    shared = ["name=ablation_kd", "seed=0", "stages=[data,label,kd,eval]", f"store={store}"]
    fake_run(sweep, store, "0", [*shared[:2], "kd.divergence=forward_kl", *shared[2:]], 0.11)
    fake_run(sweep, store, "1", [*shared[:2], "kd.divergence=jsd", *shared[2:]], 0.14)
    runs = compare.collect(sweep)
    assert list(runs) == ["kd.divergence=forward_kl", "kd.divergence=jsd"]
    table = compare.ablation_table(runs, "kd_student", metrics=("accuracy",))
    assert "| kd.divergence=jsd | 0.140 [0.040, 0.240] |" in table


def test_a_single_run_keeps_its_overrides_and_a_missing_result_is_named(tmp_path):
    sweep, store = tmp_path / "sweep", tmp_path / "store"
    fake_run(sweep, store, "0", ["reward=tech_only"], 0.1)
    assert list(compare.collect(sweep)) == ["reward=tech_only"]
    (store / "eval" / "0" / "results.json").unlink()
    with pytest.raises(FileNotFoundError, match="has no results.json"):
        compare.collect(sweep)
