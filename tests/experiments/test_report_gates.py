"""The report from suite results on hand-made answers to real frozen cases (no model): the
case count, the paired-difference headline with resolved / not resolved, gap recovered only
when the teacher − base gap is resolved, the canary verdict, an INVALID judge's numbers set
apart, and the gates with pass / FAIL."""
import numpy as np
import pytest

from mighty import data
from mighty.evals import canaries, corruptions
from mighty.runtime.ci import Estimate
from mighty.evals.gates import serving_cost
from mighty.evals.suite import (SuiteConfig, SystemEval, compare_systems, headline_pairs, paired_differences,
                         score_items, select_cases, summarise)
from mighty.experiments.report import write_report

CFG = SuiteConfig(judge=False, n_boot=300)
GATE = {"min_teacher_preference": 0.45, "min_win_vs_base": 0.5, "max_accuracy_gap": 0.5,
        "max_hallucination": 0.5, "max_escalation_miss": 0.5, "min_cost_reduction": 0.5, "max_latency_p95_s": 2.0}


def answer(case, kb, how):
    """The KB's own steps (how="kb"), or them corrupted as the canaries corrupt them."""
    if case["expected"] == "decline":
        return "Sorry, I can only help with device problems."
    if case["expected"] == "clarify":
        return "Which device do you have, and what happens?"
    ref = corruptions.reference_answer(kb[case["issue_id"]])
    if kb[case["issue_id"]].get("safety"):
        ref = "Stop using it and unplug it, then contact support.\n" + ref
    rng = corruptions.case_rng(0, case["case_id"], how)
    return ref if how == "kb" else corruptions.corrupt(how, ref, kb[case["issue_id"]], kb, rng)


def system(name, cases, kb, how, tps):
    texts = [answer(c, kb, how) for c in cases]
    items = score_items(cases, texts, [len(t.split()) for t in texts], kb)
    scalars = {"params_m": 100.0 if name == "teacher" else 50.0, "size_mb": 200.0, "dtype": "float32",
               "tokens_per_s": tps, "forward_peak_mb": 500.0,
               **serving_cost([r["tokens"] for r in items], tps, 0.0005)}
    return SystemEval(name, items, summarise(items, CFG), scalars)


def results_for(hows, judge_validity):
    kb = data.kb_by_id()
    frozen = data.load_eval()
    cases = select_cases(frozen, 4)
    systems = {n: system(n, cases, kb, how, tps) for n, (how, tps) in hows.items()}
    comp = compare_systems(systems, teacher="teacher", base="base_student", cfg=CFG)
    comp["grpo_student"]["win_vs_teacher"] = Estimate(0.5, 0.48, 0.52, 12)  # as an INVALID judge gives
    comp["grpo_student"]["win_vs_base"] = Estimate(0.51, 0.49, 0.53, 12)
    return {"systems": {n: {"summary": {k: e.as_dict() for k, e in s.summary.items()}, "scalars": s.scalars}
                        for n, s in systems.items()},
            "compare": {n: {k: e.as_dict() for k, e in row.items()} for n, row in comp.items()},
            "differences": paired_differences(systems, headline_pairs(list(systems)), CFG),
            "n_cases": len(cases), "n_frozen": len(frozen),
            "buckets": {"in_scope": 4, "boundary": 4, "out_of_scope": 4},
            "judge_validity": judge_validity}


def verdict_of(scorer):
    kb = data.kb_by_id()
    cans = canaries.build_canaries(data.load_eval(), kb, n_cases=6)
    rep = canaries.run_canaries(scorer, cans, name="jax:teacher")
    rep.pairwise, rep.position_bias = canaries.pairwise_canaries(
        lambda q, k, a, b: np.full(len(a), 0.7), cans, n_cases=2)  # always prefers A: all position bias
    return {"report": rep.as_dict(), "judge": canaries.validity(rep, 0.8).as_dict(),
            "pairwise": canaries.validity(rep, 0.8, pairwise=True, max_position_bias=0.2).as_dict()}


