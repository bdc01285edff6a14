"""Ranking metrics over candidate lists (one relevant item per question) and their CIs.

With the gold at 0-based position p of a system's order (−1: not among the candidates):
recall@k = [0 <= p < k]; NDCG@k = 1 / log2(p + 2) for 0 <= p < k, else 0 (the ideal DCG of a
single relevant item is 1). Rerankers only reorder BM25's candidates, so a gold BM25 missed
counts 0 for every system.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mighty.runtime.ci import bootstrap, paired_bootstrap


def order_by(scores_qk: np.ndarray) -> np.ndarray:
    """Candidate positions best first; ties keep the BM25 order (stable sort)."""
    return np.argsort(-np.asarray(scores_qk), axis=-1, kind="stable")


def gold_positions(order_qk: np.ndarray, label_qk: np.ndarray) -> np.ndarray:
    """[Q] 0-based rank of the gold candidate under `order_qk`, −1 when none is gold."""
    rel_qk = np.take_along_axis(np.asarray(label_qk), np.asarray(order_qk), -1) > 0
    return np.where(rel_qk.any(-1), rel_qk.argmax(-1), -1)


def recall_at(pos_q: np.ndarray, k: int) -> np.ndarray:
    return ((pos_q >= 0) & (pos_q < k)).astype(np.float64)


def ndcg_at(pos_q: np.ndarray, k: int = 10) -> np.ndarray:
    ok = (pos_q >= 0) & (pos_q < k)
    return np.where(ok, 1.0 / np.log2(np.maximum(pos_q, 0) + 2.0), 0.0)


def per_question(order_qk: np.ndarray, label_qk: np.ndarray) -> dict[str, np.ndarray]:
    pos = gold_positions(order_qk, label_qk)
    return {"recall@1": recall_at(pos, 1), "recall@3": recall_at(pos, 3), "ndcg@10": ndcg_at(pos, 10)}


def summarise(systems: dict[str, dict[str, np.ndarray]], baseline: str, n_boot: int, seed: int) -> dict:
    """Each system's metric with a bootstrap CI, and each other system − `baseline` paired."""
    out = {"systems": {}, "vs_" + baseline: {}}
    for name, per in systems.items():
        out["systems"][name] = {m: bootstrap(v, n_boot=n_boot, seed=seed).as_dict() for m, v in per.items()}
        if name != baseline:
            out["vs_" + baseline][name] = {
                m: paired_bootstrap(v, systems[baseline][m], n_boot=n_boot, seed=seed).as_dict()
                for m, v in per.items()}
    return out


def latency_ms(seconds: Sequence[float], skip_first: bool = True) -> dict:
    s = np.asarray(seconds, np.float64)[1:] if skip_first and len(seconds) > 1 else np.asarray(seconds)
    return {"p50_ms": float(np.median(s) * 1e3), "p95_ms": float(np.quantile(s, 0.95) * 1e3),
            "mean_ms": float(s.mean() * 1e3), "n": int(s.size)}
