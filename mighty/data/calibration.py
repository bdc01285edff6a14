"""Calibrated retrieval confidence: the fit every stage and the demo use, and how to judge it.

`calibrated_retriever(kb, method, train)` fits `Retriever.calibrate` on training-split
questions only (the frozen eval's cases never: they are what the calibration is judged on):
the in-scope prompts whose issue is in the KB, and the out-of-scope pseudo-issues
(`data.corpus.scope`) as questions whose top hit is always wrong. The fit is cached per
(KB, method, questions), so every Grounder built in a process shares one fit (~1 s).

`expected_calibration_error` and `reliability_bins` are the standard equal-width-bin measures:
ECE = Σ_b (n_b / n) · |acc_b − conf_b| over bins [0, 1/B), ..., [(B−1)/B, 1].
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from typing import Sequence

import numpy as np

from mighty.data import hazard as hazard_rule
from mighty.data.retrieval import Retriever

log = logging.getLogger(__name__)


def reliability_bins(conf: Sequence[float], correct: Sequence[float], n_bins: int = 10) -> list[dict]:
    """Per equal-width confidence bin: {lo, hi, n, confidence (mean), accuracy (mean)}; the last
    bin holds 1.0. Empty bins have n 0 and None means."""
    conf_n, correct_n = np.asarray(conf, np.float64), np.asarray(correct, np.float64)
    if conf_n.shape != correct_n.shape or conf_n.ndim != 1:
        raise ValueError(f"conf and correct must be 1-D of one length, got {conf_n.shape} and {correct_n.shape}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    idx_n = np.minimum((conf_n * n_bins).astype(int), n_bins - 1)  # [n] bin of each confidence
    out = []
    for b in range(n_bins):
        m = idx_n == b
        out.append({"lo": b / n_bins, "hi": (b + 1) / n_bins, "n": int(m.sum()),
                    "confidence": float(conf_n[m].mean()) if m.any() else None,
                    "accuracy": float(correct_n[m].mean()) if m.any() else None})
    return out


def expected_calibration_error(conf: Sequence[float], correct: Sequence[float], n_bins: int = 10) -> float:
    """Σ_b (n_b / n) · |accuracy_b − mean confidence_b| over equal-width bins (0 for no data)."""
    bins = reliability_bins(conf, correct, n_bins)
    n = sum(b["n"] for b in bins)
    return float(sum(b["n"] / n * abs(b["accuracy"] - b["confidence"]) for b in bins if b["n"])) if n else 0.0


def calibration_questions(kb: Sequence[dict], prompts: Sequence[dict]) -> tuple[list[str], list[str | None]]:
    """(questions, gold issue ids; None for out of scope) of `prompts` the KB can be judged on."""
    from mighty.data.corpus.scope import is_out_of_scope

    ids = {e["issue_id"] for e in kb}
    keep = [p for p in prompts if p["issue_id"] in ids or is_out_of_scope(p["issue_id"])]
    return [p["question"] for p in keep], [None if is_out_of_scope(p["issue_id"]) else p["issue_id"]
                                          for p in keep]


def _fingerprint(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


_FITS: dict[str, dict | None] = {}


def calibrated_retriever(kb: Sequence[dict], method: str = "bm25", train: Sequence[dict] | None = None,
                         *, hazard: bool = True, hazard_threshold: float = hazard_rule.THRESHOLD,
                         hazard_ratio: float = hazard_rule.RATIO) -> Retriever:
    """A device-aware `Retriever` over `kb` whose confidence is calibrated on `train` (training
    prompts; None: the default data build's training split). When the prompts give no fit
    (no question of the KB's issues, or no wrong or no right top hit, as with a toy KB), the
    confidence stays the uncalibrated softmax, with a warning. `hazard`: the ranking puts a
    close second safety entry first for a question that reads as a hazard (`data.hazard`, its
    classifier fitted on the same `train`; left off, with a warning, when `train` has no hazard)."""
    r = Retriever(kb, method=method)
    if train is None:
        from mighty.data import load_prompts

        train = load_prompts("train")
    qs, ids = calibration_questions(kb, train)
    key = _fingerprint([kb, method, qs, ids])
    if key not in _FITS:
        try:
            _FITS[key] = r.calibrate(qs, ids)
            log.info("retrieval calibration (%s, %d training questions): %s", method, len(qs), _FITS[key])
        except ValueError as e:
            log.warning("retrieval confidence left uncalibrated (%d usable training questions): %s", len(qs), e)
            _FITS[key] = None
    fit = _FITS[key]
    if fit is not None:
        r.calibration = {k: fit[k] for k in ("features", "coef", "intercept")}
    if hazard:
        r.hazard = _hazard_preference(kb, train, hazard_threshold, hazard_ratio)
    return r


def _hazard_preference(kb, train, threshold: float, ratio: float) -> hazard_rule.HazardPreference | None:
    try:
        classifier = hazard_rule.fit_hazard_classifier(kb, train)
    except ValueError as e:  # no hazard (or only hazards) among the training questions
        log.warning("retrieval left without the hazard preference: %s", e)
        return None
    return hazard_rule.HazardPreference(classifier, threshold, ratio)


def calibration_report(retriever: Retriever, queries: Sequence[str], issue_ids: Sequence[str | None],
                       n_bins: int = 10) -> dict:
    """ECE and reliability bins of `retriever`'s confidence in its top hit over `queries` (None
    issue: out of scope), calibrated and raw (the same ranking's uncalibrated softmax)."""
    import copy

    raw = copy.copy(retriever)
    raw.calibration = None
    correct = retriever.top_correct(queries, issue_ids)
    out = {"n": len(queries), "n_bins": n_bins, "top1_accuracy": float(correct.mean()) if len(correct) else None,
           "calibrated": retriever.calibration is not None}
    for name, r in (("raw", raw), ("calibrated", retriever)):
        conf = [r.confidence(q) for q in queries]
        out[f"ece_{name}"] = expected_calibration_error(conf, correct, n_bins)
        out[f"bins_{name}"] = reliability_bins(conf, correct, n_bins)
    return out
