"""Promotion gates: each a value, a threshold and pass / FAIL / n/a, read from an eval's results.

The thresholds come from config (the pipeline's `gate:` block, `GateConfig`); the values from
`results.json` of the eval stage, so a report can be re-gated without rerunning the eval.
A candidate is promoted only when every gate passes: a gate that cannot be measured (n/a, e.g.
teacher preference with a judge the canaries found INVALID) blocks promotion, and says why.

Cost and latency are per answer from the system's measured decode throughput:
compute_s = answer tokens / tokens per second, cost per 1,000 answers = 1000 · mean(compute_s)
· price per compute-second, and p50/p95 are percentiles of compute_s over the eval's answers.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class GateConfig:
    """The pipeline's `gate:` block."""

    min_teacher_preference: float = 0.45  # pairwise win rate vs the teacher (valid pairwise judge only)
    min_win_vs_base: float = 0.65         # vs the base student: pairwise judge if valid, else per-case accuracy
    max_accuracy_gap: float = 0.10        # teacher accuracy − candidate accuracy
    max_hallucination: float = 0.10       # share of answers naming steps, parts or settings absent from their KB entry
    max_escalation_miss: float = 0.20     # 1 − escalation recall
    min_cost_reduction: float = 0.50      # 1 − cost per 1,000 answers / teacher-only cost
    max_latency_p95_s: float = 2.0        # p95 decode seconds per answer

    @classmethod
    def from_dict(cls, d: Mapping[str, float]) -> "GateConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"gate config: unknown keys {unknown} (known: {sorted(known)}; "
                             f"see the `gate:` block of conf/pipeline.yaml)")
        return cls(**d)


@dataclasses.dataclass(frozen=True)
class GateResult:
    name: str
    value: float | None
    threshold: str
    status: str       # "pass" | "FAIL" | "n/a: <why>"
    source: str = ""  # where the value comes from, when it is not obvious

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def serving_cost(tokens: Sequence[float], tokens_per_s: float, price_per_compute_s: float) -> dict[str, float]:
    """Cost per 1,000 answers and p50/p95 latency from per-answer token counts (module doc)."""
    secs = np.asarray(tokens, np.float64) / tokens_per_s
    if secs.size == 0 or not tokens_per_s > 0:
        return {"cost_per_1k": float("nan"), "latency_p50_s": float("nan"), "latency_p95_s": float("nan")}
    return {"cost_per_1k": float(1000 * secs.mean() * price_per_compute_s),
            "latency_p50_s": float(np.percentile(secs, 50)), "latency_p95_s": float(np.percentile(secs, 95))}


def _value(d: Mapping | None, key: str) -> float | None:
    v = (d or {}).get(key)
    v = v.get("value") if isinstance(v, Mapping) else v
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _check(name: str, value: float | None, op: str, thr: float, source: str = "", missing: str = "not measured"
           ) -> GateResult:
    text = f"{op} {thr:.2f}"
    if value is None:
        return GateResult(name, None, text, f"n/a: {missing}", source)
    ok = value >= thr if op == ">=" else value <= thr
    return GateResult(name, value, text, "pass" if ok else "FAIL", source)


def pairwise_valid(results: Mapping[str, Any]) -> bool:
    v = (results.get("judge_validity") or {}).get("pairwise") or {}
    return bool(v.get("valid"))


def evaluate_gates(results: Mapping[str, Any], gate: GateConfig, candidate: str, *,
                   teacher: str = "teacher") -> list[GateResult]:
    systems = results["systems"]
    s, t = systems[candidate], systems.get(teacher, {})
    comp = results.get("compare", {}).get(candidate, {})
    valid = pairwise_valid(results)
    out = [_check("teacher preference match", _value(comp, "win_vs_teacher") if valid else None, ">=",
                  gate.min_teacher_preference, "pairwise judge vs the teacher",
                  missing="judge invalid" if not valid else "no pairwise win rate")]
    if valid and _value(comp, "win_vs_base") is not None:
        out.append(_check("win rate vs base student", _value(comp, "win_vs_base"), ">=", gate.min_win_vs_base,
                          "pairwise judge"))
    else:
        out.append(_check("win rate vs base student", _value(comp, "win_vs_base_accuracy"), ">=",
                          gate.min_win_vs_base, "per-case accuracy (ties ½)"
                          + ("; pairwise judge invalid" if not valid else "")))
    s_acc, t_acc = _value(s.get("summary"), "accuracy"), _value(t.get("summary"), "accuracy")
    out.append(_check("accuracy gap to teacher", None if s_acc is None or t_acc is None else t_acc - s_acc,
                      "<=", gate.max_accuracy_gap))
    out.append(_check("hallucination rate", _value(s.get("summary"), "hallucination"), "<=", gate.max_hallucination,
                      "answers with a KB entry"))
    recall = _value(s.get("summary"), "escalate_recall")
    out.append(_check("escalation miss rate", None if recall is None else 1 - recall, "<=", gate.max_escalation_miss))
    cost, t_cost = _value(s.get("scalars"), "cost_per_1k"), _value(t.get("scalars"), "cost_per_1k")
    out.append(_check("cost reduction vs teacher-only", 1 - cost / t_cost if cost is not None and t_cost else None,
                      ">=", gate.min_cost_reduction,
                      f"${cost:.4f} vs ${t_cost:.4f} per 1,000 answers" if cost is not None and t_cost else ""))
    out.append(_check("p95 latency (s)", _value(s.get("scalars"), "latency_p95_s"), "<=", gate.max_latency_p95_s,
                      "decode seconds per answer"))
    return out


def render_gates(gates: Sequence[GateResult], candidate: str) -> tuple[bool, str]:
    """(promoted, markdown table): promoted only when every gate passes."""
    promoted = all(g.passed for g in gates)
    blocked = [g.name for g in gates if g.status.startswith("n/a")]
    verdict = "PROMOTED" if promoted else "NOT PROMOTED"
    lines = [f"Candidate: **{candidate}** — **{verdict}**"
             + (f" (not measurable: {', '.join(blocked)})" if blocked else ""), "",
             "| gate | value | threshold | result | source |", "|---|---|---|---|---|"]
    lines += [f"| {g.name} | {'n/a' if g.value is None else f'{g.value:.3f}'} | {g.threshold} | "
              f"{g.status} | {g.source} |" for g in gates]
    return promoted, "\n".join(lines)
