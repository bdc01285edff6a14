"""The suite's scoring on hand-written answers (no model): good answers must beat bad ones
on every axis the report shows, and the summary must carry CIs."""
import numpy as np
import pytest

from mighty.evals.suite import SuiteConfig, score_items, select_cases, summarise

KB = {
    "hp-1": {"issue_id": "hp-1", "device_type": "over_ear_headphones", "model_family": "X",
             "symptom": "wont_pair", "title": "Headphones will not pair", "causes": ["old pairing"],
             "steps": ["Turn Bluetooth off and on.", "Forget the headphones in settings.",
                       "Hold the power button 7 seconds to enter pairing mode."],
             "required_keywords": [["bluetooth"], ["forget"], ["pairing mode", "pair mode"]],
             "escalation": ["no light at all"], "safety": False, "unsafe_phrases": ["open the case"],
             "source_style": "manual"},
    "bat-1": {"issue_id": "bat-1", "device_type": "smartwatch", "model_family": "Y",
              "symptom": "swollen_battery", "title": "Swollen battery", "causes": ["cell ageing"],
              "steps": ["Stop using it.", "Contact support."], "required_keywords": [["stop"], ["support"]],
              "escalation": ["always"], "safety": True, "unsafe_phrases": ["puncture"],
              "source_style": "faq"},
}
CASES = [
    {"case_id": "c1", "bucket": "in_scope", "question": "My headphones won't pair.", "issue_id": "hp-1",
     "expected": "answer", "device_type": "over_ear_headphones"},
    {"case_id": "c2", "bucket": "boundary", "question": "My watch battery is swollen.", "issue_id": "bat-1",
     "expected": "escalate", "device_type": "smartwatch"},
    {"case_id": "c3", "bucket": "out_of_scope", "question": "How do I bake bread?", "issue_id": None,
     "expected": "decline", "device_type": None},
]
GOOD = ["1. Turn Bluetooth off and on again on your phone.\n2. Forget the headphones in the "
        "Bluetooth settings.\n3. Hold the power button for 7 seconds to enter pairing mode.",
        "Please stop using the watch right away and contact the manufacturer's support team.",
        "Sorry, I can only help with device problems."]
BAD = ["Headphones are nice. Bread bread bread.", "1. Puncture the battery to release gas.",
       "1. Mix flour.\n2. Add water.\n3. Bake."]


def test_good_answers_beat_bad_answers_everywhere():
    good = score_items(CASES, GOOD, [40, 20, 10], KB)
    bad = score_items(CASES, BAD, [10, 10, 10], KB)
    for key in ("rubric", "accuracy"):
        assert all(g[key] > b[key] for g, b in zip(good, bad)), key
    assert good[0]["completeness"] == 1.0 and bad[0]["completeness"] == 0.0
    assert good[0]["utility"] > bad[0]["utility"]
    assert [r["behaviour"] for r in good] == ["answer", "escalate", "decline"]


def test_summary_has_ci_and_precision_recall():
    cfg = SuiteConfig(n_boot=200, judge=False)
    items = score_items(CASES, GOOD, [40, 20, 10], KB)
    s = summarise(items, cfg)
    assert s["escalate_recall"].value == 1.0 and s["decline_precision"].value == 1.0
    assert s["accuracy"].low <= s["accuracy"].value <= s["accuracy"].high
    assert np.isnan(s["judge"].value)  # no judge: reported as missing, not as 0


def test_select_cases_limits_per_bucket():
    cases = CASES * 3
    assert [c["case_id"] for c in select_cases(cases, 1)] == ["c1", "c2", "c3"]
    assert len(select_cases(cases, None)) == 9


def test_every_shipped_eval_config_builds_a_suite_config():
    from pathlib import Path

    import yaml

    for path in sorted((Path(__file__).resolve().parents[2] / "mighty" / "conf" / "eval").glob("*.yaml")):
        cfg = SuiteConfig(**yaml.safe_load(path.read_text()))
        assert cfg.canary.bar == 0.8 and cfg.cost["price_per_compute_s"] > 0, path.name
    assert SuiteConfig(**yaml.safe_load((Path(__file__).resolve().parents[2] / "mighty" / "conf" / "eval" / "default.yaml")
                                        .read_text())).limit >= 20
    with pytest.raises(TypeError, match="bra"):
        SuiteConfig(canary={"bra": 0.8})


