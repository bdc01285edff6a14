"""report.md's Retrieval section and its reliability diagram, from results.json's `grounding`
(experiments.evaluate.grounding_report)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RELIABILITY_PNG = "retrieval_reliability.png"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def retrieval_section(results: Mapping[str, Any], plot: Path | None = None) -> list[str]:
    """Method, what the teacher sees, recall@1/@3 with n, and ECE raw vs calibrated."""
    g = results.get("grounding")
    if not g:
        return []
    lines = ["## Retrieval", "",
             f"- Grounding: **{g.get('mode', 'n/a')}**"
             + (f", top {g['k']} entr{'y' if g.get('k') == 1 else 'ies'} by `{g.get('retriever', g.get('method'))}`"
                f" retrieval, shown when the confidence is at least {g['min_confidence']:.2f}"
                + (f" ({g['safety_min_confidence']:.2f} for a safety entry)" if "safety_min_confidence" in g else "")
                if g.get("mode") == "retrieved" else ""),
             f"- The teacher sees: {g.get('teacher_sees', 'n/a')}"]
    if "recall_at_1" in g:
        lines.append(f"- Recall of the gold issue on the eval's {g['n_in_scope']} in-scope cases: "
                     f"@1 **{g['recall_at_1']:.3f}**, @3 **{g['recall_at_3']:.3f}**")
    if "hazard_moves" in g:
        lines.append(hazard_line(g["hazard_moves"], results.get("n_cases")))
    rel = g.get("reliability")
    if rel:
        lines.append(f"- Confidence calibration on {rel['n']} eval cases ({rel['n'] - rel.get('n_out_of_scope', 0)} "
                     f"in-scope, {rel.get('n_out_of_scope', 0)} out-of-scope, whose top hit counts as wrong; "
                     f"top-1 accuracy {_pct(rel['top1_accuracy'])}): ECE ({rel['n_bins']} equal-width bins) "
                     f"raw softmax **{rel['ece_raw']:.3f}**, calibrated **{rel['ece_calibrated']:.3f}** "
                     f"(logistic fit on the training split's questions"
                     + ("" if rel.get("calibrated", True) else "; not fitted: the calibrated column is the raw one")
                     + ")")
        if plot is not None:
            lines += ["", f"![reliability diagram]({plot.name})"]
    return lines + [""]


def hazard_line(moves: list[dict], n_cases: int | None = None) -> str:
    """What the hazard preference (data.hazard) did on the eval: the cases it gave a safety entry
    first, split by whether they should escalate (the others are its false alarms)."""
    of = f" of {n_cases}" if n_cases else ""
    if not moves:
        return f"- Hazard preference: no eval case{of} had its top hit changed"
    right = [m["case_id"] for m in moves if m.get("expected") == "escalate"]
    wrong = [m["case_id"] for m in moves if m.get("expected") != "escalate"]
    return (f"- Hazard preference: a safety entry put first on {len(moves)} eval case(s){of}: "
            f"{len(right)} that should escalate ({', '.join(right) or 'none'}), "
            f"{len(wrong)} that should not ({', '.join(wrong) or 'none'})")


def plot_reliability(results: Mapping[str, Any], out: Path) -> Path | None:
    """Accuracy vs mean confidence per bin (raw and calibrated) with the bins' counts, over the
    diagonal of perfect calibration; None when results carry no reliability bins."""
    rel = (results.get("grounding") or {}).get("reliability")
    if not rel or not any(b["n"] for b in rel.get("bins_calibrated", [])):
        return None
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", color="gray", lw=1, label="perfectly calibrated")
    for name, color in (("raw", "#C44E52"), ("calibrated", "#4C72B0")):
        bins = [b for b in rel[f"bins_{name}"] if b["n"]]
        xs, ys = [b["confidence"] for b in bins], [b["accuracy"] for b in bins]
        ax.plot(xs, ys, marker="o", color=color, label=f"{name} (ECE {rel[f'ece_{name}']:.3f})")
        for b in bins:
            ax.annotate(str(b["n"]), (b["confidence"], b["accuracy"]), textcoords="offset points",
                        xytext=(4, -10 if name == "raw" else 5), fontsize=7, color=color)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("confidence in the top hit (bin mean)")
    ax.set_ylabel("top hit correct (bin accuracy)")
    ax.set_title(f"Retrieval reliability, {rel['n']} eval cases (numbers: cases per bin)", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
