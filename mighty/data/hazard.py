"""Hazard-aware ranking: a safety entry the question describes is shown even when BM25 ranks it
just behind a routine entry of the same device.

BM25 ranks by shared words. A hazard told in words its entry does not use ("the charging case is
warm and bulging near the hinge" against the entry "Charging case swollen or hot") can rank its
safety entry second, behind a routine entry that shares more words ("battery drains in the
case"); the student, shown the routine entry or nothing, never tells the user to stop.
`HazardClassifier` reads the question itself: P(it is about a safety issue), a logistic
regression over word 1-2-grams and character 3-5-grams fitted on the training questions, each
labelled by its issue's KB `safety` flag (out-of-scope questions are not hazards; the frozen
eval is never seen). `HazardPreference.reorder` moves the best-ranked safety entry among the
top `pool` to the front when the classifier says hazard (P >= `threshold`) and that entry
scores at least `ratio` x the top hit's. Scores are unchanged, so the retrieval confidence
(`Retriever._confidence`) is too.

`threshold` and `ratio` were chosen by 5-fold cross-validation grouped by issue over the
training and val questions (3,221; 125 about a hazard, 38 of which BM25 does not rank their
entry first): at 0.5 and 0.7 the rule puts 3 more hazards' own entry first (and another safety
entry before one more) and a safety entry before no routine or out-of-scope question. Ratio 0
cost 3 routine questions; threshold 0.7 rescued 2.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

THRESHOLD = 0.5  # P(hazard | question) from which a second-ranked safety entry may go first
RATIO = 0.7      # ... if it scores at least this fraction of the top hit's score
POOL = 3         # how deep in the ranking it may come from


class HazardClassifier:
    """P(a question is about a safety issue), from its words and character n-grams."""

    def __init__(self, pipeline):
        self.pipeline = pipeline

    @classmethod
    def fit(cls, questions: Sequence[str], is_hazard: Sequence[bool], *, c: float = 4.0) -> "HazardClassifier":
        """Fits on labelled questions; both labels must occur. `class_weight="balanced"` because
        hazards are ~4% of the training questions."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        if len(questions) != len(is_hazard):
            raise ValueError(f"HazardClassifier.fit: {len(questions)} questions but {len(is_hazard)} labels")
        if len(set(map(bool, is_hazard))) < 2:
            raise ValueError("HazardClassifier.fit needs questions of both kinds (hazard and not); "
                             "the training split has no safety issue, or only safety issues")
        features = make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            # character n-grams carry a hazard word across its forms ("bulging"/"bulge", "scorched")
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2))
        model = make_pipeline(features, LogisticRegression(C=c, max_iter=2000, class_weight="balanced"))
        return cls(model.fit(list(questions), np.asarray(is_hazard, int)))

    def probability(self, question: str) -> float:
        return float(self.pipeline.predict_proba([question])[0, 1])


def hazard_questions(kb: Sequence[dict], prompts: Sequence[dict]) -> tuple[list[str], list[bool]]:
    """(questions, is about a hazard) of the `prompts` whose issue is in the KB or out of scope."""
    from mighty.data.corpus.scope import is_out_of_scope

    safety = {e["issue_id"]: bool(e.get("safety")) for e in kb}
    keep = [p for p in prompts if p["issue_id"] in safety or is_out_of_scope(p["issue_id"])]
    return [p["question"] for p in keep], [safety.get(p["issue_id"], False) for p in keep]


_FITS: dict[str, HazardClassifier] = {}


def fit_hazard_classifier(kb: Sequence[dict], prompts: Sequence[dict]) -> HazardClassifier:
    """The classifier fitted on `prompts` (training questions), cached per (KB safety flags,
    questions) so every retriever built in a process shares one fit (~2 s on 2,900 questions)."""
    qs, ys = hazard_questions(kb, prompts)
    key = hashlib.sha256(json.dumps([qs, ys]).encode()).hexdigest()
    if key not in _FITS:
        _FITS[key] = HazardClassifier.fit(qs, ys)
        log.info("hazard classifier fitted on %d training questions (%d hazards)", len(qs), sum(ys))
    return _FITS[key]


@dataclasses.dataclass
class HazardPreference:
    """The rule `Retriever.rank` applies when set (`Retriever.hazard`)."""

    classifier: HazardClassifier
    threshold: float = THRESHOLD
    ratio: float = RATIO
    pool: int = POOL

    def __post_init__(self):
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"hazard threshold must be in [0, 1], got {self.threshold}")
        if not 0.0 <= self.ratio <= 1.0:
            raise ValueError(f"hazard ratio must be in [0, 1], got {self.ratio}")
        if self.pool < 2:
            raise ValueError(f"hazard pool must be >= 2 (the top hit and one below it), got {self.pool}")

    def reorder(self, question: str, order: np.ndarray, scores: np.ndarray, safety: np.ndarray,
                tier: np.ndarray) -> np.ndarray:
        """`order` with the first safety entry of its top `pool` moved to the front, when the top
        hit is not a safety entry, the question reads as a hazard, and the safety entry matches a
        word, is in the top hit's tier (a named device's entry) and scores >= ratio x the top hit's."""
        top = order[0]
        if safety[top]:
            return order
        below = [j for j in range(1, min(self.pool, len(order))) if safety[order[j]] and scores[order[j]] > 0
                 and tier[order[j]] >= tier[top] and scores[order[j]] >= self.ratio * scores[top]]
        if not below or self.classifier.probability(question) < self.threshold:
            return order
        j = below[0]
        return np.concatenate([order[j:j + 1], order[:j], order[j + 1:]])


def hazard_moves(retriever, cases: Sequence[dict]) -> list[dict]:
    """The `cases` whose top hit the retriever's hazard preference changed (none without one):
    case id, expected behaviour, BM25's own top issue and the one put first. What the report
    shows, so a safety entry put before a routine question is seen, not averaged away."""
    if getattr(retriever, "hazard", None) is None:
        return []
    plain = copy.copy(retriever)
    plain.hazard = None
    moves = []
    for c in cases:
        before, after = (r.search(c["question"], 1)[0][0]["issue_id"] for r in (plain, retriever))
        if before != after:
            moves.append({"case_id": c.get("case_id"), "expected": c.get("expected"),
                          "bm25_top": before, "top": after})
    return moves
