"""Domain-aware sampling: up-weight the device types where the student lags the teacher most.

Gap of device d: the token-weighted mean forward KL(p_teacher ‖ q_student) (T = 1, top-K +
tail) on a held-out probe slice of that device. New weights, with temperature τ and floor ε:

  mode="power":    w_d ∝ gap_d^(1/τ)          τ = 1: proportional to the gap; τ → ∞: uniform;
                                                τ → 0: all weight on the worst device.
  mode="softmax":  w_d = softmax(gap_d / τ)    shift-invariant; τ in the units of the KL.
  then             w_d ← (1 − ε)·w_d + ε/D     so no device is ever starved.

The weights are probabilities over devices (not over examples): each device's share of the
batches, whatever its example count.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Mapping, Sequence

import numpy as np


def domain_weights(gaps: Mapping[str, float], *, tau: float, mode: str = "power",
                   floor: float = 0.0) -> dict[str, float]:
    names = sorted(gaps)
    g = np.array([max(float(gaps[n]), 0.0) for n in names], np.float64)
    if mode == "power":
        if g.sum() <= 0:
            w = np.ones_like(g)
        else:
            logw = np.where(g > 0, np.log(np.maximum(g, 1e-30)) / tau, -np.inf)
            w = np.exp(logw - logw.max())
    elif mode == "softmax":
        z = g / tau
        w = np.exp(z - z.max())
    else:
        raise ValueError(f"domain_weights: unknown mode {mode!r}; use 'power' or 'softmax'")
    w = w / w.sum()
    w = (1.0 - floor) * w + floor / len(w)
    return {n: float(x) for n, x in zip(names, w)}


def gaps_by_domain(devices: Sequence[str], kl: np.ndarray, tokens: np.ndarray) -> dict[str, float]:
    """Token-weighted mean KL per device from per-example KL (token means) and token counts."""
    num, den = defaultdict(float), defaultdict(float)
    for d, k, n in zip(devices, np.asarray(kl, np.float64), np.asarray(tokens, np.float64)):
        num[d] += k * n
        den[d] += n
    return {d: num[d] / max(den[d], 1.0) for d in num}


def measure_and_reweight(score_examples: Callable, probe: Sequence, *, tau: float, mode: str,
                         floor: float) -> tuple[dict[str, float], dict[str, float]]:
    """-> (gaps, weights). `score_examples(examples) -> dict(kl=[n], tokens=[n], ...)`."""
    s = score_examples(probe)
    gaps = gaps_by_domain([e.device_type for e in probe], s["kl"], s["tokens"])
    return gaps, domain_weights(gaps, tau=tau, mode=mode, floor=floor)


def weight_metrics(gaps: Mapping[str, float] | None, weights: Mapping[str, float]) -> dict:
    out = {f"kd/domain_weight/{d}": w for d, w in weights.items()}
    for d, g in (gaps or {}).items():
        out[f"kd/domain_gap/{d}"] = g
    return out
