"""Calibrated, device-aware retrieval confidence: ECE against hand-worked numbers, the device
rule on a toy KB, and the bundled corpus's eval (held out from the calibration fit)."""
import numpy as np
import pytest

from mighty.data.calibration import calibrated_retriever, calibration_questions, expected_calibration_error, reliability_bins
from mighty.data.paths import EVAL_PATH
from mighty.data.retrieval import Retriever, recall_at_k
from mighty.demo.config import RouterConfig

ROUTER_MIN = RouterConfig().min_confidence
BT_QUERY = "my bluetooth speaker keeps disconnecting from my phone every few minutes"


def test_ece_hand_worked():
    conf = [0.05, 0.15, 0.85, 0.95, 0.95, 0.55]
    correct = [0, 1, 1, 1, 0, 1]
    # 2 bins: [0, .5) mean conf 0.1, accuracy 0.5; [.5, 1] mean conf 0.825, accuracy 0.75
    assert expected_calibration_error(conf, correct, 2) == pytest.approx((2 * 0.4 + 4 * 0.075) / 6)
    bins = reliability_bins(conf, correct, 2)
    assert [b["n"] for b in bins] == [2, 4]
    assert bins[1]["confidence"] == pytest.approx(0.825) and bins[1]["accuracy"] == pytest.approx(0.75)
    # 1.0 falls in the last bin; a perfectly calibrated set has ECE 0; empty bins are None
    assert reliability_bins([1.0], [1], 4)[3]["n"] == 1 and reliability_bins([1.0], [1], 4)[0]["accuracy"] is None
    assert expected_calibration_error([0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0], 10) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="one length"):
        expected_calibration_error([0.5], [1, 0])


def test_ece_matches_naive_loop():
    rng = np.random.default_rng(0)
    conf, correct = rng.uniform(size=500), rng.integers(0, 2, 500)
    ref = 0.0
    for b in range(15):
        lo, hi = b / 15, (b + 1) / 15
        m = [(lo <= c < hi) or (b == 14 and c == 1.0) for c in conf]
        if any(m):
            ref += sum(m) / len(conf) * abs(np.mean(correct[m]) - np.mean(conf[m]))
    assert expected_calibration_error(conf, correct, 15) == pytest.approx(ref)


TOY = [{"issue_id": "t.cycle", "device_type": "smart_thermostat", "model_family": "ThermaHome T5",
        "title": "Heating turns on and off every few minutes", "symptom": "short_cycling",
        "causes": ["dirty filter"]},
       {"issue_id": "e.case", "device_type": "true_wireless_earbuds", "model_family": "PodPair Air",
        "title": "Case does not charge", "symptom": "case_not_charging", "causes": ["dirty contacts"]},
       {"issue_id": "e.pair", "device_type": "true_wireless_earbuds", "model_family": "PodPair Air",
        "title": "Buds will not pair", "symptom": "wont_pair", "causes": ["pairing mode timed out"]}]


def test_device_mismatch_is_never_confident():
    r = Retriever(TOY)
    # no earbuds entry shares a word with the question (the generic "earphones" names them):
    # the thermostat is the only lexical match, and it contradicts the named device
    q = "my earphones keep switching off every few minutes"
    assert r.search(q, 1)[0][0]["issue_id"] == "t.cycle" and r.confidence(q) == 0.0
    assert Retriever(TOY, devices=False).confidence(q) > 0.9  # the plain lexical softmax trusts it
    r.calibration = {"features": ["softmax", "named"], "coef": [5.0, 5.0], "intercept": 5.0}
    assert r.confidence(q) == 0.0  # the rule holds whatever the calibration says
    # a named device's entry, when one matches, outranks a better-scoring other device's
    assert r.search("earbuds turn on and off every few minutes", 1)[0][0]["device_type"] == "true_wireless_earbuds"


def test_toy_kb_without_training_questions_stays_uncalibrated():
    r = calibrated_retriever(TOY, train=[{"question": "how far is the moon", "issue_id": "out_of_scope.astronomy"}])
    assert r.calibration is None and 0 <= r.confidence("buds will not pair") <= 1


needs_corpus = pytest.mark.skipif(not EVAL_PATH.exists(), reason="bundled corpus not generated")


@pytest.fixture(scope="module")
def corpus():
    from mighty import data

    kb, cases = data.load_kb(), data.load_eval()
    return kb, cases, calibrated_retriever(kb)  # fitted on the default build's training split


@needs_corpus
def test_bluetooth_speaker_query_never_gets_a_confident_thermostat(corpus):
    kb, _, r = corpus
    for ret in (r, Retriever(kb)):  # calibrated, and the uncalibrated device-aware softmax
        hits, conf = ret.search_with_confidence(BT_QUERY, 3)
        assert all(e["device_type"] == "bluetooth_speaker" for e, _ in hits), [e["issue_id"] for e, _ in hits]
    legacy = Retriever(kb, devices=False)
    assert legacy.search(BT_QUERY, 1)[0][0]["device_type"] == "smart_thermostat"  # the bug this fixes
    assert legacy.confidence(BT_QUERY) > 0.99


@needs_corpus
def test_eval_in_scope_mismatched_top_hit_is_below_router_threshold(corpus):
    _, cases, r = corpus
    in_scope = [c for c in cases if c["bucket"] == "in_scope"]
    named = 0
    for c in in_scope:
        hits, conf = r.search_with_confidence(c["question"], 1)
        m = r.vocab.mention(c["question"])
        named += bool(m)
        if hits[0][0]["device_type"] != c["device_type"]:  # the gold device, which the question names
            assert conf < ROUTER_MIN, (c["case_id"], hits[0][0]["issue_id"], conf)
        if m:
            assert hits[0][0]["device_type"] in m.types or conf == 0.0, c["case_id"]
    assert named >= 0.9 * len(in_scope)  # the check is not vacuous: most questions name their device


@needs_corpus
def test_calibration_improves_ece_on_heldout_questions_and_keeps_recall(corpus):
    from mighty import data

    kb, cases, r = corpus
    assert r.calibration is not None
    in_scope = [c for c in cases if c["bucket"] == "in_scope"]
    judged = in_scope + [c for c in cases if c["bucket"] == "out_of_scope"]
    val_q, val_ids = calibration_questions(kb, data.load_prompts("val"))  # not in the fit either
    raw, legacy = Retriever(kb), Retriever(kb, devices=False)
    for qs, ids in ((val_q, val_ids), ([c["question"] for c in judged], [c["issue_id"] for c in judged])):
        ece = {}
        for name, ret in (("calibrated", r), ("raw", raw), ("legacy", legacy)):
            conf = [ret.confidence(q) for q in qs]
            ece[name] = expected_calibration_error(conf, ret.top_correct(qs, ids), 10)
        print(f"ECE on {len(qs)} held-out questions: {ece}")
        assert ece["calibrated"] < min(ece["raw"], ece["legacy"])  # measured val 0.076 vs 0.142/0.205
    q, ids = [c["question"] for c in in_scope], [c["issue_id"] for c in in_scope]
    new, old = recall_at_k(r, q, ids), recall_at_k(legacy, q, ids)
    print(f"eval in-scope recall@1/@3: device-aware {new}, plain BM25 {old}")
    assert new[1] >= old[1] and new[3] >= old[3]  # measured 0.634 / 0.793 both