@pytest.fixture(scope="module")
def invalid_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    res = results_for({"teacher": ("kb", 100.0), "base_student": ("scrambled", 400.0),
                       "kd_student": ("shuffled", 400.0), "grpo_student": ("kb", 400.0)},
                      verdict_of(lambda q, a, k: np.array([len(x) for x in a], float)))
    return write_report(res, out, gate=GATE).read_text()


def section(md, title):
    return md.split(title, 1)[1].split("\n## ", 1)[0]


def test_headline_is_paired_differences_with_verdicts(invalid_report):
    md = invalid_report
    assert "Cases scored: **12** of the frozen eval's 172 (boundary 4, in_scope 4, out_of_scope 4)." in md
    head = section(md, "## Headline: paired differences")
    assert md.index("## Headline") < md.index("## Stage comparison")
    row = next(line for line in head.splitlines() if line.startswith("| teacher − base | accuracy |"))
    assert row.split("|")[4].strip() == "resolved"  # the KB steps vs the same words scrambled
    grpo_t = next(line for line in head.splitlines() if line.startswith("| final − teacher | accuracy |"))
    assert "0.000 [0.000, 0.000] | not resolved" in grpo_t  # the same answers: no finding
    for label in ("KD − base", "GRPO − KD", "final − teacher"):
        assert f"| {label} |" in head
    assert "2.8 · SD(a − b) / √n" in head and "| min. detectable |" in head
    assert "- kd_student: " in md and "not resolved" not in md.split("gap recovered:")[1].split("##")[0]


def test_an_invalid_judge_is_marked_and_set_apart(invalid_report):
    md = invalid_report
    val = section(md, "## Judge validity (canaries)")
    assert "Judge: **INVALID (" in val and "padded" in val and "accuracy is the rubric alone" in val
    assert "position bias 1.0 > 0.20" in val and "| padded | 0.00 |" in val
    table = section(md, "## Stage comparison")
    main, apart = table.split("### Judge scores and win rates — INVALID judge")
    assert "| win_vs_teacher |" not in main and "| judge |" not in main
    assert "| win_vs_teacher |" in apart and "| win_vs_base |" in apart and "| judge |" in apart
    assert "| win_vs_base_accuracy |" in main and "| hallucination |" in main


def test_gates_render_with_pass_fail_and_na(invalid_report):
    gates = section(invalid_report, "## Promotion gates")
    assert "**NOT PROMOTED** (not measurable: teacher preference match)" in gates
    assert "| teacher preference match | n/a | >= 0.45 | n/a: judge invalid |" in gates
    assert "| cost reduction vs teacher-only | 0.750 | >= 0.50 | pass |" in gates  # 4x the tokens/s
    assert "| escalation miss rate | 0.000 | <= 0.50 | pass |" in gates
    assert "| win rate vs base student |" in gates and "per-case accuracy" in gates
    eff = section(invalid_report, "## Efficiency")
    assert "| $ per 1,000 answers | p50 / p95 latency (s) |" in eff


def test_gap_recovered_needs_a_resolved_teacher_base_gap(tmp_path):
    rubric = lambda q, a, k: canaries.rubric_scores(  # noqa: E731
        [canaries.Canary("x", qi, ki, "reference", ai) for qi, ai, ki in zip(q, a, k)])
    res = results_for({"teacher": ("kb", 100.0), "base_student": ("kb", 100.0),
                       "kd_student": ("shuffled", 100.0), "grpo_student": ("kb", 100.0)}, verdict_of(rubric))
    md = write_report(res, tmp_path, gate=GATE).read_text()
    gaps = md.split("gap recovered:")[1].split("##")[0]
    assert "- kd_student: **not resolved**" in gaps and "- grpo_student: **not resolved**" in gaps
    assert "Judge: **VALID**" in md
    main = section(md, "## Stage comparison")
    assert "| judge |" in main  # a VALID judge's column stays in the table (NaN here: no judge scored)
