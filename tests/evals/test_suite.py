"""The suite's scoring on hand-written answers (no model): good answers must beat bad ones
on every axis the report shows, and the summary must carry CIs."""
import numpy as np
import pytest

from evals.suite import SuiteConfig, score_items, select_cases, summarise

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
