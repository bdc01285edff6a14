"""The routed row on hand-checkable counts: who serves each case, its cost and latency."""
import pytest

from mighty.demo.config import RouterConfig, ValidatorConfig
from mighty.experiments.routed import CostConfig, routed_rows, routing_scalars

CASES = [{"case_id": f"c{i}", "question": q, "issue_id": iid} for i, (q, iid) in enumerate([
    ("My speaker won't pair, how do I fix it?", "spk.pair"),        # confident, good answer -> student
    ("My speaker will not connect, how do I fix it?", "spk.pair"),  # student answer has no steps -> fallback
    ("My earbuds are smoking!", "bud.smoke"),                        # escalation keyword -> teacher
    ("Tell me about the weather", None),                             # low confidence -> teacher
])]
STEPS = "1. Turn it off.\n2. Hold the pair button.\n3. Pair it again."


def rows(answers, tokens, name):
    return [{"case_id": c["case_id"], "answer": a, "tokens": n, "rubric": 1.0 if name == "t" else 0.5}
            for c, a, n in zip(CASES, answers, tokens)]


def test_routing_cost_and_latency_by_hand():
    student = rows([STEPS, "Sure thing", "ok", "ok"], [20, 10, 10, 10], "s")
    teacher = rows([STEPS] * 4, [40, 40, 40, 40], "t")
    out = routed_rows(CASES, student, teacher, confidences=[0.9, 0.9, 0.9, 0.05], prompt_tokens=[100] * 4,
                      kb={}, router=RouterConfig(), validator=ValidatorConfig(), student_tps=10.0, teacher_tps=4.0)
    assert [r["served_by"] for r in out] == ["student", "fallback", "teacher", "teacher"]
    assert out[1]["route_reason"] == "validator:no_steps" and out[2]["route_reason"].startswith("escalation:")
    assert [r["rubric"] for r in out] == [0.5, 1.0, 1.0, 1.0]   # the served answer's own scores
    # seconds: 20/10 = 2; 10/10 + 40/4 = 11; 40/4 = 10; 10
    assert [r["compute_s"] for r in out] == [2.0, 11.0, 10.0, 10.0]
    s = routing_scalars(out, [10.0] * 4, CostConfig(price_per_compute_s=0.001))
    assert s["served_by_student"] == 0.25 and s["fallback_share"] == 0.25
    assert s["cost_per_1k"] == pytest.approx(1000 * 33 / 4 * 0.001)   # 8.25
    assert s["teacher_only_cost_per_1k"] == pytest.approx(10.0)
    assert s["latency_p50_s"] == 10.0 and s["latency_p95_s"] == pytest.approx(10.85)


def test_misaligned_items_are_refused():
    student = rows([STEPS] * 4, [1] * 4, "s")
    with pytest.raises(ValueError, match="case order"):
        routed_rows(CASES, student[::-1], student, confidences=[1] * 4, prompt_tokens=[1] * 4, kb={},
                    router=RouterConfig(), validator=ValidatorConfig(), student_tps=1, teacher_tps=1)
