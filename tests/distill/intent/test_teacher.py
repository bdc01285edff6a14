"""The teacher ensemble's soft labels on hand-built cases."""
import numpy as np
import pytest

from mighty.distill.intent.intents import INTENTS, SAFETY
from mighty.distill.intent.teacher import (EnsembleConfig, LLMAdjudicator, ask_llm, fit_temperature, load_llm,
                                    pool, rule_flags)

C = len(INTENTS)
K = INTENTS.index(SAFETY)


def _onehot_ish(k, top=0.8):
    p = np.full(C, (1 - top) / (C - 1))
    p[k] = top
    return p


def test_rules_fire_on_escalation_phrases_only():
    assert rule_flags(["my speaker is smoking", "the battery is swollen battery", "my speaker is quiet",
                       "shockproof case"]).tolist() == [True, True, False, False]


def test_fired_rule_dominates_with_override():
    probe = np.stack([_onehot_ish(0, 0.95), _onehot_ish(0, 0.95)])
    llm = np.full((2, C), np.nan)
    p = pool(probe, llm, np.array([True, False]), EnsembleConfig(rule_override=True, rule_mass=0.9))
    assert p[0].argmax() == K and p[0, K] >= 0.9
    assert p[1].argmax() == 0
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-9)


def test_rule_without_override_is_a_pool_member():
    probe = np.stack([_onehot_ish(0, 0.95)])
    llm = np.full((1, C), np.nan)
    weak = pool(probe, llm, np.array([True]), EnsembleConfig(rule_override=False, w_rule=0.01))
    strong = pool(probe, llm, np.array([True]), EnsembleConfig(rule_override=False, w_rule=3.0))
    assert weak[0].argmax() == 0 and strong[0].argmax() == K


@pytest.mark.parametrize("combine", ["log_linear", "linear"])
def test_llm_moves_the_label_only_where_asked(combine):
    probe = np.stack([_onehot_ish(1, 0.4), _onehot_ish(1, 0.4)])
    llm = np.stack([_onehot_ish(2, 0.99), np.full(C, np.nan)])
    p = pool(probe, llm, np.zeros(2, bool), EnsembleConfig(combine=combine, w_probe=1, w_llm=2))
    assert p[0].argmax() == 2 and p[1].argmax() == 1
    np.testing.assert_allclose(p[1], probe[1], atol=1e-6)  # no LLM, T=1: the probe itself


def test_log_linear_matches_hand_computation():
    a, b = _onehot_ish(0, 0.6), _onehot_ish(3, 0.7)
    p = pool(a[None], b[None], np.zeros(1, bool), EnsembleConfig(w_probe=1, w_llm=1), temperature=2.0)
    ref = np.exp((np.log(a) + np.log(b)) / 2 / 2.0)
    np.testing.assert_allclose(p[0], ref / ref.sum(), rtol=1e-6)


def test_temperature_fit_sharpens_an_underconfident_pool():
    rng = np.random.default_rng(0)
    y = rng.integers(0, C, 200)
    probe = np.stack([_onehot_ish(k, 0.3) for k in y])  # always right, barely confident
    t = fit_temperature(probe, np.full((200, C), np.nan), np.zeros(200, bool), y, EnsembleConfig())
    assert t < 0.5


def test_ask_llm_only_below_threshold_within_budget():
    probe = np.stack([_onehot_ish(0, 0.9), _onehot_ish(0, 0.3), _onehot_ish(0, 0.2)])
    asked = []
    llm = lambda texts: asked.extend(texts) or np.full((len(texts), C), 1 / C)  # noqa: E731
    out = ask_llm(probe, ["a", "b", "c"], llm, threshold=0.5, budget=1)
    assert asked == ["c"] and np.isnan(out[:2]).all() and np.allclose(out[2], 1 / C)


def test_llm_adjudicator_reads_intent_number_probabilities(tmp_path):
    model, tok = load_llm("random")
    adj = LLMAdjudicator(model, tok, batch_size=2, cache_path=tmp_path / "llm.json")
    p = adj(["my earbuds will not charge", "refund please", "my earbuds will not charge"])
    assert p.shape == (3, C) and np.allclose(p.sum(1), 1) and np.allclose(p[0], p[2])
    assert adj.calls == 2
    again = LLMAdjudicator(model, tok, batch_size=2, cache_path=tmp_path / "llm.json")
    np.testing.assert_allclose(again(["refund please"]), p[1:2])
    assert again.calls == 0
