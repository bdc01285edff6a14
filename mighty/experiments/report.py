"""report.md and its plots from the eval stage's results (no W&B server needed).

The headline is the table of paired differences between systems (evals.suite.paired_differences):
each with its bootstrap CI, "resolved" only when the CI excludes 0, and the minimum detectable
difference at the eval's size. The judge's canary verdict decides where its numbers go: a
VALID judge's scores sit in the stage table; an INVALID judge's scores and win rates are shown
in their own section, marked INVALID, and are in neither accuracy nor the gates."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mighty.evals.corruptions import CORRUPTIONS  # noqa: E402
from mighty.evals.gates import GateConfig, evaluate_gates, pairwise_valid, render_gates  # noqa: E402
from mighty.experiments.report_retrieval import RELIABILITY_PNG, plot_reliability, retrieval_section  # noqa: E402

STAGE_ORDER = ("teacher", "base_student", "kd_student", "grpo_student")
HEADLINE = ("accuracy", "rubric", "judge", "completeness", "utility", "escalate_precision",
            "escalate_recall", "decline_precision", "decline_recall", "hallucination", "grammar", "lang",
            "general_qa", "perplexity", "length_tokens")
JUDGE_ROWS = ("judge",)                                  # judge-dependent per-system rows
WIN_ROWS = ("win_vs_teacher", "win_vs_base")            # pairwise-judge rows
PAIR_LABELS = {("teacher", "base_student"): "teacher − base", ("kd_student", "base_student"): "KD − base",
               ("grpo_student", "kd_student"): "GRPO − KD", ("grpo_student", "teacher"): "final − teacher",
               ("kd_student", "teacher"): "final − teacher"}


def fmt(est: Mapping[str, float] | None) -> str:
    if not est or est.get("value") is None or (isinstance(est["value"], float) and math.isnan(est["value"])):
        return "n/a"
    lo, hi = est.get("ci_low"), est.get("ci_high")
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return f"{est['value']:.3f}"
    return f"{est['value']:.3f} [{lo:.3f}, {hi:.3f}]"


def ordered(systems: Mapping[str, Any]) -> list[str]:
    return [s for s in STAGE_ORDER if s in systems] + sorted(s for s in systems if s not in STAGE_ORDER)


def _num(v: float | None, spec: str) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def judge_verdicts(results: Mapping[str, Any]) -> tuple[bool, bool]:
    """(judge valid, pairwise judge valid). Without a canary record (no judge) there is no judge
    row to hide, and no pairwise win rate is trusted."""
    v = results.get("judge_validity")
    return (True if v is None else bool(v["judge"]["valid"])), pairwise_valid(results)


def _rows(results: Mapping[str, Any], names: Sequence[str], metrics: Sequence[str],
          compare: Sequence[str]) -> list[str]:
    systems, comp = results["systems"], results.get("compare", {})
    lines = [f"| {m} | " + " | ".join(fmt(systems[n]["summary"].get(m)) for n in names) + " |"
             for m in metrics if any(m in systems[n]["summary"] for n in names)]
    lines += [f"| {k} | " + " | ".join(fmt(comp.get(n, {}).get(k)) for n in names) + " |"
              for k in compare if any(k in comp.get(n, {}) for n in names)]
    return lines


def comparison_table(results: Mapping[str, Any]) -> str:
    """Every system's metrics; the judge's rows only when the canaries found it VALID."""
    names = ordered(results["systems"])
    judge_ok, pair_ok = judge_verdicts(results)
    metrics = [m for m in HEADLINE if judge_ok or m not in JUDGE_ROWS]
    compare = ["win_vs_base_accuracy"] + (list(WIN_ROWS) if pair_ok else [])
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    return "\n".join(lines + _rows(results, names, metrics, compare))


def judge_apart_table(results: Mapping[str, Any]) -> str | None:
    """The judge's numbers that the canaries ruled out, set apart (None when nothing is)."""
    names = ordered(results["systems"])
    judge_ok, pair_ok = judge_verdicts(results)
    rows = _rows(results, names, [] if judge_ok else JUDGE_ROWS, [] if pair_ok else WIN_ROWS)
    if not rows:
        return None
    head = ["| metric (INVALID judge) | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    return "\n".join(head + rows)


def cases_line(results: Mapping[str, Any]) -> str:
    n, total = results.get("n_cases"), results.get("n_frozen")
    buckets = ", ".join(f"{b} {k}" for b, k in sorted((results.get("buckets") or {}).items()))
    return (f"Cases scored: **{n}**" + (f" of the frozen eval's {total}" if total else "")
            + (f" ({buckets})" if buckets else "") + ".")


def differences_table(results: Mapping[str, Any]) -> str | None:
    """The headline: paired differences a − b with CI, verdict and minimum detectable difference."""
    rows = results.get("differences") or []
    if not rows:
        return None
    lines = ["| comparison | metric | difference [95% CI] | verdict | min. detectable |", "|---|---|---|---|---|"]
    for d in rows:
        label = PAIR_LABELS.get((d["a"], d["b"]), f"{d['a']} − {d['b']}")
        verdict = "resolved" if d["resolved"] else "not resolved"
        lines.append(f"| {label} | {d['metric']} | {fmt(d['diff'])} | {verdict} | {_num(d['mdd'], '.3f')} |")
    return "\n".join(lines)


def gap_lines(results: Mapping[str, Any]) -> list[str]:
    """Gap recovered per student on accuracy, a number only where the teacher − base accuracy
    difference is resolved."""
    gap = next((d for d in results.get("differences") or []
                if (d["a"], d["b"]) == ("teacher", "base_student") and d["metric"] == "accuracy"), None)
    out = []
    for name in ordered(results.get("compare", {})):
        comp = results["compare"][name]
        if "gap_recovered" not in comp:
            continue
        if gap is not None and gap["resolved"]:
            out.append(f"- {name}: {fmt(comp['gap_recovered'])}")
        else:
            out.append(f"- {name}: **not resolved** (the teacher − base accuracy difference's CI includes 0, "
                       f"or was not measured)")
    return out


def validity_section(results: Mapping[str, Any]) -> list[str]:
    """The judge's canary results: per corruption type, rank correlation, position bias, verdicts."""
    v = results.get("judge_validity")
    if not v:
        return ["No judge was used (eval.judge: false)."]
    rep = v["report"]
    pair = rep.get("pairwise") or {}
    lines = [f"Judge `{rep['scorer']}` on {rep['n_cases']} in-scope cases: the reference answer (the KB "
             f"steps) must score above each corruption (strictly; padded and injected: not below).", "",
             "| corruption | pass rate | reference above | tie | corruption above | pairwise pass |",
             "|---|---|---|---|---|---|"]
    for k in CORRUPTIONS:
        t = rep["types"].get(k)
        if t is not None:
            pw = _num(pair[k]["pass_rate"], ".2f") if k in pair else "n/a"
            lines.append(f"| {k} | {t['pass_rate']:.2f} | {t['above']:.2f} | {t['tie']:.2f} | "
                         f"{t['below']:.2f} | {pw} |")
    lines += ["", f"- Spearman vs the rubric over all canary answers: {_num(rep.get('spearman'), '.2f')}",
              f"- Pairwise position-bias rate (the verdict follows the position, not the answer): "
              f"{_num(rep.get('position_bias'), '.2f')}",
              f"- Judge: **{v['judge']['label']}**"
              + ("" if v["judge"]["valid"] else " — accuracy is the rubric alone"),
              f"- Pairwise judge: **{v['pairwise']['label']}**"
              + ("" if v["pairwise"]["valid"] else " — its win rates are shown apart and not gated")]
    return lines


ROUTED_METRICS = ("accuracy", "rubric", "escalate_recall", "decline_recall", "hallucination")


def reason_counts(reasons: Mapping[str, str]) -> str:
    """"default 40, low_confidence 12, ..." from {case: reason}, by reason kind, most first."""
    from collections import Counter

    kinds = Counter(r.split(":", 1)[0] for r in reasons.values())
    return ", ".join(f"{k} {n}" for k, n in kinds.most_common()) or "none"


def routed_section(results: Mapping[str, Any]) -> list[str]:
    """Teacher-only / student-only / routed (the demo's router + validator, teacher fallback) on
    quality, share served by the student, cost per 1,000 answers and p50/p95 compute latency."""
    routed = results.get("routed")
    if not routed:
        return []
    systems = results["systems"]
    student = routed["student"]
    rs = routed["scalars"]
    cols = {"teacher only": systems["teacher"]["summary"], f"{student} only": systems[student]["summary"],
            "routed": routed["summary"]}
    lines = ["| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {m} | " + " | ".join(fmt(c.get(m)) for c in cols.values()) + " |" for m in ROUTED_METRICS]
    lines.append(f"| served by the student | 0.000 | 1.000 | {rs['served_by_student']:.3f} "
                 f"(fallbacks {rs['fallback_share']:.3f}) |")
    lines.append(f"| cost per 1,000 answers ($) | {rs['teacher_only_cost_per_1k']:.3f} | | {rs['cost_per_1k']:.3f} |")
    lines.append(f"| compute latency p50 / p95 (s) | | | {rs['latency_p50_s']:.2f} / {rs['latency_p95_s']:.2f} |")
    return ["## Teacher / student / routed", "",
            "The routed row replays the demo's router and validator over the same cases' answers: "
            "a question the router sends to the teacher, or a student answer the validator rejects, "
            "is the teacher's answer (a fallback pays for both). Cost and latency are decode seconds "
            "at each system's measured tokens/s. The router's retrieval-confidence rule reads "
            + ("BM25 + the distilled reranker (calibrated)" if routed.get("retrieval") == "bm25+reranker"
               else "BM25's calibrated confidence") + "; its intent rules "
            + ("read the distilled intent classifier" if routed.get("intent_router") else "are off (no classifier)")
            + ".", "", "\n".join(lines), "", "Route reasons: " + reason_counts(routed.get("reasons", {})), ""]


def efficiency_table(results: Mapping[str, Any]) -> str:
    systems = results["systems"]
    names = ordered(systems)
    teacher = systems.get("teacher", {}).get("scalars", {})
    lines = ["| system | params (M) | size (MB) | vs teacher | compute | tokens/s | forward peak (MB) "
             "| $ per 1,000 answers | p50 / p95 latency (s) |", "|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        s = systems[n]["scalars"]
        ratio = s["params_m"] / teacher["params_m"] if teacher.get("params_m") else float("nan")
        lines.append(f"| {n} | {s['params_m']:.1f} | {s['size_mb']:.1f} | {ratio:.2f}x | "
                     f"{s.get('dtype', 'n/a')} | {s['tokens_per_s']:.1f} | {s['forward_peak_mb']:.0f} | "
                     f"{_num(s.get('cost_per_1k'), '.4f')} | {_num(s.get('latency_p50_s'), '.2f')} / "
                     f"{_num(s.get('latency_p95_s'), '.2f')} |")
    return "\n".join(lines)


def promotion_gate(results: Mapping[str, Any], gate: Mapping[str, float], student: str) -> tuple[bool, str]:
    """(promoted, markdown) of the gates in `gate` (evals.gates.GateConfig) for `student`."""
    return render_gates(evaluate_gates(results, GateConfig.from_dict(gate), student), student)


def plot_quality_scatter(results: Mapping[str, Any], out: Path) -> Path:
    """Accuracy vs grammar, marker size ∝ mean answer length, one point per system."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for n in ordered(results["systems"]):
        s = results["systems"][n]["summary"]
        size = 20 + 2 * s["length_tokens"]["value"]
        ax.scatter(s["grammar"]["value"], s["accuracy"]["value"], s=size, alpha=0.7, label=n)
        ax.errorbar(s["grammar"]["value"], s["accuracy"]["value"],
                    yerr=[[s["accuracy"]["value"] - s["accuracy"]["ci_low"]],
                          [s["accuracy"]["ci_high"] - s["accuracy"]["value"]]], fmt="none", ecolor="gray")
    ax.set_xlabel("grammar (1 − unlinked-word rate)")
    ax.set_ylabel("technical accuracy")
    ax.set_title("Accuracy vs grammar (marker size ∝ answer length)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def read_metrics(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_curves(metrics: Sequence[dict], keys: Sequence[str], out: Path, title: str) -> Path | None:
    """One panel per key that has data (a key never logged gets no empty panel); None if none has."""
    series = {k: [(r["step"], r[k]) for r in metrics if isinstance(r.get(k), (int, float))] for k in keys}
    series = {k: pts for k, pts in series.items() if pts}
    if not series:
        return None
    fig, axes = plt.subplots(1, len(series), figsize=(4 * len(series), 3.2), squeeze=False)
    for ax, (k, pts) in zip(axes[0], series.items()):
        ax.plot(*zip(*pts), marker=".")
        ax.set_title(k, fontsize=9)
        ax.set_xlabel("step")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_bars(values: Mapping[str, Mapping[str, float]], metric: str, out: Path, title: str) -> Path:
    """Ablation bars: one bar per run with its CI whisker."""
    names = list(values)
    v = [values[n]["value"] for n in names]
    err = [[values[n]["value"] - values[n].get("ci_low", values[n]["value"]) for n in names],
           [values[n].get("ci_high", values[n]["value"]) - values[n]["value"] for n in names]]
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(names)), 3.5))
    ax.bar(range(len(names)), v, yerr=err, capsize=4, color="#4C72B0")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(metric)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def grpo_health_section(metrics: Sequence[dict]) -> list[str]:
    """Dead reward components, length hacking (rl.diagnostics.run_flags) and the share of
    groups in which each component was flat: where GRPO's signal came from, or did not."""
    from mighty.rl.diagnostics import run_flags

    if not metrics:
        return []
    flags = run_flags(metrics)
    names = sorted({k.split("/", 2)[2] for r in metrics for k in r if k.startswith("diag/flat_share/")})
    lines = ["## GRPO health", ""]
    if names:
        lines += ["Share of groups in which a reward component was flat (no within-group signal):", "",
                  "| component | first step | last step | mean |", "|---|---|---|---|"]
        for n in names:
            xs = [r[f"diag/flat_share/{n}"] for r in metrics if f"diag/flat_share/{n}" in r]
            lines.append(f"| {n} | {xs[0]:.2f} | {xs[-1]:.2f} | {sum(xs) / len(xs):.2f} |")
        lines.append("")
    dead = flags["dead_components"]
    lines.append("- Dead components (flat in every group of every step): "
                 + (", ".join(f"**{d}** (DEAD)" for d in dead) if dead else "none"))
    lh = flags["length_hack"]
    if lh["flag"] is None:
        lines.append("- Length hacking: not judged (the run logged no length or technical-reward series)")
    else:
        verdict = "**FLAGGED**" if lh["flag"] else "not flagged"
        lines.append(f"- Length hacking: {verdict}: answer length {lh['length_change']:+.0%}, "
                     f"`{lh['tech_key']}` {lh['tech_change']:+.3f} (first vs last steps; flagged when "
                     f"answers shrink by more than 30% while the technical reward does not rise)")
    pg = flags["proxy_gain"]
    if pg["flag"] is not None:
        verdict = "**FLAGGED**" if pg["flag"] else "not flagged"
        lines.append(f"- Proxy gain: {verdict}: `{pg['total_key']}` {pg['total_change']:+.3f}, "
                     f"`{pg['tech_key']}` {pg['tech_change']:+.3f} (flagged when the composite reward "
                     f"rises while its technical term falls: reward bought from the other components)")
    return lines + [""]


def write_report(results: Mapping[str, Any], out_dir: Path, *, gate: Mapping[str, float],
                 grpo_metrics: Sequence[dict] = (), kd_metrics: Sequence[dict] = (),
                 stage_seconds: Mapping[str, float] | None = None,
                 title: str = "Mighty pipeline report", extra_sections: Sequence[str] = ()) -> Path:
    """`stage_seconds`: each stage's wall time when it was computed (here, or by the run that
    stored a stage this one reused); `extra_sections`: markdown lines placed before the plots
    (the registry's outcome, the router and reranker stages)."""
    from mighty.experiments.targets import default_run_targets, targets_section

    out_dir.mkdir(parents=True, exist_ok=True)
    student = next((s for s in ("grpo_student", "kd_student") if s in results["systems"]), None)
    plots = [plot_quality_scatter(results, out_dir / "accuracy_grammar_length.png")]
    plots.append(plot_curves(grpo_metrics, ["reward/total/mean", "eval/reward/total/mean",
                                            "eval/reward/tech/mean", "diag/length/mean", "grpo/kl"],
                             out_dir / "grpo_curves.png", "GRPO reward, technical reward, length and KL"))
    plots.append(plot_curves(kd_metrics, ["kd/loss", "eval/kl"], out_dir / "kd_curves.png", "KD loss and held-out KL"))
    acc = {n: results["systems"][n]["summary"]["accuracy"] for n in ordered(results["systems"])}
    plots.append(plot_bars(acc, "accuracy", out_dir / "accuracy_bars.png", "Accuracy by stage"))
    reliability = plot_reliability(results, out_dir / RELIABILITY_PNG)  # shown in its own section
    parts = [f"# {title}", "", cases_line(results), ""]
    diffs = differences_table(results)
    if diffs:
        parts += ["## Headline: paired differences (a − b over the same cases)", "",
                  "Paired bootstrap 95% CI of the mean per-case difference; \"not resolved\" (the CI "
                  "includes 0) is no finding. Min. detectable = 2.8 · SD(a − b) / √n: the smallest true "
                  "difference this eval detects with 80% power at α = 0.05.", "", diffs, ""]
    gaps = gap_lines(results)
    if gaps:
        parts += ["Fraction of the teacher − base accuracy gap recovered:", "", *gaps, ""]
    parts += targets_section(default_run_targets(results, stage_seconds))
    parts += ["## Judge validity (canaries)", "", *validity_section(results), "",
              "## Stage comparison (mean [95% bootstrap CI])", "", comparison_table(results), ""]
    apart = judge_apart_table(results)
    if apart:
        parts += ["### Judge scores and win rates — INVALID judge (not in accuracy, not gated)", "", apart, ""]
    parts += retrieval_section(results, reliability)
    parts += routed_section(results)
    parts += grpo_health_section(grpo_metrics)
    parts += ["## Efficiency", "", efficiency_table(results), ""]
    if student:
        _, gate_md = promotion_gate(results, gate, student)
        parts += ["## Promotion gates", "", gate_md, ""]
    parts += list(extra_sections)
    parts += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots if p is not None] + [""]
    path = out_dir / "report.md"
    path.write_text("\n".join(parts))
    return path
