"""BM25 + a distilled reranker behind the `data.retrieval.Retriever` interface.

`RerankedRetriever(retriever, scorer, k)`: the (device-aware) BM25 retriever proposes its top
k entries, the scorer (`models.reranker.RerankScorer`, or anything with its `score(question,
entries, lexical_scores) -> logits`) reorders them. The confidence in the top hit is read from
the reranker's logits:
  * "sigmoid" (what the stage's default writes into the artefact's meta): σ(top logit), the
    student's own relevance probability (the MSE pulls it toward the teacher's p(Yes), the
    listwise term only orders). On the frozen eval's in-scope + out-of-scope cases its ECE was
    0.086, against 0.241 for the softmax and 0.151 for BM25's calibrated confidence;
  * "softmax": the softmax probability of the top candidate over the k logits.
Either way a question naming a device whose entries match none of its words keeps confidence 0
(the BM25 rule: a device mismatch is never a confident hit). `distill.rerank.stage` measures
both confidences' ECE on the frozen eval and records them in its results.json.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from data.retrieval import Retriever

CONFIDENCE = ("softmax", "sigmoid")


class RerankedRetriever:
    """`search(q, k)` returns at most `self.k` hits (the candidates BM25 proposed)."""

    def __init__(self, retriever: Retriever, scorer: Any, k: int = 10, confidence: str = "sigmoid"):
        if confidence not in CONFIDENCE:
            raise ValueError(f"RerankedRetriever confidence must be one of {CONFIDENCE}, got {confidence!r}")
        if k < 1:
            raise ValueError(f"RerankedRetriever k must be >= 1, got {k}")
        self.retriever, self.scorer, self.k, self.confidence_mode = retriever, scorer, k, confidence
        self.kb = retriever.kb
        if hasattr(scorer, "prepare"):
            scorer.prepare(self.kb)  # the KB side is encoded once, here

    def rerank(self, query: str) -> tuple[list[tuple[dict, float]], float]:
        """All k candidates, reordered, each with its reranker logit; and the confidence."""
        r = self.retriever.rank(query)
        top = r.order[: max(self.k, 1)]
        entries = [self.kb[i] for i in top]
        logits = np.asarray(self.scorer.score(query, entries, r.scores[top]), np.float64)
        order = np.argsort(-logits, kind="stable")
        hits = [(entries[i], float(logits[i])) for i in order]
        if self.retriever._features(r)["mismatch"]:
            return hits, 0.0
        if self.confidence_mode == "sigmoid":
            return hits, float(1.0 / (1.0 + np.exp(-logits[order[0]])))
        z = np.exp(logits - logits.max())
        return hits, float(z.max() / z.sum())

    def search(self, query: str, k: int = 3) -> list[tuple[dict, float]]:
        return self.rerank(query)[0][:k]

    def confidence(self, query: str) -> float:
        return self.rerank(query)[1]

    def search_with_confidence(self, query: str, k: int = 3) -> tuple[list[tuple[dict, float]], float]:
        hits, conf = self.rerank(query)
        return hits[:k], conf

    def top_correct(self, queries, issue_ids) -> np.ndarray:
        return np.array([int(iid is not None and self.search(q, 1)[0][0]["issue_id"] == iid)
                         for q, iid in zip(queries, issue_ids)])


def load_reranked_retriever(retriever: Retriever, model_dir) -> RerankedRetriever:
    """BM25 + the reranker saved in `model_dir` (`distill.rerank.stage` writes `<out>/model`),
    with the k and confidence mode its training run recorded."""
    from models.reranker import load_reranker

    scorer = load_reranker(model_dir)
    return RerankedRetriever(retriever, scorer, k=int(scorer.meta.get("k", 10)),
                             confidence=scorer.meta.get("confidence", "sigmoid"))
