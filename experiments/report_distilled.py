"""Report sections of the product's other distillations: the reranker (distill.rerank) and the
intent router (distill.intent), read from their stages' results.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping


def _ci(m: Mapping[str, Any]) -> str:
    return f"{m['value']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"


def _diff(m: Mapping[str, Any]) -> str:
    resolved = m["ci_low"] > 0 or m["ci_high"] < 0
    return f"{m['value']:+.3f} [{m['ci_low']:+.3f}, {m['ci_high']:+.3f}]" + ("" if resolved else " not resolved")


def reranker_section(results: Mapping[str, Any]) -> list[str]:
    metrics = ("recall@1", "recall@3", "ndcg@10")
    lat = results.get("latency", {})
    extra_ms = {"bm25": lat.get("bm25"), "bm25+student": lat.get("student_rerank"),
                "bm25+teacher": lat.get("teacher_rerank")}
    lines = ["## Reranker (distilled)", "",
             f"BM25 top-{results.get('k', 10)} candidates reordered, on the frozen eval's "
             f"{results['n_eval']} in-scope cases (mean [95% bootstrap CI]); latency per question on "
             "this CPU (for the two rerankers: the reranking alone, on top of BM25).", "",
             "| system | " + " | ".join(metrics) + " | p50 ms | p95 ms |", "|---" * (len(metrics) + 3) + "|"]
    for name, sysm in results["systems"].items():
        ms = extra_ms.get(name) or {}
        lines.append(f"| {name} | " + " | ".join(_ci(sysm[m]) for m in metrics)
                     + f" | {ms.get('p50_ms', float('nan')):.1f} | {ms.get('p95_ms', float('nan')):.1f} |")
    lines += ["", "Paired differences against BM25 alone (same cases):", "",
              "| system − BM25 | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for name, d in results.get("vs_bm25", {}).items():
        lines.append(f"| {name} | " + " | ".join(_diff(d[m]) for m in metrics) + " |")
    t = results.get("teacher", {})
    if t.get("questions_scored"):
        lines += ["", f"Teacher: {t['source']}, p(Yes) on {t['questions_scored']} training questions' "
                      f"candidates (Yes+No mass {t.get('train_mass_mean', float('nan')):.2f})."]
    ex = results.get("example")
    if ex:
        lines += ["", f"Example \"{ex['question']}\": BM25 → {ex['bm25']['top3'][0]}; "
                      f"BM25 + student → {ex['bm25+student']['top3'][0]}."]
    return lines + [""]


SECTIONS = {"reranker": reranker_section}


def distilled_sections(done: Mapping[str, Mapping]) -> list[str]:
    """Markdown for every distillation stage this run has (nothing for the others)."""
    lines: list[str] = []
    for stage, render in SECTIONS.items():
        if stage in done:
            lines += render(json.loads((Path(done[stage]["dir"]) / "results.json").read_text()))
    return lines
