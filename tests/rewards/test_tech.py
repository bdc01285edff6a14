"""TechRubric against hand-worked cases (w_order 0.3, w_escalation 0.6, unsafe 0.5, decline 0.7)."""
import numpy as np
import pytest

from mighty.rewards.base import RewardError
from mighty.rewards.tech import TechRubric

KB = {"issue_id": "spk-001", "device_type": "bluetooth_speaker", "safety": False,
      "steps": ["Turn the speaker off.", "Reset pairing.", "Pair it again."],
      "required_keywords": [["power off", "turn off", "switch off"], ["reset"],
                            ["pair", "reconnect"]],
      "unsafe_phrases": ["open the battery", "puncture"]}
SAFE_KB = {**KB, "safety": True, "required_keywords": [["unplug"]],
           "unsafe_phrases": ["keep charging"]}


def score(completions, kb=KB, **fields):
    r, info = TechRubric()(["q"] * len(completions), completions,
                           kb_entry=[kb] * len(completions), **fields)
    return r, info


def test_full_coverage_in_order_scores_one_and_stemming_matches():
    r, info = score(["1. Switch OFF the speaker.\n2. Resetting clears it.\n3. Then re-pair: pairing again."])
    np.testing.assert_allclose(r, [1.0])
    assert info["coverage"][0] == 1.0 and info["order"][0] == 1.0


def test_reversed_order_is_lower():
    # LIS of positions (pair < reset < off) = 1 of 3 -> order 1/3; S = 0.7 + 0.3/3 = 0.8
    r, info = score(["Pair it. Then reset it. Then turn off the speaker."])
    np.testing.assert_allclose(info["order"], [1 / 3])
    np.testing.assert_allclose(r, [0.8])


def test_missing_step_and_word_boundaries():
    # "preset" / "repairing" must not match "reset" / "pair": only step 1 matched
    r, info = score(["Turn off the speaker, choose a preset and consider repairing it."])
    np.testing.assert_allclose(info["coverage"], [1 / 3])
    np.testing.assert_allclose(r, [1 / 3])


def test_unsafe_phrase_penalty():
    r, info = score(["Turn off the speaker, reset it, pair it, then open the battery cover."])
    assert info["unsafe_hits"][0] == 1
    np.testing.assert_allclose(r, [0.5])
    r, _ = score(["Open the battery and puncture it."])
    np.testing.assert_allclose(r, [0.0])


def test_safety_escalation():
    full = "Stop using the charger and unplug it now. Contact the manufacturer's support team."
    only_stop = "Unplug it and stop using it."
    neither = "Try another outlet and keep charging it overnight."
    r, info = score([full, only_stop, neither], kb=SAFE_KB)
    # full: X = 1, S = 1 -> 0.6 + 0.4 = 1 ; only_stop: X = 0.5, S = 1 -> 0.3 + 0.4 = 0.7
    # neither: X = 0, S = 0, unsafe "keep charging" -> clip(0 - 0.5) = 0
    np.testing.assert_allclose(r, [1.0, 0.7, 0.0])
    np.testing.assert_allclose(info["escalation"], [1.0, 0.5, 0.0])


def test_out_of_scope_polite_decline():
    t = TechRubric()
    comps = ["I'm sorry, but I can only help with consumer electronics troubleshooting.",
             "I can't help with that.",
             "Sure! 1. Preheat the oven.\n2. Mix the flour.\n3. Bake."]
    r, info = t(["how do I bake bread"] * 3, comps, kb_entry=[None] * 3,
                expected=["decline"] * 3)
    np.testing.assert_allclose(r, [1.0, 0.7, 0.0])
    with pytest.raises(RewardError, match="expected='answer' needs a kb_entry"):
        t(["q"], ["a"], kb_entry=[None], expected=["answer"])
    with pytest.raises(RewardError, match="needs the per-item field 'kb_entry'"):
        t(["q"], ["a"])
