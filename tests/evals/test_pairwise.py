"""Pairwise judge: length-sorted batching returns each item's own preference (against the
item judged alone), and the position-debiased win rate cancels a pure position preference."""
import numpy as np
import pytest
from flax import nnx

from mighty import models
from mighty.evals import pairwise
from mighty.rewards.judge_jax import JaxJudge


@pytest.fixture(scope="module")
def judge(char_tokenizer):
    model = models.Transformer(models.ModelConfig.tiny(max_position_embeddings=4096), rngs=nnx.Rngs(0))
    return JaxJudge(model, char_tokenizer, judge_id="jax:tiny", batch_size=2)


KB = {"steps": ["Turn it off.", "Pair it again."], "safety": False}
QS = ["Q?", "My speaker will not pair, what now?", "Help", "Why is there no sound from my soundbar at all?", "x"]
FIRST = ["1. Turn it off.", "A much longer answer " * 12, "", "1. Pair it.\n2. Reset it.", "yes"]
SECOND = ["No.", "short", "1. Turn it off.\n2. Pair it again.", "b" * 300, "no"]


def test_sorted_batches_return_each_items_own_preference(judge):
    q = pairwise.prefer_first(judge, QS, ["ref"] * 5, FIRST, SECOND)
    alone = [pairwise.prefer_first(judge, [a], ["ref"], [b], [c])[0] for a, b, c in zip(QS, FIRST, SECOND)]
    np.testing.assert_allclose(q, alone, rtol=2e-4, atol=2e-5)
    assert np.all((q > 0) & (q < 1)) and np.ptp(q) > 0  # distinct items, distinct answers


def test_win_rate_is_position_debiased(judge):
    w = pairwise.win_rate(judge, QS, [KB] * 5, FIRST, SECOND)
    back = pairwise.win_rate(judge, QS, [KB] * 5, SECOND, FIRST)
    np.testing.assert_allclose(w + back, 1.0, atol=1e-6)  # X vs Y and Y vs X share the two orders
    same = pairwise.win_rate(judge, QS, [KB] * 5, FIRST, FIRST)
    np.testing.assert_allclose(same, 0.5, atol=1e-6)  # any position preference cancels
