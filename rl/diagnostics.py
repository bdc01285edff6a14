"""Per-GRPO-step reward diagnostics: pure host-side NumPy functions (no JAX, no logging).

They catch reward hacking early: a reward that rises while its correlation with length does
too (verbosity hacking), a judge that stops agreeing with the rubric, collapsing diversity
(distinct-n), filler boilerplate, and completions that drift off the prompt's topic.
`step_diagnostics` gathers them as `diag/...` metrics; `sample_table` + `write_jsonl` keep a
few rows per step for reading.

Undefined statistics (a correlation with a constant input, distinct-n of no n-grams) are
reported as 0.0, never NaN, so they can be logged and plotted; the docstrings say when.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rewards.textproc import (DEVICE_VOCAB, FILLER_PHRASES, SYMPTOM_VOCAB, content_words,
                              count_filler, domain_keywords, words)


def component_stats(components: Mapping[str, np.ndarray], prefix: str = "diag") -> dict[str, float]:
    """`<prefix>/<name>/mean` and `/std` (population std) per reward component."""
    out = {}
    for name, r in components.items():
        r = np.asarray(r, np.float64)
        out[f"{prefix}/{name}/mean"] = float(r.mean()) if r.size else 0.0
        out[f"{prefix}/{name}/std"] = float(r.std()) if r.size else 0.0
    return out


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation; 0.0 when either input is constant or has < 2 items."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape:
        raise ValueError(f"pearson: shapes differ {x.shape} vs {y.shape}")
    if x.size < 2:
        return 0.0
    dx, dy = x - x.mean(), y - y.mean()
    den = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return float(dx @ dy / den) if den > 0 else 0.0


def rankdata(x: Sequence[float]) -> np.ndarray:
    """1-based ranks with ties given their average rank (as scipy.stats.rankdata)."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size, np.float64)
    i = 0
    while i < x.size:
        j = i
        while j + 1 < x.size and x[order[j + 1]] == x[order[i]]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(rankdata(x), rankdata(y))


def correlation_matrix(components: Mapping[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """(names, C) with C[i, j] = Pearson(component i, component j); diagonal 1."""
    names = list(components)
    c = np.eye(len(names))
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            c[i, j] = c[j, i] = pearson(components[names[i]], components[names[j]])
    return names, c


def judge_rubric_disagreement(judge: Sequence[float], rubric: Sequence[float], *,
                              judge_max: float = 10.0, rubric_max: float = 1.0) -> dict[str, float]:
    """Mean |judge/judge_max - rubric/rubric_max| and the Spearman rank correlation."""
    j = np.asarray(judge, np.float64) / judge_max
    r = np.asarray(rubric, np.float64) / rubric_max
    return {"mean_abs_diff": float(np.mean(np.abs(j - r))) if j.size else 0.0,
            "spearman": spearman(j, r)}


def distinct_n(completions: Sequence[str], n: int) -> float:
    """Distinct n-grams / total n-grams over the batch (Li et al. 2016); 0.0 if none."""
    total, seen = 0, set()
    for c in completions:
        w = words(c)
        grams = [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def boilerplate_rate(completions: Sequence[str], phrases: Iterable[str] = FILLER_PHRASES) -> float:
    """Fraction of completions containing at least one stock filler phrase."""
    phrases = tuple(phrases)
    if not completions:
        return 0.0
    return sum(count_filler(c, phrases) > 0 for c in completions) / len(completions)


def off_topic_mask(prompts: Sequence[str], completions: Sequence[str],
                   vocab: Iterable[str] = DEVICE_VOCAB | SYMPTOM_VOCAB) -> np.ndarray:
    """True where a completion shares no device/symptom keyword with its prompt.

    Keywords are the prompt's stemmed words in the device/symptom lexicon; a prompt with
    none of those falls back to its content words (non-stop-words of ≥ 3 letters).
    """
    vocab = frozenset(vocab)
    out = np.zeros(len(completions), bool)
    for i, (p, c) in enumerate(zip(prompts, completions)):
        keys = domain_keywords(p, vocab) or content_words(p)
        out[i] = bool(keys) and not (keys & (domain_keywords(c, vocab) | content_words(c)))
    return out


def length_stats(lengths: Sequence[float], truncated: Sequence[bool] | None = None) -> dict[str, float]:
    """mean/std/min/max/p50/p90 of completion lengths (+ truncated fraction if given)."""
    x = np.asarray(lengths, np.float64)
    if x.size == 0:
        return {}
    out = {"mean": float(x.mean()), "std": float(x.std()), "min": float(x.min()),
           "max": float(x.max()), "p50": float(np.percentile(x, 50)),
           "p90": float(np.percentile(x, 90))}
    if truncated is not None:
        out["truncated_frac"] = float(np.mean(np.asarray(truncated, bool)))
    return out


def step_diagnostics(prompts: Sequence[str], completions: Sequence[str],
                     components: Mapping[str, np.ndarray], lengths: Sequence[float], *,
                     total: Sequence[float] | None = None, judge: Sequence[float] | None = None,
                     rubric: Sequence[float] | None = None, judge_max: float = 10.0,
                     truncated: Sequence[bool] | None = None) -> dict[str, float]:
    """All `diag/...` metrics for one GRPO step (flat dict of floats)."""
    m = component_stats(components)
    names, c = correlation_matrix(components)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            m[f"diag/corr/{names[i]}__{names[j]}"] = float(c[i, j])
    rew = total if total is not None else sum(np.asarray(v, np.float64) for v in components.values())
    m["diag/reward_length_corr"] = pearson(rew, lengths)
    for name, r in components.items():
        m[f"diag/{name}/length_corr"] = pearson(r, lengths)
    if judge is not None and rubric is not None:
        d = judge_rubric_disagreement(judge, rubric, judge_max=judge_max)
        m["diag/judge_rubric/mean_abs_diff"] = d["mean_abs_diff"]
        m["diag/judge_rubric/spearman"] = d["spearman"]
    m["diag/distinct_1"] = distinct_n(completions, 1)
    m["diag/distinct_2"] = distinct_n(completions, 2)
    m["diag/boilerplate_rate"] = boilerplate_rate(completions)
    m["diag/off_topic_rate"] = float(np.mean(off_topic_mask(prompts, completions))) if completions else 0.0
    m.update({f"diag/length/{k}": v for k, v in length_stats(lengths, truncated).items()})
    return m


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None  # JSON has no NaN/inf
    return v


def sample_table(prompts: Sequence[str], completions: Sequence[str],
                 components: Mapping[str, np.ndarray], *, total: Sequence[float] | None = None,
                 step: int | None = None, k: int | None = None,
                 extra: Mapping[str, Sequence[Any]] | None = None) -> list[dict[str, Any]]:
    """Rows {step, index, prompt, completion, reward/<name>..., total, extra...} for the first k."""
    n = len(completions) if k is None else min(k, len(completions))
    rows = []
    for i in range(n):
        row: dict[str, Any] = {"step": step, "index": i, "prompt": prompts[i],
                               "completion": completions[i]}
        row.update({f"reward/{name}": _plain(np.asarray(r)[i]) for name, r in components.items()})
        if total is not None:
            row["reward/total"] = _plain(np.asarray(total)[i])
        for key, vals in (extra or {}).items():
            row[key] = _plain(vals[i])
        rows.append(row)
    return rows


def write_jsonl(rows: Iterable[Mapping[str, Any]], path: str | Path, append: bool = True) -> Path:
    """Write rows as JSON lines (appending by default, one step after another)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
    return path
