"""Ranking metrics against hand-worked cases."""
import numpy as np

from mighty.distill.rerank import evaluate as ev
from mighty.models.reranker import lexical_features


def test_gold_positions_recall_ndcg():
    label = np.array([[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0]], float)
    scores = np.array([[0.1, 0.2, 0.9, 0.0],   # gold (col 2) first
                       [0.5, 0.5, 0.6, 0.1],   # gold (col 0) ties col 1, both below col 2: rank 1 (stable)
                       [1, 2, 3, 4],           # no gold among the candidates
                       [4, 0, 3, 2]], float)   # gold last: rank 3
    pos = ev.gold_positions(ev.order_by(scores), label)
    np.testing.assert_array_equal(pos, [0, 1, -1, 3])
    np.testing.assert_array_equal(ev.recall_at(pos, 1), [1, 0, 0, 0])
    np.testing.assert_array_equal(ev.recall_at(pos, 3), [1, 1, 0, 0])
    np.testing.assert_allclose(ev.ndcg_at(pos, 10), [1.0, 1 / np.log2(3), 0.0, 1 / np.log2(5)])
    np.testing.assert_allclose(ev.ndcg_at(pos, 3), [1.0, 1 / np.log2(3), 0.0, 0.0])  # rank 3 is past @3


def test_summarise_pairs_against_baseline():
    a = {"recall@1": np.array([1.0, 0, 1, 0])}
    b = {"recall@1": np.array([1.0, 1, 1, 0])}
    out = ev.summarise({"bm25": a, "s": b}, "bm25", n_boot=200, seed=0)
    assert out["systems"]["s"]["recall@1"]["value"] == 0.75
    assert out["vs_bm25"]["s"]["recall@1"]["value"] == 0.25


def test_lexical_features():
    f = lexical_features(np.array([4.0, 2.0, 0.0]))
    np.testing.assert_allclose(f, [[1, 1, 1], [0.5, 0.5, 0], [0, 1 / 3, 0]], rtol=1e-6)
    np.testing.assert_array_equal(lexical_features(np.zeros(2))[:, 0], [0, 0])  # nothing matched
