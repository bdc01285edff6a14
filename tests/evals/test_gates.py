"""Promotion gates on a hand-made results.json: values, thresholds, pass / FAIL / n/a."""
import pytest

from mighty.evals.gates import GateConfig, evaluate_gates, render_gates, serving_cost


def est(v):
    return {"value": v, "ci_low": v - 0.05, "ci_high": v + 0.05, "n": 60}


def results(*, pairwise_valid: bool) -> dict:
    return {
        "systems": {
            "teacher": {"summary": {"accuracy": est(0.60)}, "scalars": {"cost_per_1k": 0.40, "latency_p95_s": 0.9}},
            "grpo_student": {"summary": {"accuracy": est(0.55), "hallucination": est(0.25),
                                         "escalate_recall": est(0.90)},
                             "scalars": {"cost_per_1k": 0.10, "latency_p95_s": 0.5}},
        },
        "compare": {"grpo_student": {"win_vs_teacher": est(0.48), "win_vs_base": est(0.70),
                                     "win_vs_base_accuracy": est(0.60)}},
        "judge_validity": {"judge": {"valid": pairwise_valid}, "pairwise": {"valid": pairwise_valid}},
    }


def test_serving_cost_hand_worked():
    # 10..40 tokens at 10 tokens/s: 1, 2, 3, 4 s; mean 2.5 s at $0.001/s = $2.5 per 1,000 answers
    out = serving_cost([10, 20, 30, 40], 10.0, 0.001)
    assert out["cost_per_1k"] == pytest.approx(2.5)
    assert out["latency_p50_s"] == pytest.approx(2.5) and out["latency_p95_s"] == pytest.approx(3.85)


def test_gates_with_a_valid_judge():
    gates = {g.name: g for g in evaluate_gates(results(pairwise_valid=True), GateConfig(), "grpo_student")}
    assert gates["teacher preference match"].status == "pass" and gates["teacher preference match"].value == 0.48
    win = gates["win rate vs base student"]
    assert win.value == 0.70 and win.source == "pairwise judge"
    assert gates["accuracy gap to teacher"].value == pytest.approx(0.05) and gates["accuracy gap to teacher"].passed
    assert gates["hallucination rate"].status == "FAIL"
    assert gates["escalation miss rate"].value == pytest.approx(0.10) and gates["escalation miss rate"].passed
    assert gates["cost reduction vs teacher-only"].value == pytest.approx(0.75)
    assert gates["p95 latency (s)"].passed
    promoted, md = render_gates(list(gates.values()), "grpo_student")
    assert not promoted and "NOT PROMOTED" in md
    assert "| hallucination rate | 0.250 | <= 0.10 | FAIL |" in md
    assert "| cost reduction vs teacher-only | 0.750 | >= 0.50 | pass | $0.1000 vs $0.4000 per 1,000 answers |" in md


def test_an_invalid_judge_makes_teacher_preference_na_and_win_rate_per_case():
    gates = {g.name: g for g in evaluate_gates(results(pairwise_valid=False), GateConfig(), "grpo_student")}
    assert gates["teacher preference match"].status == "n/a: judge invalid"
    assert gates["teacher preference match"].value is None
    assert gates["win rate vs base student"].value == 0.60 and gates["win rate vs base student"].status == "FAIL"
    assert "per-case accuracy" in gates["win rate vs base student"].source
    relaxed = GateConfig(min_win_vs_base=0.5, max_hallucination=0.3)
    promoted, md = render_gates(evaluate_gates(results(pairwise_valid=False), relaxed, "grpo_student"), "grpo_student")
    assert not promoted and "not measurable: teacher preference match" in md  # n/a blocks promotion
    promoted, md = render_gates(evaluate_gates(results(pairwise_valid=True), relaxed, "grpo_student"), "grpo_student")
    assert promoted and "**PROMOTED**" in md


def test_unknown_gate_key_is_named():
    with pytest.raises(ValueError, match="max_halucination"):
        GateConfig.from_dict({"max_halucination": 0.1})
