"""The hallucination detector on hand-written answers to one KB entry: restating or
paraphrasing its steps is supported; an invented step, part, setting or value is not."""
import numpy as np
import pytest

from mighty.evals import hallucination as H

ENTRY = {
    "issue_id": "smart_plug.wont_pair.mini", "device_type": "smart_plug",
    "title": "PlugMate Mini will not pair in the app",
    "causes": ["the phone is on a 5 GHz network and the plug only supports 2.4 GHz", "plug not in pairing mode"],
    "steps": ["Put the phone on the 2.4 GHz network, or temporarily split the router's bands into two names.",
              "Hold the plug's button for 5 seconds until the light blinks quickly: that is pairing mode.",
              "Allow the app location permission so it can find the plug.",
              "Set router security to WPA2 if it is WPA3-only."],
    "required_keywords": [["2.4 ghz"], ["blinks quickly", "fast blink"], ["location", "bluetooth"], ["wpa2"]],
    "escalation": ["the plug still will not pair after a factory reset"], "safety": False,
    "unsafe_phrases": [], "source_style": "manual",
}
OTHER = {  # another entry: its terms make up the corpus vocabulary too
    "issue_id": "soundbar.no_sound.arc", "device_type": "soundbar", "title": "No sound over HDMI ARC",
    "causes": ["CEC off"],
    "steps": ["Enable HDMI-CEC on the TV.", "Use the HDMI ARC port.", "Set the TV audio output to PCM."],
    "required_keywords": [["hdmi-cec"], ["arc port", "hdmi arc"], ["audio output", "pcm"]],
    "escalation": [], "safety": False, "unsafe_phrases": [], "source_style": "faq",
}
VOCAB = H.vocabulary([ENTRY, OTHER])
QUESTION = "My PlugMate Mini smart plug won't pair with the app. What do I do?"


def check(answer):
    return H.check(answer, QUESTION, [ENTRY], vocab=VOCAB)


def test_vocabulary_keeps_named_terms_only():
    terms = {" ".join(t) for t in VOCAB}
    assert {"2 4 ghz", "blink quickli", "wpa2", "hdmi-cec", "arc port", "audio output"} <= terms
    assert "locat" not in terms and "pcm" not in terms  # single generic keywords name no part here
    assert not H.is_named_term("turn off") and H.is_named_term("factory reset")


@pytest.mark.parametrize("answer", [
    # the steps as the entry gives them
    "1. Put the phone on the 2.4 GHz network.\n2. Hold the plug's button for 5 seconds until the light "
    "blinks quickly.\n3. Allow the app location permission.\n4. Set router security to WPA2.",
    # paraphrased, reordered, with the stock contact-support line the escalation allows
    "1. Hold the button on the plug for 5 seconds so the light blinks quickly (pairing mode).\n"
    "2. Switch your phone to the 2.4 GHz network.\n3. Contact the manufacturer's customer service if it still fails.",
    # no numbered steps and no terms: nothing is claimed
    "Sorry to hear that. Let's get your plug paired.",
])
def test_supported_answers_do_not_hallucinate(answer):
    c = check(answer)
    assert not c.hallucinated, c


def test_an_invented_step_is_unsupported():
    c = check("1. Put the phone on the 2.4 GHz network.\n2. Unscrew the back cover and reseat the antenna wire.")
    assert c.unsupported_steps == ("Unscrew the back cover and reseat the antenna wire.",)
    assert c.hallucinated


def test_an_invented_part_or_setting_is_named():
    c = check("1. Put the phone on the 2.4 GHz network.\n2. Enable HDMI-CEC on the plug.")
    assert "HDMI-CEC" in " ".join(c.invented_terms).upper() or "hdmi-cec" in c.invented_terms


def test_an_invented_value_is_named():
    c = check("1. Hold the plug's button for 15 seconds until the light blinks quickly: that is pairing mode.")
    assert c.unsupported_steps == () and c.invented_terms == ("15 seconds",)
    assert not check("1. Hold the plug's button for 5 seconds until the light blinks quickly.").hallucinated


def test_a_term_from_the_question_is_supported():
    q = "My plug won't pair and my TV's HDMI-CEC is on, does that matter?"
    assert not H.check("1. Turn off HDMI-CEC while you pair the plug.", q, [ENTRY], vocab=VOCAB).invented_terms


def test_rate_skips_answers_without_a_kb_entry():
    flags = [H.hallucinated("1. Unscrew the back cover and reseat the antenna wire.", QUESTION, [ENTRY], vocab=VOCAB),
             H.hallucinated("I can only help with device problems.", "How do I bake bread?", [None])]
    assert flags[0] == 1.0 and np.isnan(flags[1])
    assert H.hallucination_rate(["1. Unscrew the back cover.", "anything"], [QUESTION, "bread?"],
                                [[ENTRY], [None]], vocab=VOCAB) == 1.0


def test_the_corpus_vocabulary_loads():
    terms = {" ".join(t) for t in H.corpus_vocabulary()}
    assert len(terms) > 200 and "factori reset" in terms


def test_the_prompts_step_numbers_support_no_value():
    # the rendered entry numbers its steps 1-4: "4 minutes" is still a value no step gives
    c = check("1. Hold the plug's button for 4 minutes until the light blinks quickly.")
    assert c.invented_terms == ("4 minutes",)
