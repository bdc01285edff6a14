"""Per-token α boosting: vocab masks from token strings, spans, and α_bt."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.distill.alpha import (
    alpha_from_boost,
    boost_vocab_mask,
    lexicon_span_mask,
    token_alpha,
)
from mighty.distill.losses import kd_loss

TOKENS = ["1", " 2.", "3)", " 10", "hello", " Bluetooth", "ANC", " the", "12a", "A",
          " EQ", "Reset", " x2", "4 ."]


def test_default_pattern_boosts_step_numbers_only():
    got = boost_vocab_mask(TOKENS)
    want = [t in ("1", " 2.", "3)", " 10") for t in TOKENS]
    np.testing.assert_array_equal(got, want)


def test_lexicon_is_whole_token_and_case_insensitive():
    got = boost_vocab_mask(TOKENS, patterns=(), lexicon=["bluetooth", " anc ", "eq", "blue"])
    want = [t in (" Bluetooth", "ANC", " EQ") for t in TOKENS]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "cls, hits",
    [
        ("digits", ["1", " 10"]),
        ("step_number", [" 2.", "3)"]),
        ("capitalised", [" Bluetooth", "Reset"]),
        ("acronym", ["ANC", " EQ"]),
    ],
)
def test_token_classes(cls, hits):
    got = boost_vocab_mask(TOKENS, patterns=(), classes=[cls])
    np.testing.assert_array_equal(got, [t in hits for t in TOKENS])


def test_sources_combine_by_or_and_unknown_class_raises():
    got = boost_vocab_mask(TOKENS, lexicon=["hello"], classes=["acronym"])
    want = [t in ("1", " 2.", "3)", " 10", "hello", "ANC", " EQ") for t in TOKENS]
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="unknown token classes"):
        boost_vocab_mask(TOKENS, classes=["nouns"])


def test_lexicon_span_mask_catches_multi_token_terms():
    toks = [" Turn", " on", " Blue", "tooth", " pairing", " mode", " Blue", "tooths", "."]
    ids = np.array([list(range(len(toks)))])
    got = lexicon_span_mask(ids, toks, ["Bluetooth", "pairing mode"])
    # the second "Bluetooth" is part of the longer word "Bluetooths": no whole-word match
    np.testing.assert_array_equal(got[0], [0, 0, 1, 1, 1, 1, 0, 0, 0])
    assert not lexicon_span_mask(ids, toks, []).any()


def test_token_alpha_hand_worked():
    mask_v = np.array([False, True, False])
    labels = jnp.array([[0, 1, 2, 1]])
    np.testing.assert_allclose(token_alpha(labels, mask_v, base_alpha=0.5, multiplier=1.5),
                               [[0.5, 0.75, 0.5, 0.75]])
    np.testing.assert_allclose(token_alpha(labels, mask_v, base_alpha=0.5, multiplier=3.0),
                               [[0.5, 1.0, 0.5, 1.0]])  # clipped at 1
    np.testing.assert_allclose(token_alpha(labels, mask_v, base_alpha=0.5, multiplier=-1.0),
                               [[0.5, 0.0, 0.5, 0.0]])  # clipped at 0


def test_token_alpha_matches_python_loop_and_jits():
    rng = np.random.default_rng(0)
    mask_v = rng.random(50) < 0.3
    labels = rng.integers(0, 50, size=(3, 7))
    got = jax.jit(token_alpha, static_argnames=("base_alpha", "multiplier"))(
        labels, mask_v, base_alpha=0.4, multiplier=2.0)
    want = np.array([[min(0.4 * (2.0 if mask_v[l] else 1.0), 1.0) for l in row]
                     for row in labels])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    span = rng.random((3, 7)) < 0.5
    np.testing.assert_allclose(alpha_from_boost(span, base_alpha=0.4, multiplier=2.0),
                               np.where(span, 0.8, 0.4), rtol=1e-6)


def test_boosted_alpha_shifts_kd_loss_towards_hard_ce_on_boosted_tokens():
    rng = np.random.default_rng(1)
    s, t = rng.normal(size=(2, 1, 3, 14)).astype(np.float32)
    labels = np.array([[0, 4, 1]])  # "1", "hello", " 2."
    mask = np.ones((1, 3))
    alpha = token_alpha(labels, boost_vocab_mask(TOKENS), base_alpha=0.25, multiplier=4.0)
    np.testing.assert_allclose(alpha, [[1.0, 0.25, 1.0]])
    _, per_tok = jax.vmap(lambda m: kd_loss(s, t, labels, m, alpha=alpha))(
        jnp.eye(3)[:, None, :])
    _, ce = jax.vmap(lambda m: kd_loss(s, t, labels, m, alpha=1.0))(jnp.eye(3)[:, None, :])
    # boosted tokens (α = 1) carry pure hard CE; the other one does not
    loss, hard = np.asarray(per_tok["kd/loss"]), np.asarray(ce["kd/ce"])
    np.testing.assert_allclose(loss[[0, 2]], hard[[0, 2]], rtol=1e-6)
    assert abs(loss[1] - hard[1]) > 1e-3
