"""demo.router.decide: every branch, its priority order, and keyword matching."""
import pytest

from mighty.data.escalation import DEFAULT_ESCALATION_KEYWORDS
from mighty.demo.router import RouteFacts, decide, find_escalation

KW = DEFAULT_ESCALATION_KEYWORDS


def route(q="my speaker has no sound", tokens=200, conf=0.9, admin=False, budget=512, thr=0.2):
    return decide(RouteFacts(q, tokens, conf, admin), token_budget=budget, min_confidence=thr,
                  escalation_keywords=KW)


def test_default_is_student():
    assert route() == ("student", "default")


def test_admin_flag():
    assert route(admin=True) == ("teacher", "admin_flag")


@pytest.mark.parametrize("q,kw", [
    ("There is a burning smell from my soundbar", "burning smell"),
    ("my earbuds case battery is swollen, is that bad?", "battery is swollen"),
    ("the speaker gave off SMOKE", "smoke"),
    ("I saw sparks when plugging in the hub", "sparks"),
    ("the charger gave me a shock", "shock"),
    ("the Swollen  Battery in my headphones", "swollen battery"),
])
def test_escalation_keywords(q, kw):
    assert route(q) == ("teacher", f"escalation:{kw}")


@pytest.mark.parametrize("q", ["my shockproof speaker will not pair", "the sparkle light effect is off",
                               "smokey voice preset sounds odd", "Fire TV remote firmware update"])
def test_keywords_match_whole_words_only(q):
    assert find_escalation(q, KW) is None
    assert route(q) == ("student", "default")


def test_token_budget():
    assert route(tokens=513) == ("teacher", "token_budget:513>512")
    assert route(tokens=512) == ("student", "default")  # at the budget is still fine


def test_low_confidence():
    r, reason = route(conf=0.1)
    assert r == "teacher" and reason == "low_confidence:0.10<0.20"
    assert route(conf=0.2) == ("student", "default")


def test_priority_admin_then_escalation_then_budget_then_confidence():
    assert route("smoke!", tokens=999, conf=0.0, admin=True)[1] == "admin_flag"
    assert route("smoke!", tokens=999, conf=0.0)[1] == "escalation:smoke"
    assert route(tokens=999, conf=0.0)[1].startswith("token_budget")
    assert route(conf=0.0)[1].startswith("low_confidence")


def test_intent_probabilities_route_after_keywords_and_before_budget():
    from mighty.demo.router import RouteFacts, decide

    kw = ["smoke"]
    th = {"safety_escalation": 0.5, "out_of_scope": 0.6}
    probs = {"troubleshoot_speakers": 0.2, "safety_escalation": 0.55, "out_of_scope": 0.25}

    def route(question, intent, tokens=10, conf=0.9):
        return decide(RouteFacts(question, tokens, conf, intent=intent), token_budget=100,
                      min_confidence=0.2, escalation_keywords=kw, intent_thresholds=th)

    assert route("it gets hot", probs) == ("teacher", "intent_escalation:0.55")
    assert route("there is smoke", probs) == ("teacher", "escalation:smoke")  # the keyword rule first
    assert route("what's the capital of France", {"out_of_scope": 0.59}) == ("student", "default")  # below 0.6
    assert route("what's the capital of France", {"out_of_scope": 0.6}) == ("teacher", "intent_out_of_scope:0.60")
    assert route("it gets hot", probs, tokens=500)[1] == "intent_escalation:0.55"  # before the budget rule
    assert route("it gets hot", None) == ("student", "default")  # no classifier: the hand rules alone
    assert decide(RouteFacts("it gets hot", 10, 0.9, intent=probs), token_budget=100, min_confidence=0.2,
                  escalation_keywords=kw) == ("student", "default")  # no thresholds configured
