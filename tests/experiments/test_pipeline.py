"""The smoke pipeline end to end, through the real Hydra entry point, in subprocesses:
report rows + CIs + plots, W&B offline files, stage skipping, `force`, determinism."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mighty.experiments.diff_runs import diff_runs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]


def run_pipeline(store: Path, run_dir: Path, *extra: str) -> str:
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "mighty.experiments.pipeline", "experiment=smoke", f"store={store}",
           f"hydra.run.dir={run_dir}", *extra]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-6000:]
    return out.stdout + out.stderr


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("pipeline")
    log = run_pipeline(base / "store", base / "run1")
    return base, log


def stage_dirs(run_dir: Path) -> dict:
    return {k: Path(v["dir"]) for k, v in json.loads((run_dir / "pipeline.json").read_text())["stages"].items()}


def test_report_has_every_row_ci_and_plots(first_run):
    base, _ = first_run
    report = (base / "run1" / "report" / "report.md").read_text()
    header = next(line for line in report.splitlines() if line.startswith("| metric |"))
    for system in ("teacher", "base_student", "kd_student", "grpo_student"):
        assert system in header
    for metric in ("accuracy", "completeness", "utility", "escalate_recall", "decline_recall",
                   "grammar", "general_qa", "perplexity", "win_vs_teacher", "win_vs_base"):
        row = next(line for line in report.splitlines() if line.startswith(f"| {metric} |"))
        assert "[" in row, f"{metric} has no CI: {row}"
    assert "## Efficiency" in report and "## Promotion gate" in report
    assert "## Teacher / student / routed" in report and "| served by the student |" in report
    assert "## Retrieval" in report and "![reliability diagram](retrieval_reliability.png)" in report
    for png in ("accuracy_grammar_length.png", "grpo_curves.png", "kd_curves.png", "accuracy_bars.png",
                "retrieval_reliability.png"):
        assert (base / "run1" / "report" / png).stat().st_size > 5000, png


def test_the_final_student_is_registered_for_the_demo(first_run):
    from mighty.demo.config import resolve_student
    from mighty.runtime.registry import Registry

    base, _ = first_run
    (entry,) = Registry(base / "store" / "registry").versions("generator")
    assert entry["artefact"] == str(stage_dirs(base / "run1")["grpo"] / "policy")
    assert entry["manifest"]["stage"] == "grpo" and entry["gates"]  # the eval's gate results ride along
    assert {g["name"] for g in entry["gates"]} >= {"accuracy gap to teacher", "escalation miss rate"}
    assert (Path(entry["artefact"]) / "mighty_config.json").exists()
    promoted = all(g["status"] == "pass" for g in entry["gates"])  # a smoke student fails its gates
    assert (Registry(base / "store" / "registry").current("generator") is not None) == promoted
    assert resolve_student("latest", base / "store")[0] == entry["artefact"]
    report = (base / "run1" / "report" / "report.md").read_text()
    assert "## Model registry" in report and entry["version"] in report


def test_report_plots_have_data_and_prompts_are_grounded(first_run):
    base, _ = first_run
    results = json.loads((stage_dirs(base / "run1")["eval"] / "results.json").read_text())
    assert results["grounding"]["mode"] == "retrieved" and 0 <= results["grounding"]["recall_at_1"] <= 1
    rel = results["grounding"]["reliability"]
    assert rel["n"] == sum(b["n"] for b in rel["bins_calibrated"]) > 0 and 0 <= rel["ece_calibrated"] <= 1
    import matplotlib.image as mpimg

    for png in (base / "run1" / "report").glob("*.png"):
        img = mpimg.imread(png)
        assert img.std() > 0.01, f"{png.name} looks empty"


def test_every_stage_writes_a_manifest_with_lineage(first_run):
    base, _ = first_run
    dirs = stage_dirs(base / "run1")
    for stage in ("data", "kd", "grpo", "eval"):
        m = json.loads((dirs[stage] / "manifest.json").read_text())
        assert m["stage"] == stage and m["config_hash"] and "git_commit" in m and "wall_time_s" in m
    kd = json.loads((dirs["kd"] / "manifest.json").read_text())
    assert kd["tokens_processed"] > 0 and kd["flops_estimate"] > 0 and kd["parent"]["sha256"]


def test_wandb_offline_run_files_hold_the_metrics(first_run):
    base, _ = first_run
    dirs = stage_dirs(base / "run1")
    for stage, key in (("kd", b"kd/loss"), ("grpo", b"grpo/loss"), ("eval", b"eval/grpo_student/accuracy")):
        files = list(dirs[stage].rglob("offline-run-*/run-*.wandb"))
        assert files, f"no offline W&B run under {dirs[stage]}"
        assert any(key in f.read_bytes() for f in files), f"{key!r} not logged to W&B in {stage}"


def test_rerun_skips_and_force_reruns(first_run):
    base, _ = first_run
    log = run_pipeline(base / "store", base / "run2")
    for stage in ("teacher", "data", "label", "kd", "grpo", "eval"):
        assert f"[{stage}] up to date" in log
    log = run_pipeline(base / "store", base / "run3", "force=[eval]")
    assert "[eval] running" in log and "[kd] up to date" in log and "[grpo] up to date" in log


def test_same_seed_gives_identical_metrics(first_run):
    """Same config and seed in a fresh store: every metric, answer and score is identical
    (the check `python -m mighty.experiments.diff_runs` runs before/after a refactor)."""
    base, _ = first_run
    run_pipeline(base / "store_b", base / "run_b")
    assert diff_runs(base / "run1", base / "run_b") == []


def test_sweep_then_compare_builds_the_ablation_table(first_run):
    """A real Hydra multirun (`-m`) over one eval knob on the fixture's store: the upstream
    stages are reused, and experiments.compare reads both runs without a W&B server."""
    from mighty.experiments import compare

    base, _ = first_run
    sweep = base / "sweep"
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "mighty.experiments.pipeline", "-m", "experiment=smoke",
           f"store={base / 'store'}", f"hydra.sweep.dir={sweep}", "eval.n_boot=200,1000"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-6000:]
    log = out.stdout + out.stderr
    assert "[kd] running" not in log and "[grpo] running" not in log  # reused from the store
    md = compare.main([str(sweep), "--metric", "accuracy", "--system", "grpo_student"])
    rows = [line for line in md.read_text().splitlines() if "eval.n_boot=" in line]
    # each run is named by what tells it apart (experiment=smoke is shared by both)
    assert [r.split(" |")[0] for r in rows] == ["| eval.n_boot=200", "| eval.n_boot=1000"], md.read_text()
    assert all("[" in r for r in rows)  # every cell carries its CI
    assert (sweep / "ablation_accuracy.png").stat().st_size > 1000


def test_router_and_reranker_stages_are_registered_reported_and_read_by_the_routed_row(first_run):
    """experiment=product's stages on the smoke store: the earlier stages are reused, the
    reranker and the intent router distil the tiny teacher, are registered with their gates,
    have their report sections, and the routed row reads both."""
    from mighty.runtime.registry import Registry

    base, _ = first_run
    run_pipeline(base / "store", base / "rr", "stages=[data,label,kd,grpo,reranker,router,eval]",
                 "rerank.teacher_questions=4", "rerank.steps=40", "rerank.eval_every=20",
                 "rerank.n_boot=200", "rerank.train_questions=400", "intent=tiny")
    dirs = stage_dirs(base / "rr")
    results = json.loads((dirs["reranker"] / "results.json").read_text())
    assert set(results["systems"]) >= {"bm25", "bm25+student", "bm25+teacher"}
    (entry,) = Registry(base / "store" / "registry").versions("reranker")
    assert entry["artefact"] == str(dirs["reranker"] / "model")
    assert {g["name"] for g in entry["gates"]} == {"vs_bm25.bm25+student.ndcg@10.ci_low",
                                                   "vs_bm25.bm25+student.recall@1.ci_low",
                                                   "latency.student_rerank.p95_ms"}
    eval_results = json.loads((dirs["eval"] / "results.json").read_text())
    assert eval_results["routed"]["retrieval"] == "bm25+reranker"
    report = (base / "rr" / "report" / "report.md").read_text()
    assert "## Reranker (distilled)" in report and "| bm25+student |" in report
    assert "BM25 + the distilled reranker (calibrated)" in report and "Route reasons: " in report
    assert "reranker " + entry["version"] in report  # the registry line
    (router,) = Registry(base / "store" / "registry").versions("router")
    assert router["artefact"] == str(dirs["router"] / "model") and len(router["gates"]) == 4
    assert eval_results["routed"]["intent_router"] is True
    assert "## Intent router (distilled)" in report and "| blend |" in report
    assert "router " + router["version"] in report and "read the distilled intent classifier" in report
