"""Candidate lists for the reranker: BM25's top k (device-aware) per question, with labels.

Training questions come from the training split (`data.load_prompts("train")`: the eval's
issues are held out of it by `data.split`) and keep only those whose known issue is a KB entry;
the label of a candidate is 1 when it is that issue. The frozen eval's in-scope cases are the
test set: their issues are KB entries the reranker never trained on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mighty.data.retrieval import Retriever
from mighty.models.reranker import lexical_features


@dataclass(frozen=True)
class Candidates:
    questions: list[str]
    issue_ids: list[str | None]
    cand_qk: np.ndarray  # int32 KB indices, BM25 order (best first)
    bm25_qk: np.ndarray  # float64 BM25 scores (after the family preference)
    lex_qkf: np.ndarray  # float32 `models.reranker.lexical_features`
    label_qk: np.ndarray  # float32 1 at the gold issue
    bm25_seconds_q: np.ndarray  # BM25 ranking time per question

    def __len__(self) -> int:
        return len(self.questions)

    def gold_in_k(self) -> np.ndarray:
        return self.label_qk.max(-1) > 0


def build_candidates(retriever: Retriever, questions: Sequence[str], issue_ids: Sequence[str | None],
                     k: int) -> Candidates:
    if len(retriever.kb) < k:
        raise ValueError(f"rerank.k={k} exceeds the KB's {len(retriever.kb)} entries")
    kb_ids = np.array([e["issue_id"] for e in retriever.kb])
    cand, scores, secs = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        r = retriever.rank(q)
        secs.append(time.perf_counter() - t0)
        cand.append(r.order[:k])
        scores.append(r.scores[r.order[:k]])
    cand_qk = np.asarray(cand, np.int32).reshape(len(questions), k)
    bm25_qk = np.asarray(scores, np.float64).reshape(len(questions), k)
    label_qk = (kb_ids[cand_qk] == np.array(issue_ids, dtype=object)[:, None]).astype(np.float32)
    lex = np.stack([lexical_features(s) for s in bm25_qk]) if len(questions) else np.zeros((0, k, 3), np.float32)
    return Candidates(list(questions), list(issue_ids), cand_qk, bm25_qk, lex, label_qk, np.asarray(secs))


def training_questions(kb: Sequence[dict], prompts: Sequence[dict], limit: int, seed: int
                       ) -> tuple[list[str], list[str]]:
    """(questions, issue ids) of training prompts whose issue is in the KB; a seeded subset of
    `limit` of them when limit > 0."""
    ids = {e["issue_id"] for e in kb}
    keep = [p for p in prompts if p["issue_id"] in ids]
    if not keep:
        raise ValueError("no training prompt's issue is in the KB: nothing to learn relevance from")
    if 0 < limit < len(keep):
        pick = np.sort(np.random.default_rng(seed).choice(len(keep), limit, replace=False))
        keep = [keep[i] for i in pick]
    return [p["question"] for p in keep], [p["issue_id"] for p in keep]


def eval_cases(cases: Sequence[dict], kb: Sequence[dict], limit: int = 0) -> tuple[list[str], list[str]]:
    """The frozen eval's in-scope cases whose issue is a KB entry (all of them today)."""
    ids = {e["issue_id"] for e in kb}
    keep = [c for c in cases if c["bucket"] == "in_scope" and c.get("issue_id") in ids]
    keep = keep[:limit] if limit > 0 else keep
    return [c["question"] for c in keep], [c["issue_id"] for c in keep]
