"""report.md and its plots from the eval stage's results (no W&B server needed)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STAGE_ORDER = ("teacher", "base_student", "kd_student", "grpo_student")
HEADLINE = ("accuracy", "rubric", "judge", "completeness", "utility", "escalate_precision",
            "escalate_recall", "decline_precision", "decline_recall", "grammar", "lang",
            "general_qa", "perplexity", "length_tokens")


def fmt(est: Mapping[str, float] | None) -> str:
    if not est or est.get("value") is None or (isinstance(est["value"], float) and math.isnan(est["value"])):
        return "n/a"
    lo, hi = est.get("ci_low"), est.get("ci_high")
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return f"{est['value']:.3f}"
    return f"{est['value']:.3f} [{lo:.3f}, {hi:.3f}]"


def ordered(systems: Mapping[str, Any]) -> list[str]:
    return [s for s in STAGE_ORDER if s in systems] + sorted(s for s in systems if s not in STAGE_ORDER)


def comparison_table(results: Mapping[str, Any]) -> str:
    systems = results["systems"]
    names = ordered(systems)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for m in HEADLINE:
        if any(m in systems[n]["summary"] for n in names):
            lines.append(f"| {m} | " + " | ".join(fmt(systems[n]["summary"].get(m)) for n in names) + " |")
    for key in ("gap_recovered", "win_vs_teacher", "win_vs_base"):
        if any(key in results.get("compare", {}).get(n, {}) for n in names):
            lines.append(f"| {key} | " + " | ".join(fmt(results["compare"].get(n, {}).get(key))
                                                   for n in names) + " |")
    return "\n".join(lines)


def efficiency_table(results: Mapping[str, Any]) -> str:
    systems = results["systems"]
    names = ordered(systems)
    teacher = systems.get("teacher", {}).get("scalars", {})
    lines = ["| system | params (M) | size (MB) | vs teacher | compute | tokens/s | forward peak (MB) |",
             "|---|---|---|---|---|---|---|"]
    for n in names:
        s = systems[n]["scalars"]
        ratio = s["params_m"] / teacher["params_m"] if teacher.get("params_m") else float("nan")
        lines.append(f"| {n} | {s['params_m']:.1f} | {s['size_mb']:.1f} | {ratio:.2f}x | "
                     f"{s.get('dtype', 'n/a')} | {s['tokens_per_s']:.1f} | {s['forward_peak_mb']:.0f} |")
    return "\n".join(lines)


def promotion_gate(results: Mapping[str, Any], gate: Mapping[str, float], student: str) -> tuple[bool, str]:
    """The student is promoted when it wins ≥ `min_win_vs_base` against the base student, is
    within `max_accuracy_gap` of the teacher on accuracy, and misses ≤ `max_escalation_miss`
    of the escalations. Each check is listed with its number, pass or fail."""
    s = results["systems"][student]["summary"]
    t = results["systems"]["teacher"]["summary"]
    comp = results.get("compare", {}).get(student, {})
    checks = []
    win = comp.get("win_vs_base", {}).get("value", float("nan"))
    checks.append(("win rate vs base student", win, f">= {gate['min_win_vs_base']:.2f}",
                   win >= gate["min_win_vs_base"]))
    gap = t["accuracy"]["value"] - s["accuracy"]["value"]
    checks.append(("accuracy gap to teacher", gap, f"<= {gate['max_accuracy_gap']:.2f}",
                   gap <= gate["max_accuracy_gap"]))
    recall = s.get("escalate_recall", {}).get("value", float("nan"))
    miss = 1 - recall if recall == recall else float("nan")
    checks.append(("escalations missed", miss, f"<= {gate['max_escalation_miss']:.2f}",
                   miss <= gate["max_escalation_miss"]))
    passed = all(c[3] for c in checks)
    lines = [f"Candidate: **{student}** — **{'PROMOTED' if passed else 'NOT PROMOTED'}**", "",
             "| check | value | threshold | result |", "|---|---|---|---|"]
    lines += [f"| {name} | {v:.3f} | {thr} | {'pass' if ok else 'FAIL'} |" for name, v, thr, ok in checks]
    return passed, "\n".join(lines)


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


def write_report(results: Mapping[str, Any], out_dir: Path, *, gate: Mapping[str, float],
                 grpo_metrics: Sequence[dict] = (), kd_metrics: Sequence[dict] = (),
                 title: str = "Mighty pipeline report") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    student = next((s for s in ("grpo_student", "kd_student") if s in results["systems"]), None)
    plots = [plot_quality_scatter(results, out_dir / "accuracy_grammar_length.png")]
    plots.append(plot_curves(grpo_metrics, ["reward/total/mean", "eval/reward/total/mean", "grpo/kl"], out_dir / "grpo_curves.png",
                             "GRPO reward and KL"))
    plots.append(plot_curves(kd_metrics, ["kd/loss", "eval/kl"], out_dir / "kd_curves.png", "KD loss and held-out KL"))
    acc = {n: results["systems"][n]["summary"]["accuracy"] for n in ordered(results["systems"])}
    plots.append(plot_bars(acc, "accuracy", out_dir / "accuracy_bars.png", "Accuracy by stage"))
    parts = [f"# {title}", "", "## Stage comparison (mean [95% bootstrap CI])", "",
             comparison_table(results), "", "## Efficiency", "", efficiency_table(results), ""]
    if student:
        _, gate_md = promotion_gate(results, gate, student)
        parts += ["## Promotion gate", "", gate_md, ""]
    parts += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots if p is not None] + [""]
    path = out_dir / "report.md"
    path.write_text("\n".join(parts))
    return path
