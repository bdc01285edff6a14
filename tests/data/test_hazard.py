"""Hazard-aware ranking: a question that reads as a hazard gets a close second safety entry first."""
import logging

import numpy as np
import pytest

from mighty.data import load_eval, load_kb, load_prompts
from mighty.data.calibration import calibrated_retriever
from mighty.data.grounding import Grounder, GroundingConfig
from mighty.data.hazard import HazardClassifier, HazardPreference, hazard_moves, hazard_questions

HAZARDS = ["it smells of smoke and burning", "the battery is bulging and hot", "sparks came out of the plug",
           "the case is melting and too hot to touch", "there is smoke coming from the charger",
           "the battery swelled and the case cracked"]
ROUTINE = ["it will not pair with my phone", "there is no sound from the left side", "the volume is too low",
           "the app cannot find the device", "it keeps disconnecting from wifi", "the lights flicker when dimmed"]


@pytest.fixture(scope="module")
def toy_classifier():
    return HazardClassifier.fit(HAZARDS + ROUTINE, [True] * len(HAZARDS) + [False] * len(ROUTINE))


def _reorder(clf, question, scores, safety, tier=None, **kw):
    """The order `HazardPreference.reorder` gives entries with these scores (best first)."""
    scores, safety = np.asarray(scores, float), np.asarray(safety, bool)
    tier = np.ones(len(scores), bool) if tier is None else np.asarray(tier, bool)
    order = np.argsort(-scores, kind="stable")
    return HazardPreference(clf, **kw).reorder(question, order, scores, safety, tier).tolist()


def test_a_hazard_question_gets_the_close_second_safety_entry_first(toy_classifier):
    hazard_q, routine_q = "smoke and a burning smell from the battery", "it will not pair with the app"
    assert toy_classifier.probability(hazard_q) > 0.5 > toy_classifier.probability(routine_q)
    #                          entries:  0 routine, 1 routine, 2 safety
    assert _reorder(toy_classifier, hazard_q, [10.0, 8.0, 7.5], [0, 0, 1]) == [2, 0, 1]
    assert _reorder(toy_classifier, routine_q, [10.0, 8.0, 7.5], [0, 0, 1]) == [0, 1, 2]  # not a hazard
    assert _reorder(toy_classifier, hazard_q, [10.0, 8.0, 6.9], [0, 0, 1]) == [0, 1, 2]  # below 0.7 x top
    assert _reorder(toy_classifier, hazard_q, [10.0, 9.5, 9.0], [1, 0, 1]) == [0, 1, 2]  # top is safety already
    assert _reorder(toy_classifier, hazard_q, [10.0, 9.9, 9.8, 9.7], [0, 0, 0, 1]) == [0, 1, 2, 3]  # beyond pool 3
    assert _reorder(toy_classifier, hazard_q, [10.0, 9.9, 9.8, 9.7], [0, 0, 0, 1], pool=4) == [3, 0, 1, 2]
    # another device's entry (outside the named device's tier) is never promoted over the device's own
    assert _reorder(toy_classifier, hazard_q, [10.0, 9.0], [0, 1], tier=[1, 0]) == [0, 1]
    # an entry that matches no word is never promoted, even under a top hit that matches none either
    assert _reorder(toy_classifier, hazard_q, [0.0, 0.0], [0, 1]) == [0, 1]
    # the first safety entry below the top is the one promoted; the rest keep their order
    assert _reorder(toy_classifier, hazard_q, [10.0, 9.0, 8.0, 7.0], [0, 1, 1, 0], pool=4) == [1, 0, 2, 3]


def test_bad_fits_and_settings_say_what_is_wrong(toy_classifier):
    with pytest.raises(ValueError, match="both kinds"):
        HazardClassifier.fit(ROUTINE, [False] * len(ROUTINE))
    with pytest.raises(ValueError, match="6 questions but 5 labels"):
        HazardClassifier.fit(ROUTINE, [False] * 5)
    for bad in (dict(threshold=1.5), dict(ratio=-0.1), dict(pool=1)):
        with pytest.raises(ValueError, match="hazard"):
            HazardPreference(toy_classifier, **bad)
    with pytest.raises(ValueError, match="data.grounding.hazard_ratio"):
        GroundingConfig(hazard_ratio=2.0)


