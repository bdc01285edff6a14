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


def _num(v: Any, fmt: str = ".3f") -> str:
    return "n/a" if v is None or v != v else format(v, fmt)


def router_section(results: Mapping[str, Any]) -> list[str]:
    systems = [n for n in ("hard", "soft", "blend", "teacher", "majority") if n in results["systems"]]
    rare = results.get("rare_intents", [])
    n_eval = results.get("counts", {}).get("eval", {})
    lines = ["## Intent router (distilled)", "",
             f"Students trained on hard labels, on the teacher ensemble's soft labels, and on the blend "
             f"α · CE(hard) + (1 − α) · T² · KL(soft ‖ student) (α = {results.get('alpha')}); the frozen "
             f"eval's {sum(n_eval.values()) if isinstance(n_eval, dict) else n_eval} questions. Rare intents "
             f"(below `intent.rare_threshold` of training): {', '.join(rare) or 'none'}. Latency per "
             "question on this CPU.", "",
             "| system | macro-F1 | rare recall | ECE | p50 ms | p95 ms | " + " | ".join(f"recall {r}" for r in rare) + " |",
             "|---" * (6 + len(rare)) + "|"]
    for name in systems:
        m = results["systems"][name]
        lat = m.get("latency") or {}
        per = m.get("per_class_recall", {})
        lines.append(f"| {name} | {_num(m.get('macro_f1'))} | {_num(m.get('rare_recall'))} | {_num(m.get('ece'))} | "
                     f"{_num(lat.get('p50_ms'), '.1f')} | {_num(lat.get('p95_ms'), '.1f')} | "
                     + " | ".join(_num(per.get(r)) for r in rare) + " |")
    ci = results.get("ci", {})
    if "blend_minus_hard_rare_recall" in ci:
        lines += ["", f"Rare-intent recall, blend − hard (paired over {ci['blend_minus_hard_rare_recall']['n']} "
                      f"rare items): {_diff(ci['blend_minus_hard_rare_recall'])}."]
    c = results.get("combination", {})
    if c:
        lines += ["", f"Teacher ensemble: {c.get('rule')} pool (probe weight {c.get('w_probe')}, LLM "
                      f"{c.get('w_llm')}), escalation rules override with mass {c.get('rule_mass')}, "
                      f"calibrated temperature {_num(c.get('calibrated_temperature'), '.2f')}; the LLM "
                      f"adjudicated """
                      + ", ".join(f"{n} {split}" for split, n in (c.get("llm_asked") or {}).items())
                      + " questions."]
    return lines + [""]


SECTIONS = {"reranker": reranker_section, "router": router_section}


def distilled_sections(done: Mapping[str, Mapping]) -> list[str]:
    """Markdown for every distillation stage this run has (nothing for the others)."""
    lines: list[str] = []
    for stage, render in SECTIONS.items():
        if stage in done:
            lines += render(json.loads((Path(done[stage]["dir"]) / "results.json").read_text()))
    return lines
