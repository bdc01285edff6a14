"""experiments.compare on hand-made sweep directories: labels, missing results, the table."""
import json
from pathlib import Path

import pytest
import yaml

from mighty.experiments import compare


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


def test_size_tradeoff_points_and_plot(tmp_path):
    est = lambda v: {"value": v, "ci_low": v - 0.1, "ci_high": v + 0.1, "n": 10}  # noqa: E731
    def res(params, acc, ppl, tps):
        s = {"summary": {"accuracy": est(acc), "perplexity": est(ppl)}, "scalars": {"params": params, "tokens_per_s": tps}}
        return {"systems": {"grpo_student": s, "teacher": {"summary": {"accuracy": est(0.5), "perplexity": est(200.0)},
                                                           "scalars": {"params": 135e6, "tokens_per_s": 150.0}}}}
    runs = {"student.num_layers=18": res(80e6, 0.3, 800.0, 300.0), "student.num_layers=6": res(50e6, 0.1, 9e6, 480.0)}
    points = compare.tradeoff_points(runs, "grpo_student")
    assert [p["label"] for p in points] == ["student.num_layers=6", "student.num_layers=18"]  # by size
    assert points[0]["params_m"] == 50.0 and points[1]["tokens_per_s"] == {"value": 300.0}
    teacher = compare.tradeoff_points({"t": runs["student.num_layers=6"]}, "teacher")[0]
    png = compare.plot_tradeoff(points, teacher, tmp_path / "t.png", "size")
    assert png.stat().st_size > 5000
