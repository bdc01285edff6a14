"""Length (token-accurate) and repetition penalties against hand-worked numbers."""
import numpy as np
import pytest

from mighty.rewards.base import RewardError
from mighty.rewards.length import LengthPenalty, RepetitionPenalty


class CharPairTokenizer:
    """Two characters per token: deliberately not words, to prove tokens are counted."""

    def encode(self, text):
        return list(range((len(text) + 1) // 2))


def test_length_penalty_relative_to_reference_tokens():
    pen = LengthPenalty(tokenizer=CharPairTokenizer(), tolerance=1.25, slope=1.0)
    comps = ["x" * 20, "x" * 25, "x" * 40, "x" * 200]   # 10, 13, 20, 100 tokens
    r, info = pen(["q"] * 4, comps, reference_tokens=[10, 10, 10, 10])
    np.testing.assert_allclose(info["tokens"], [10, 13, 20, 100])
    # ratios 1.0, 1.3, 2.0, 10 -> -max(0, r - 1.25) capped at 1
    np.testing.assert_allclose(r, [0.0, -0.05, -0.75, -1.0])


def test_length_penalty_target_fallback_short_side_and_exact_counts():
    pen = LengthPenalty(target_tokens=100, min_ratio=0.5, short_slope=2.0)
    r, _ = pen(["q"] * 3, ["a", "b", "c"], completion_tokens=[20, 100, 200],
               reference_tokens=[None, None, 50])
    # 20/100 = 0.2 -> -2·0.3 ; 100/100 -> 0 ; 200/50 = 4 -> -min(1, 2.75)
    np.testing.assert_allclose(r, [-0.6, 0.0, -1.0])
    with pytest.raises(RewardError, match="characters are not tokens"):
        LengthPenalty()(["q"], ["a"], reference_tokens=[3])
    with pytest.raises(RewardError, match=r"items \[1\] have no positive reference_tokens"):
        LengthPenalty(tokenizer=CharPairTokenizer())(["q"] * 2, ["a", "b"], reference_tokens=[3, None])


def test_repetition_penalty_hand_worked():
    rep = RepetitionPenalty(n=2, w_ngram=0.5, w_lines=0.3, w_filler=0.2, max_filler=2)
    clean = "Turn it off. Then pair it again."
    loop = "reset it\nreset it\nreset it\nreset it"
    filler = "Great question! Turn it off. I hope this helps."
    r, info = rep(["q"] * 3, [clean, loop, filler])
    # clean: 6 distinct bigrams of 6 -> 0; loop: words "reset it"×4 -> 7 bigrams, 2 distinct
    # -> 1 - 2/7; lines 3 of 4 repeat -> 0.75; filler: 2 phrases -> 1
    np.testing.assert_allclose(info["ngram"], [0.0, 1 - 2 / 7, 0.0])
    np.testing.assert_allclose(info["lines"], [0.0, 0.75, 0.0])
    np.testing.assert_allclose(info["filler"], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(r, [0.0, -(0.5 * (1 - 2 / 7) + 0.3 * 0.75), -0.2])
