"""Router metrics: macro-F1, per-class recall, expected calibration error, latency, and the
paired bootstrap of rare-class recall (blend − hard)."""
from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np


def ece(p_nc: np.ndarray, y_n: np.ndarray, n_bins: int = 15) -> float:
    """Top-label expected calibration error: Σ_b |B|/N · |acc(B) − conf(B)| over equal-width
    confidence bins (the first bin closed at 0)."""
    conf_n, pred_n = p_nc.max(1), p_nc.argmax(1)
    correct_n = (pred_n == y_n).astype(float)
    bins_n = np.clip(np.ceil(conf_n * n_bins).astype(int) - 1, 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        m = bins_n == b
        if m.any():
            total += m.mean() * abs(correct_n[m].mean() - conf_n[m].mean())
    return float(total)


def classification_metrics(p_nc: np.ndarray, y_n: np.ndarray, labels: Sequence[str],
                           rare: Sequence[str]) -> dict:
    from sklearn.metrics import f1_score, recall_score

    pred_n = p_nc.argmax(1)
    ks = list(range(len(labels)))
    recall = recall_score(y_n, pred_n, labels=ks, average=None, zero_division=0)
    per_class = {name: float(r) for name, r in zip(labels, recall)}
    return {"macro_f1": float(f1_score(y_n, pred_n, labels=ks, average="macro", zero_division=0)),
            "accuracy": float((pred_n == y_n).mean()),
            "rare_recall": float(np.mean([per_class[r] for r in rare])) if rare else float("nan"),
            "ece": ece(p_nc, y_n), "per_class_recall": per_class}


def latency_ms(predict: Callable[[list[str]], object], texts: Sequence[str], *, warmup: int = 20,
               repeats: int = 1) -> dict:
    """p50/p95 wall time of routing one question at a time (warm-up calls first: jit compiles)."""
    for t in list(texts)[:warmup]:
        predict([t])
    ms = []
    for _ in range(repeats):
        for t in texts:
            t0 = time.perf_counter()
            predict([t])
            ms.append((time.perf_counter() - t0) * 1e3)
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "n": len(ms)}


def rare_recall_ci(pred_a_n: np.ndarray, pred_b_n: np.ndarray, y_n: np.ndarray, rare_ids: Sequence[int],
                   seed: int = 0, n_boot: int = 2000) -> dict:
    """Paired bootstrap of rare recall(a) − rare recall(b) over the rare-class eval items, where
    rare recall is what `classification_metrics` reports: the mean over rare classes of each
    class's recall (a resample that loses a class averages over the classes it kept)."""
    from mighty.runtime.ci import bootstrap_indices

    m = np.isin(y_n, list(rare_ids))
    if not m.any():
        return {"value": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": 0}
    y, hit_a, hit_b = y_n[m], (pred_a_n[m] == y_n[m]).astype(float), (pred_b_n[m] == y_n[m]).astype(float)

    def macro_diff(idx: np.ndarray) -> float:
        classes = np.unique(y[idx])
        return float(np.mean([hit_a[idx][y[idx] == c].mean() - hit_b[idx][y[idx] == c].mean() for c in classes]))

    return bootstrap_indices(len(y), macro_diff, seed=seed, n_boot=n_boot).as_dict()
