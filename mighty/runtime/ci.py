"""Bootstrap confidence intervals: every number in a report carries one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its percentile-bootstrap 95% CI."""

    value: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"

    def as_dict(self) -> dict:
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high, "n": self.n}

    @classmethod
    def from_dict(cls, d: dict) -> "Estimate":
        """The inverse of `as_dict` (a results.json entry)."""
        return cls(d["value"], d["ci_low"], d["ci_high"], d["n"])


def bootstrap(values: Sequence[float], *, stat: Callable[[np.ndarray], float] = np.mean,
              n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> Estimate:
    """Percentile bootstrap of `stat` over items (resampling items with replacement)."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"bootstrap needs a non-empty 1-D sample, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        bad = np.flatnonzero(~np.isfinite(x))[:10].tolist()
        raise ValueError(f"bootstrap sample has non-finite values at items {bad}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))  # (n_boot, n)
    stats = np.apply_along_axis(stat, 1, x[idx]) if stat is not np.mean else x[idx].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return Estimate(float(stat(x)), float(low), float(high), int(x.size))


def bootstrap_indices(n: int, fn: Callable[[np.ndarray], float], *, n_boot: int = 2000,
                      level: float = 0.95, seed: int = 0) -> Estimate:
    """Percentile bootstrap of any statistic `fn(item_indices)` over `n` items — for ratios
    such as precision, recall or perplexity that are not means of per-item values.
    Resamples where `fn` is undefined (NaN) are excluded."""
    if n <= 0:
        raise ValueError("bootstrap_indices needs at least one item")
    rng = np.random.default_rng(seed)
    stats = np.array([fn(rng.integers(0, n, size=n)) for _ in range(n_boot)], np.float64)
    stats = stats[np.isfinite(stats)]
    value = float(fn(np.arange(n)))
    if stats.size == 0:
        return Estimate(value, float("nan"), float("nan"), n)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return Estimate(value, float(low), float(high), n)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], **kw) -> Estimate:
    """CI of mean(a - b) over the same items (e.g. student vs teacher on one eval set).

    Resampling the per-item differences is resampling the item indices once and applying them
    to both systems: mean(a[idx]) - mean(b[idx]) == mean((a - b)[idx]). So the CI carries the
    correlation between the systems (both easy and hard items move together), unlike two
    independent CIs. Items where either value is missing (NaN) are dropped from both."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired bootstrap needs two equal 1-D samples, got {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    return bootstrap(a[ok] - b[ok], **kw)


def resolved(est: Estimate) -> bool:
    """A difference is resolved when its CI excludes 0; otherwise the data show no finding."""
    return bool(np.isfinite(est.low) and np.isfinite(est.high) and (est.low > 0 or est.high < 0))


# z_{1-α/2} + z_{power} for α = 0.05 (two-sided) and 80 % power: 1.960 + 0.842 = 2.80
MDD_FACTOR = 2.8


def min_detectable_difference(a: Sequence[float], b: Sequence[float], *, factor: float = MDD_FACTOR) -> float:
    """Smallest true mean difference a paired test over these items detects with 80 % power at
    α = 0.05: MDD = (z_0.975 + z_0.80) · SD(a − b) / √n ≈ 2.8 · SD_paired / √n (SD with ddof=1).
    A real effect smaller than this will usually read "not resolved" at this eval size."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    if d.size < 2:
        return float("nan")
    return float(factor * d.std(ddof=1) / np.sqrt(d.size))


def gap_recovered(student: Sequence[float], base: Sequence[float], teacher: Sequence[float], *,
                  n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> Estimate:
    """Fraction of the teacher–base gap a student recovers: (S − B) / (T − B), paired over items.

    Items are resampled jointly so the CI reflects the correlation between the three systems.
    The CI is undefined when a resample has T == B; such resamples are excluded and counted.
    """
    s, b, t = (np.asarray(v, np.float64) for v in (student, base, teacher))
    if not (s.shape == b.shape == t.shape) or s.ndim != 1:
        raise ValueError(f"gap_recovered needs three equal 1-D samples, got {s.shape}, {b.shape}, {t.shape}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, s.size, size=(n_boot, s.size))
    num = s[idx].mean(1) - b[idx].mean(1)
    den = t[idx].mean(1) - b[idx].mean(1)
    ok = np.abs(den) > 1e-12
    point_den = t.mean() - b.mean()
    value = float((s.mean() - b.mean()) / point_den) if abs(point_den) > 1e-12 else float("nan")
    if not ok.any():
        return Estimate(value, float("nan"), float("nan"), int(s.size))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(num[ok] / den[ok], [tail, 1.0 - tail])
    return Estimate(value, float(low), float(high), int(s.size))