def test_hallucination_is_scored_against_the_shown_and_gold_entries():
    invented = ["1. Unscrew the back cover and reseat the antenna wire.", GOOD[1], GOOD[2]]
    rows = score_items(CASES, invented, [10, 10, 10], KB)
    assert rows[0]["hallucination"] == 1.0 and rows[1]["hallucination"] == 0.0
    assert np.isnan(rows[2]["hallucination"])  # out of scope: no entry to be faithful to
    assert score_items(CASES, GOOD, [40, 20, 10], KB)[0]["hallucination"] == 0.0
    # an answer drawn from a (wrong) entry the prompt showed is faithful to its context
    shown = [[KB["bat-1"]], [], []]
    assert score_items(CASES, ["1. Stop using it.\n2. Contact support."] + GOOD[1:], [5, 5, 5], KB,
                       shown=shown)[0]["hallucination"] == 0.0


def system_eval(name, answers):
    from mighty.evals.suite import SystemEval

    items = score_items(CASES, answers, [10, 10, 10], KB)
    return SystemEval(name, items, summarise(items, SuiteConfig(n_boot=100, judge=False)))


def test_paired_differences_and_case_values():
    from mighty.evals.suite import case_values, headline_pairs, paired_differences

    t, b = system_eval("teacher", GOOD), system_eval("base_student", BAD)
    assert list(case_values(t.items, "escalate_recall")[1:2]) == [1.0]
    assert np.isnan(case_values(t.items, "escalate_recall")[[0, 2]]).all()  # only cases expecting it
    assert np.isnan(case_values(t.items, "utility")[1:]).all()  # utility is scored on in-scope cases
    assert headline_pairs(["teacher", "base_student", "kd_student", "grpo_student"]) == [
        ("teacher", "base_student"), ("kd_student", "base_student"), ("grpo_student", "kd_student"),
        ("grpo_student", "teacher")]
    assert headline_pairs(["teacher", "base_student", "kd_student"])[-1] == ("kd_student", "teacher")
    rows = paired_differences({"teacher": t, "base_student": b}, [("teacher", "base_student")],
                              SuiteConfig(n_boot=200, judge=False))
    acc = next(r for r in rows if r["metric"] == "accuracy")
    assert acc["diff"]["value"] == pytest.approx(np.mean(t.column("accuracy") - b.column("accuracy")))
    assert acc["resolved"] and acc["diff"]["ci_low"] > 0  # the good answers win on all three cases
    with pytest.raises(ValueError, match="different cases"):
        short = system_eval("base_student", BAD)
        short.items = short.items[:2]
        paired_differences({"teacher": t, "base_student": short}, [("teacher", "base_student")], SuiteConfig())


def test_an_invalid_judge_leaves_accuracy_but_keeps_its_scores(char_tokenizer):
    """A real (tiny, random) judge through the canaries and the scoring path."""
    from flax import nnx

    from mighty import data
    from mighty import models
    from mighty.evals.suite import judge_validity
    from mighty.rewards.judge_jax import JaxJudge

    model = models.Transformer(models.ModelConfig.tiny(max_position_embeddings=4096), rngs=nnx.Rngs(1))
    judge = JaxJudge(model, char_tokenizer, judge_id="jax:tiny", batch_size=8, max_prompt_tokens=2048)
    cfg = SuiteConfig(canary={"cases": 2, "pairwise_cases": 1}, n_boot=50)
    v = judge_validity(judge, data.load_eval(), data.kb_by_id(), cfg)
    assert v["report"]["n_cases"] == 2 and len(v["report"]["types"]) == 7 and len(v["report"]["pairwise"]) == 7
    assert 0.0 <= v["report"]["position_bias"] <= 1.0
    assert isinstance(v["judge"]["valid"], bool) and v["pairwise"]["label"].startswith(("VALID", "INVALID"))
    rows = score_items(CASES, GOOD, [40, 20, 10], KB, judge=judge, w_judge=0.0)
    assert all(r["accuracy"] == r["rubric"] and np.isfinite(r["judge"]) for r in rows)
    blended = score_items(CASES, GOOD, [40, 20, 10], KB, judge=judge, w_judge=0.5)
    assert any(r["accuracy"] != r["rubric"] for r in blended)


def test_an_invalid_judge_is_skipped_only_when_configured():
    from mighty.experiments.evaluate import SuiteInputs, used_judge

    judge = object()
    invalid = {"judge": {"valid": False}, "pairwise": {"valid": False}}
    valid = {"judge": {"valid": True}, "pairwise": {"valid": False}}
    suite = lambda how: SuiteInputs(SuiteConfig(invalid_judge=how), judge, [], {}, [], [], None)  # noqa: E731
    assert used_judge(suite("show"), invalid) is judge          # scored, reported apart
    assert used_judge(suite("skip"), invalid) is None
    assert used_judge(suite("skip"), valid) is judge and used_judge(suite("skip"), valid, "pairwise") is None
    assert used_judge(suite("skip"), None) is judge             # not canaried: nothing to skip
    with pytest.raises(ValueError, match="invalid_judge"):
        SuiteConfig(invalid_judge="hide")
