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

from mighty.rewards.textproc import (DEVICE_VOCAB, FILLER_PHRASES, SYMPTOM_VOCAB, content_words,
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


def flat_group_share(r: Sequence[float], group_size: int, tol: float = 1e-9) -> float:
    """Share of the groups (consecutive blocks of `group_size` rows) in which `r` is constant
    (max − min ≤ tol). A component flat in a group gives that group no advantage signal: at 1.0
    for a whole run it never taught the policy anything."""
    r = np.asarray(r, np.float64)
    if group_size < 1 or r.size % group_size:
        raise ValueError(f"flat_group_share: {r.size} rows do not split into groups of {group_size}")
    if r.size == 0:
        return 0.0
    g = r.reshape(-1, group_size)
    return float(np.mean(g.max(axis=1) - g.min(axis=1) <= tol))


def step_diagnostics(prompts: Sequence[str], completions: Sequence[str],
                     components: Mapping[str, np.ndarray], lengths: Sequence[float], *,
                     total: Sequence[float] | None = None, judge: Sequence[float] | None = None,
                     rubric: Sequence[float] | None = None, judge_max: float = 10.0,
                     truncated: Sequence[bool] | None = None,
                     group_size: int | None = None) -> dict[str, float]:
    """All `diag/...` metrics for one GRPO step (flat dict of floats); with `group_size`,
    `diag/flat_share/<component>` too (rows come in groups of `group_size`)."""
    m = component_stats(components)
    if group_size:
        for name, r in {**components, **({"total": total} if total is not None else {})}.items():
            m[f"diag/flat_share/{name}"] = flat_group_share(r, group_size)
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


# ----------------------------------------------------------------------------- run flags


def dead_components(history: Sequence[Mapping[str, float]]) -> list[str]:
    """Components flat in every group of every logged step (`diag/flat_share/<c>` = 1
    throughout): constant for the whole run, so they contributed no gradient."""
    names = sorted({k.split("/", 2)[2] for row in history for k in row
                    if k.startswith("diag/flat_share/")})
    dead = []
    for name in names:
        shares = [row[f"diag/flat_share/{name}"] for row in history if f"diag/flat_share/{name}" in row]
        if shares and min(shares) >= 1.0:
            dead.append(name)
    return dead


def _ends(history: Sequence[Mapping[str, float]], key: str, window: int) -> tuple[float, float] | None:
    """Mean of `key` over the first and the last `window` rows that log it."""
    xs = [float(row[key]) for row in history if key in row]
    if len(xs) < 2:
        return None
    w = max(1, min(window, len(xs) // 2))
    return float(np.mean(xs[:w])), float(np.mean(xs[-w:]))


def length_hack(history: Sequence[Mapping[str, float]], *, shrink: float = 0.3,
                length_key: str = "diag/length/mean", tech_key: str = "reward/tech/mean",
                window: int = 3) -> dict[str, Any]:
    """Length hacking: answers shrink by more than `shrink` (first vs last `window` logged
    steps) while the technical reward does not rise. -> {flag, length_change, tech_change};
    flag is None when the history lacks either series."""
    length, tech = _ends(history, length_key, window), _ends(history, tech_key, window)
    if length is None or tech is None or length[0] <= 0:
        return {"flag": None, "length_change": None, "tech_change": None}
    change = length[1] / length[0] - 1.0
    gain = tech[1] - tech[0]
    return {"flag": bool(change < -shrink and gain <= 0), "length_change": change, "tech_change": gain}


def proxy_gain(history: Sequence[Mapping[str, float]], *, total_key: str = "reward/total/mean",
               tech_key: str = "reward/tech/mean", window: int = 3) -> dict[str, Any]:
    """The composite reward rises while its technical term falls (first vs last `window`
    logged values): GRPO is buying reward from the other components (language, length,
    repetition) with correctness. -> {flag, total_change, tech_change}; flag None without both."""
    total, tech = _ends(history, total_key, window), _ends(history, tech_key, window)
    if total is None or tech is None:
        return {"flag": None, "total_change": None, "tech_change": None}
    dt, dc = total[1] - total[0], tech[1] - tech[0]
    return {"flag": bool(dt > 0 and dc < 0), "total_change": dt, "tech_change": dc}


def run_flags(history: Sequence[Mapping[str, float]], *, shrink: float = 0.3) -> dict[str, Any]:
    """The run-level health flags the report shows: dead reward components, length hacking and
    proxy gain (judged on the held-out rewards when the run logged them, else the training ones)."""
    held_out = any("eval/reward/tech/mean" in r for r in history)
    prefix = "eval/" if held_out else ""
    tech, total = f"{prefix}reward/tech/mean", f"{prefix}reward/total/mean"
    return {"dead_components": dead_components(history),
            "length_hack": {**length_hack(history, shrink=shrink, tech_key=tech), "tech_key": tech},
            "proxy_gain": {**proxy_gain(history, total_key=total, tech_key=tech), "total_key": total,
                           "tech_key": tech}}


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
