"""BM25 + a distilled reranker behind the `data.retrieval.Retriever` interface.

`RerankedRetriever(retriever, scorer, k)`: the (device-aware) BM25 retriever proposes its top
k entries, the scorer (`models.reranker.RerankScorer`, or anything with its `score(question,
entries, lexical_scores) -> logits`) reorders them. The confidence in the top hit is read from
the reranker's logits:
  * "sigmoid" (what the stage's default writes into the artefact's meta): σ(top logit), the
    student's own relevance probability (the MSE pulls it toward the teacher's p(Yes), the
    listwise term only orders). On the frozen eval's in-scope + out-of-scope cases its ECE was
    0.086, against 0.241 for the softmax and 0.151 for BM25's calibrated confidence;
  * "softmax": the softmax probability of the top candidate over the k logits;
  * a logistic calibration (`calibrate`, what the demo and the pipeline use): P(top hit correct
    | top logit, margin to the second) fitted on questions of issues the reranker never trained
    on (the val split, plus out-of-scope questions whose top hit is always wrong), because σ of
    a logit trained toward a flat 135M teacher's p(Yes) says little about being right (0.017 on
    a correct hit for the issue's bluetooth-speaker example).
Either way a question naming a device whose entries match none of its words keeps confidence 0
(the BM25 rule: a device mismatch is never a confident hit). `distill.rerank.stage` measures
both confidences' ECE on the frozen eval and records them in its results.json.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mighty.data.retrieval import Retriever

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
        self.calibration: dict | None = None  # {"coef": [2], "intercept"} once `calibrate` ran
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
        if self.calibration is not None:
            z = float(np.dot(self.calibration["coef"], _calibration_features(logits[order]))
                      + self.calibration["intercept"])
            return hits, float(1.0 / (1.0 + np.exp(-z)))
        if self.confidence_mode == "sigmoid":
            return hits, float(1.0 / (1.0 + np.exp(-logits[order[0]])))
        z = np.exp(logits - logits.max())
        return hits, float(z.max() / z.sum())

    def calibrate(self, queries, issue_ids) -> dict:
        """Fit P(top hit correct | top logit, margin) by logistic regression over `queries`
        (issue None: out of scope, never correct); questions whose top hit contradicts the
        device they name are left out (their confidence is 0 by rule). Returns the fit."""
        from sklearn.linear_model import LogisticRegression

        x, y = [], []
        self.calibration = None
        for q, iid in zip(queries, issue_ids):
            hits, conf = self.rerank(q)
            if conf == 0.0 and self.retriever._features(self.retriever.rank(q))["mismatch"]:
                continue
            x.append(_calibration_features(np.array([h[1] for h in hits])))
            y.append(int(iid is not None and hits[0][0]["issue_id"] == iid))
        if len(set(y)) < 2:
            raise ValueError("RerankedRetriever.calibrate needs both correct and wrong top hits")
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(np.array(x), np.array(y))
        self.calibration = {"coef": [float(c) for c in lr.coef_[0]], "intercept": float(lr.intercept_[0])}
        return {**self.calibration, "n": len(y), "accuracy": float(np.mean(y))}

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


def _calibration_features(sorted_logits_k: np.ndarray) -> list[float]:
    """[top logit, margin to the second] of logits sorted best first."""
    second = sorted_logits_k[1] if len(sorted_logits_k) > 1 else sorted_logits_k[0]
    return [float(sorted_logits_k[0]), float(sorted_logits_k[0] - second)]


def load_reranked_retriever(retriever: Retriever, model_dir, calibrate_on: tuple | None = None) -> RerankedRetriever:
    """BM25 + the reranker saved in `model_dir` (`distill.rerank.stage` writes `<out>/model`),
    with the k and confidence mode its training run recorded; `calibrate_on` = (questions, issue
    ids) fits the logistic confidence (`calibrate`)."""
    from mighty.models.reranker import load_reranker

    scorer = load_reranker(model_dir)
    rr = RerankedRetriever(retriever, scorer, k=int(scorer.meta.get("k", 10)),
                           confidence=scorer.meta.get("confidence", "sigmoid"))
    if calibrate_on is not None:
        rr.calibrate(*calibrate_on)
    return rr


def calibrated_reranked_retriever(kb, model_dir) -> RerankedRetriever:
    """What the demo and the pipeline's eval serve: the calibrated device-aware BM25 retriever
    (data.calibration) + the reranker in `model_dir`, its confidence calibrated on the val
    split's questions (issues the reranker never trained on) and the training split's
    out-of-scope questions."""
    from mighty.data import load_prompts
    from mighty.data.calibration import calibrated_retriever, calibration_questions
    from mighty.data.corpus.scope import is_out_of_scope

    train = load_prompts("train")
    held = load_prompts("val") + [p for p in train if is_out_of_scope(p["issue_id"])]
    return load_reranked_retriever(calibrated_retriever(kb, train=train), model_dir,
                                   calibrate_on=calibration_questions(kb, held))