def test_training_questions_without_a_hazard_leave_the_preference_off(caplog):
    kb = [{"issue_id": "e.pair", "device_type": "true_wireless_earbuds", "title": "Buds will not pair",
           "steps": ["Reset the case."]}]
    train = [{"question": "my buds will not pair", "issue_id": "e.pair"},
             {"question": "how far is the moon", "issue_id": "out_of_scope.astronomy"}]
    assert hazard_questions(kb, train) == (["my buds will not pair", "how far is the moon"], [False, False])
    with caplog.at_level(logging.WARNING, logger="mighty.data.calibration"):
        r = calibrated_retriever(kb, train=train)
    assert r.hazard is None and "without the hazard preference" in caplog.text
    assert calibrated_retriever(kb, train=train, hazard=False).hazard is None


@pytest.fixture(scope="module")
def grounders():
    kb = load_kb()
    return Grounder(kb, GroundingConfig()), Grounder(kb, GroundingConfig(hazard_aware=False))


def test_the_hazard_bm25_hides_is_shown_its_entry_and_the_confidence_is_unchanged(grounders):
    """The frozen eval's "warm and bulging" charging case: BM25 ranks the routine battery-drain
    entry first (below its floor: nothing shown) and the case's safety entry a close second."""
    aware, plain = grounders
    case = next(c for c in load_eval() if c["case_id"] == "ev-0086")
    assert plain.retrieve(case["question"])[0] == ()
    ids, conf = aware.retrieve(case["question"])
    assert ids == (case["issue_id"],) and aware.kb[ids[0]]["safety"]
    assert conf == plain.retrieve(case["question"])[1]  # the scores, so the confidence, are BM25's
    assert "hazard-aware" in aware.describe()["retriever"]
    assert "hazard-aware" not in plain.describe()["retriever"]


@pytest.mark.slow
def test_on_training_and_val_questions_the_rule_moves_only_hazards(grounders):
    """What the threshold and ratio were chosen for, checked on the splits they were chosen on:
    every question whose shown entries change is about a hazard and now sees a safety entry."""
    aware, plain = grounders
    changed = [p for p in load_prompts("train") + load_prompts("val")
               if aware.retrieve(p["question"])[0] != plain.retrieve(p["question"])[0]]
    assert len(changed) >= 5
    for p in changed:
        assert aware.kb[p["issue_id"]]["safety"], p
        assert aware.kb[aware.retrieve(p["question"])[0][0]]["safety"], p


def test_hazard_moves_lists_exactly_the_cases_whose_top_hit_changed(grounders):
    aware, plain = grounders
    cases = [c for c in load_eval() if c["bucket"] != "in_scope"]
    moves = hazard_moves(aware.retriever, cases)
    by_hand = [c["case_id"] for c in cases
               if aware.retriever.search(c["question"], 1)[0][0] != plain.retriever.search(c["question"], 1)[0][0]]
    assert [m["case_id"] for m in moves] == by_hand and "ev-0086" in by_hand
    assert all(aware.kb[m["top"]]["safety"] and not aware.kb[m["bm25_top"]]["safety"] for m in moves)
    assert aware.retriever.hazard is not None  # the copy hazard_moves ranks without leaves it on
    assert hazard_moves(plain.retriever, cases) == []


def test_the_demo_serves_the_same_hazard_aware_ranking(tmp_path, grounders):
    """The voice demo's retriever (no reranker registered) ranks as the pipeline's Grounder does,
    so a hazard the student was trained to see first is served first."""
    from mighty.demo.config import ServeConfig
    from mighty.demo.state import load_retriever

    served, origin = load_retriever(ServeConfig(store=str(tmp_path / "store"), reranker="none"))
    aware, _ = grounders
    assert origin.startswith("bm25") and served.hazard is not None
    case = next(c for c in load_eval() if c["case_id"] == "ev-0086")
    assert served.search(case["question"], 1)[0][0]["issue_id"] == case["issue_id"]
    for c in load_eval()[::7]:
        assert served.search_with_confidence(c["question"], 3) == aware.retriever.search_with_confidence(c["question"], 3)
