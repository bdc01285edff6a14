"""What the default run must show (issue 20), checked against the run's own numbers.

Each target reads a paired difference (its bootstrap CI, never the point estimate alone) or a
per-system summary from the eval's results, and the stage timings from the pipeline. A target
the run misses is printed as missed, with the numbers: the report never hides one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

BUDGET_S = 20 * 60  # `make demo` on the 2-core reference machine


@dataclass(frozen=True)
class Target:
    name: str
    value: str     # what was measured, as printed
    wanted: str    # the bar
    met: bool | None  # None: not measured in this run


def _diff(results: Mapping[str, Any], a: str, b: str, metric: str) -> Mapping[str, float] | None:
    return next((d["diff"] for d in results.get("differences") or []
                 if (d["a"], d["b"], d["metric"]) == (a, b, metric)), None)


def _ci(d: Mapping[str, float]) -> str:
    return f"{d['value']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"


def _value(results: Mapping[str, Any], system: str, metric: str) -> float | None:
    est = results["systems"].get(system, {}).get("summary", {}).get(metric)
    v = None if est is None else est.get("value")
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _ci_target(results, name, a, b, metric, *, lower_above_zero: bool) -> Target:
    d = _diff(results, a, b, metric)
    wanted = "CI above 0" if lower_above_zero else "CI upper bound ≥ 0"
    if d is None or d.get("ci_low") is None:
        return Target(name, "n/a", wanted, None)
    met = d["ci_low"] > 0 if lower_above_zero else d["ci_high"] >= 0
    return Target(name, _ci(d), wanted, met)


def _ratio_target(results, name, student, metric, *, at_least: float | None = None,
                  at_most: float | None = None) -> Target:
    s, t = _value(results, student, metric), _value(results, "teacher", metric)
    wanted = f"≥ {at_least}× teacher" if at_least is not None else f"≤ {at_most}× teacher"
    if s is None or t is None or t == 0:
        return Target(name, "n/a", wanted, None)
    ratio = s / t
    met = ratio >= at_least if at_least is not None else ratio <= at_most
    return Target(name, f"{s:.3g} vs teacher {t:.3g} ({ratio:.2f}×)", wanted, met)


def _floor_target(results, name, student, metric, floor: float) -> Target:
    v = _value(results, student, metric)
    return Target(name, "n/a" if v is None else f"{v:.3f}", f"≥ {floor}", None if v is None else v >= floor)


def default_run_targets(results: Mapping[str, Any], stage_seconds: Mapping[str, float] | None = None,
                        budget_s: float = BUDGET_S) -> list[Target]:
    """Issue 20's targets for the default run, in the order a reader checks them."""
    final = next((s for s in ("grpo_student", "kd_student") if s in results["systems"]), None)
    out = [_ci_target(results, "KD − base, rubric accuracy", "kd_student", "base_student", "rubric",
                      lower_above_zero=True),
           # the eval's rubric is the reward's technical term (rewards.tech.TechRubric) on held-out cases
           _ci_target(results, "GRPO − KD, held-out technical reward", "grpo_student", "kd_student", "rubric",
                      lower_above_zero=True),
           _ci_target(results, "GRPO − KD, accuracy (not worse)", "grpo_student", "kd_student", "accuracy",
                      lower_above_zero=False)]
    if final is not None:
        out += [_ratio_target(results, f"{final} general QA", final, "general_qa", at_least=0.5),
                _ratio_target(results, f"{final} generic perplexity", final, "perplexity", at_most=3.0),
                _floor_target(results, f"{final} escalation recall", final, "escalate_recall", 0.8),
                _floor_target(results, f"{final} decline recall", final, "decline_recall", 0.8)]
    if stage_seconds:
        total = sum(stage_seconds.values())
        out.append(Target("pipeline stages, wall time as computed (this machine)", f"{total / 60:.1f} min",
                          f"≤ {budget_s / 60:.0f} min", total <= budget_s))
    return out


def targets_section(targets: list[Target]) -> list[str]:
    if not targets:
        return []
    mark = {True: "met", False: "**MISSED**", None: "n/a (not measured)"}
    lines = ["## Targets of the default run", "",
             "Differences are paired over the same eval cases; a CI target is met only by the CI, "
             "never by the point estimate.", "",
             "| target | measured | wanted | verdict |", "|---|---|---|---|"]
    lines += [f"| {t.name} | {t.value} | {t.wanted} | {mark[t.met]} |" for t in targets]
    missed = [t.name for t in targets if t.met is False]
    lines += ["", f"Missed: {', '.join(missed)}." if missed else "Every measured target is met."]
    return lines + [""]
