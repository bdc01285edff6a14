"""experiments.diff_runs: byte-level comparison of two pipeline runs, measurements excluded."""
import json
from pathlib import Path

import pytest

from mighty.experiments.diff_runs import diff_runs, diff_values, main


def make_run(root: Path, *, answer="1. Unplug it.", loss=0.5, latency=1.0, tech=float("nan")) -> Path:
    kd, ev = root / "store" / "kd", root / "store" / "eval"
    for d in (kd, ev):
        d.mkdir(parents=True)
    (kd / "metrics.jsonl").write_text(json.dumps({"step": 1, "kd/loss": loss, "perf/step_time_s": latency}) + "\n")
    (ev / "items_kd_student.jsonl").write_text(json.dumps({"case_id": "ev-1", "answer": answer, "rubric": 1.0}) + "\n")
    (ev / "results.json").write_text(json.dumps({"scorer": f"jax:{kd}/model", "judge_seconds": latency, "systems": {"kd_student": {
        "scalars": {"latency_p95_s": latency, "cost_per_1k": latency / 3},
        "summary": {"accuracy": {"value": 1.0}, "judge": {"value": tech}}}}}))
    run = root / "run"
    run.mkdir()
    (run / "pipeline.json").write_text(json.dumps({"store": str(root / "store"),
                                                   "stages": {"kd": {"dir": str(kd)}, "eval": {"dir": str(ev)}}}))
    return run


def test_identical_runs_differ_only_in_measurements(tmp_path):
    a = make_run(tmp_path / "a", latency=1.0)
    b = make_run(tmp_path / "b", latency=7.5)  # timings and store paths differ; NaN (no judge) agrees
    assert diff_runs(a, b) == []
    assert main([str(a), str(b)]) == 0


def test_a_changed_answer_or_metric_is_named(tmp_path, capsys):
    a = make_run(tmp_path / "a")
    b = make_run(tmp_path / "b", answer="1. Unplug it now.", loss=0.5000001)
    assert diff_runs(a, b) == [
        "eval/items_kd_student.jsonl[0]/answer: '1. Unplug it.' vs '1. Unplug it now.'",
        "kd/metrics.jsonl[0]/kd/loss: 0.5 vs 0.5000001",
    ]
    assert main([str(a), str(b)]) == 1
    assert "2 differences" in capsys.readouterr().out


def test_structure_differences():
    assert diff_values({"x": [1, 2]}, {"x": [1]}) == ["/x: 2 vs 1 entries"]
    assert diff_values({"x": 1}, {"y": 1}) == ["/x: only in a", "/y: only in b"]
    assert diff_values({"perf/t": 1, "scalars": {"a": 1}}, {"perf/t": 2, "scalars": {"a": 2}}) == []
    assert diff_values(float("nan"), 0.0) == [": nan vs 0.0"]


def test_not_a_run_directory_says_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="pipeline run directory"):
        diff_runs(tmp_path, tmp_path)
    assert main([str(tmp_path), str(tmp_path)]) == 2
