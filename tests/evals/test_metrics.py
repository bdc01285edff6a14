import math

import pytest

from mighty.evals.metrics import behaviour, precision_recall, qa_match, utility


def test_behaviour_classes():
    assert behaviour("Stop using it now and contact the manufacturer's support.") == "escalate"
    assert behaviour("Sorry, I can only help with device problems.") == "decline"
    # the teacher's own wording in its out-of-scope labels, which students end after
    assert behaviour("I'm sorry, but as a device troubleshooting AI, I'm designed to assist with "
                     "device-related issues.") == "decline"
    assert behaviour("No, I'm sorry for any confusion. I'm here to assist you.") == "answer"
    assert behaviour("Which model do you have?") == "clarify"
    assert behaviour("1. Turn it off.\n2. Turn it on.") == "answer"


def test_utility_hand_worked():
    text = "1. Turn off the speaker.\n2. The light blinks.\n3. Hold the button for 5 s.\n4. Pair again."
    assert utility(text) == pytest.approx(3 / 4)
    assert utility("Just restart it, it usually works.") == 0.0
    assert utility("1. Reset it.") == pytest.approx(1 / 3)


def test_qa_match_is_whole_phrase():
    assert qa_match("The capital is Paris.", ["Paris"]) == 1.0
    assert qa_match("Parisian food", ["Paris"]) == 0.0
    assert qa_match("It is 12", ["twelve", "12"]) == 1.0


def test_precision_recall_hand_worked_and_undefined():
    out = precision_recall([1, 1, 0, 0], [1, 0, 1, 0])
    assert out["precision"] == 0.5 and out["recall"] == 0.5 and out["f1"] == 0.5
    none = precision_recall([0, 0], [1, 0])
    assert math.isnan(none["precision"]) and none["recall"] == 0.0


def test_the_packaged_teachers_own_declines_count_as_declines():
    from mighty.evals.metrics import behaviour

    said = ["I'm sorry for any confusion, but as a device troubleshooting AI, I specialize in "
            "device-related issues. I'm not equipped to assist with that.",
            "No, I'm sorry. I'm here to help with device troubleshooting."]
    assert [behaviour(t) for t in said] == ["decline", "decline"]
    assert behaviour("1. I specialize in speakers: turn it off.\n2. Turn it on.\n3. Pair it.") == "answer"
