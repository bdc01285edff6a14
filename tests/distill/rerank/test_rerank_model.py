"""Student save/load round trip and the RerankedRetriever interface (an untrained student)."""
import numpy as np
import pytest
from flax import nnx

from mighty import data
from mighty.data.rerank import RerankedRetriever
from mighty.data.retrieval import Retriever
from mighty.models.reranker import Reranker, RerankerConfig, RerankScorer, load_reranker, save_reranker
from mighty.models.textbag import BagConfig

CFG = RerankerConfig(bag=BagConfig(buckets=1024, dim=8, max_ids=64), hidden=8)


@pytest.fixture(scope="module")
def kb():
    return data.load_kb()


def test_save_load_round_trip(tmp_path, kb):
    model = Reranker(CFG, rngs=nnx.Rngs(3))
    save_reranker(tmp_path / "m", model, {"k": 5})
    loaded = load_reranker(tmp_path / "m")
    assert loaded.meta == {"k": 5} and loaded.cfg == CFG
    q, entries = "my earbuds crackle", kb[:5]
    want = RerankScorer(model).score(q, entries, [5, 4, 3, 2, 1])
    np.testing.assert_allclose(loaded.score(q, entries, [5, 4, 3, 2, 1]), want, rtol=1e-6)
    other = Reranker(CFG, rngs=nnx.Rngs(4))  # a different init scores differently: the test can fail
    assert not np.allclose(RerankScorer(other).score(q, entries, [5, 4, 3, 2, 1]), want)


def test_load_reranked_retriever_reads_meta(tmp_path, kb):
    from mighty.data.rerank import load_reranked_retriever

    save_reranker(tmp_path / "m", Reranker(CFG, rngs=nnx.Rngs(0)), {"k": 4, "confidence": "softmax"})
    rr = load_reranked_retriever(Retriever(kb), tmp_path / "m")
    assert rr.k == 4 and rr.confidence_mode == "softmax" and len(rr.search("speaker hiss", 10)) == 4


def test_load_reports_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="mighty.distill.rerank.train"):
        load_reranker(tmp_path)


def test_reranked_retriever_interface(kb):
    base = Retriever(kb)
    rr = RerankedRetriever(base, RerankScorer(Reranker(CFG, rngs=nnx.Rngs(0))), k=6)
    q = "my bluetooth speaker keeps disconnecting from my phone every few minutes"
    hits, conf = rr.search_with_confidence(q, 3)
    assert len(hits) == 3 and 0.0 <= conf <= 1.0
    assert all(isinstance(e, dict) and isinstance(s, float) for e, s in hits)
    # the same candidate set as BM25's top k, reordered by the student's logits
    assert {e["issue_id"] for e, _ in rr.search(q, 6)} == {e["issue_id"] for e, _ in base.search(q, 6)}
    logits = [s for _, s in rr.search(q, 6)]
    assert logits == sorted(logits, reverse=True)
    assert rr.confidence(q) == conf
    assert conf == pytest.approx(1 / (1 + np.exp(-logits[0])))  # default: σ(top logit)
    rr.confidence_mode = "softmax"
    z = np.exp(np.array(logits) - logits[0])
    assert rr.confidence(q) == pytest.approx(1 / z.sum())
    with pytest.raises(ValueError, match="confidence"):
        RerankedRetriever(base, rr.scorer, confidence="max")
