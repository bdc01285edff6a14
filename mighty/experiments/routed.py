"""The routed product as a row of the eval: the demo's router and validator over the answers
the student and the teacher already gave to the same frozen cases.

For each case the router decides from the same facts the server uses (escalation keywords,
grounded prompt length, retrieval confidence); a student answer that fails the validator
falls back to the teacher, as served. Scores are the chosen answer's own scores, so the
routed row is paired with every other row case by case. Compute time per answer is its
tokens over the system's measured decode throughput (a fallback pays for both), which gives
cost per 1,000 answers at a configured price and p50/p95 latency.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence


from mighty.demo.config import RouterConfig, ValidatorConfig
from mighty.demo.router import RouteFacts, decide
from mighty.demo.validator import expects_steps, validate


@dataclasses.dataclass(frozen=True)
class CostConfig:
    """`eval.cost.*`: what an answer costs."""

    price_per_compute_s: float = 0.0005  # $ per second of the serving machine (a 2-core VM ~ $1.8/h)


def route_case(case: dict, student_row: dict, *, confidence: float, prompt_tokens: int,
               kb_entry: dict | None, router: RouterConfig, validator: ValidatorConfig,
               intent: Mapping[str, float] | None = None) -> tuple[str, str]:
    """(who served: student | teacher | fallback, why) for one case."""
    route, reason = decide(RouteFacts(case["question"], prompt_tokens, confidence, intent=intent),
                           token_budget=router.token_budget, min_confidence=router.min_confidence,
                           escalation_keywords=router.escalation_keywords,
                           intent_thresholds=router.intent_thresholds)
    if route == "teacher":
        return "teacher", reason
    unsafe = list(validator.unsafe_phrases) + list((kb_entry or {}).get("unsafe_phrases", []))
    check = validate(student_row["answer"], question=case["question"], unsafe_phrases=unsafe,
                     min_chars=validator.min_chars, min_steps=validator.min_steps,
                     steps_required=expects_steps(case["question"]),
                     escalation=bool(kb_entry and kb_entry.get("safety")))
    if check.ok or not validator.fallback_to_teacher:
        return "student", reason
    return "fallback", "validator:" + ",".join(check.failures)


def compute_seconds(served: str, student_row: dict, teacher_row: dict, student_tps: float,
                    teacher_tps: float) -> float:
    """Decode seconds the answer cost; a fallback decoded the student's answer first."""
    s = student_row["tokens"] / student_tps
    t = teacher_row["tokens"] / teacher_tps
    return {"student": s, "teacher": t, "fallback": s + t}[served]


def routed_rows(cases: Sequence[dict], student_items: Sequence[dict], teacher_items: Sequence[dict], *,
                confidences: Sequence[float], prompt_tokens: Sequence[int], kb: Mapping[str, dict],
                router: RouterConfig, validator: ValidatorConfig, student_tps: float,
                teacher_tps: float, intents: Sequence[Mapping[str, float]] | None = None) -> list[dict]:
    """One row per case: the served answer's scores plus `served_by`, `route_reason`, `compute_s`."""
    if not (len(cases) == len(student_items) == len(teacher_items) == len(confidences) == len(prompt_tokens)):
        raise ValueError("routed_rows: cases, both systems' items, confidences and prompt_tokens must align")
    rows = []
    intents = intents if intents is not None else [None] * len(cases)
    for case, s_row, t_row, conf, n_tok, intent in zip(cases, student_items, teacher_items, confidences,
                                                        prompt_tokens, intents):
        if s_row["case_id"] != case["case_id"] or t_row["case_id"] != case["case_id"]:
            raise ValueError(f"routed_rows: items are not in case order at {case['case_id']}")
        served, why = route_case(case, s_row, confidence=conf, prompt_tokens=n_tok,
                                 kb_entry=kb.get(case.get("issue_id") or ""), router=router, validator=validator,
                                 intent=intent)
        chosen = s_row if served == "student" else t_row
        rows.append({**chosen, "served_by": served, "route_reason": why,
                     "compute_s": compute_seconds(served, s_row, t_row, student_tps, teacher_tps)})
    return rows


def routing_scalars(rows: Sequence[dict], teacher_seconds: Sequence[float], cost: CostConfig) -> dict:
    """Share served by the student, fallbacks, cost per 1,000 answers (routed and teacher-only),
    and p50/p95 compute latency in seconds."""
    from mighty.evals.gates import serving_cost

    served = [r["served_by"] for r in rows]
    # seconds are tokens at 1 token/s: the gates' one cost and latency formula
    routed = serving_cost([r["compute_s"] for r in rows], 1.0, cost.price_per_compute_s)
    teacher = serving_cost(teacher_seconds, 1.0, cost.price_per_compute_s)
    return {"served_by_student": served.count("student") / len(rows),
            "fallback_share": served.count("fallback") / len(rows),
            **routed, "teacher_only_cost_per_1k": teacher["cost_per_1k"]}


def routed_system(results: Mapping, student: str, suite, tokenizer, cfg, retriever=None,
                  intent_router=None) -> dict:
    """The routed product over the eval's cases: its summary (same metrics and CIs as every
    system, paired with them case by case) and its routing/cost/latency scalars. `results`
    holds SystemEval's of `student` and the teacher; `suite` the eval's cases and grounder.
    `retriever` (e.g. BM25 + the distilled reranker, as the demo serves it) supplies the
    retrieval confidence the router reads; None: the suite's grounder. `intent_router`
    (models.intent.IntentRouter) gives the router its intent probabilities, as served."""
    from mighty.evals.suite import select_cases, summarise

    cases = select_cases(suite.cases, cfg.limit)
    s_sys, t_sys = results[student], results["teacher"]
    prompts = [suite.grounder.messages(c["question"], gold=suite.kb.get(c.get("issue_id") or ""))
               for c in cases]
    if retriever is not None:
        confidences = [retriever.confidence(c["question"]) for c in cases]
    elif suite.grounder.retriever is not None:
        confidences = [suite.grounder.retrieve(c["question"])[1] for c in cases]
    else:
        confidences = [1.0] * len(cases)
    intents = None
    if intent_router is not None:
        p_nc = intent_router.predict_proba([c["question"] for c in cases])
        intents = [dict(zip(intent_router.labels, map(float, p_c))) for p_c in p_nc]
    rows = routed_rows(cases, s_sys.items, t_sys.items, confidences=confidences, intents=intents,
                       prompt_tokens=[len(tokenizer.chat(m)) for m in prompts], kb=suite.kb,
                       router=RouterConfig(), validator=ValidatorConfig(),
                       student_tps=s_sys.scalars["tokens_per_s"], teacher_tps=t_sys.scalars["tokens_per_s"])
    teacher_s = [r["tokens"] / t_sys.scalars["tokens_per_s"] for r in t_sys.items]
    cost = CostConfig(**dict(cfg.cost))  # eval.cost (evals.suite.SuiteConfig)
    return {"student": student, "retrieval": "bm25+reranker" if retriever is not None else "bm25",
            "intent_router": intent_router is not None,
            "summary": {k: e.as_dict() for k, e in summarise(rows, cfg).items()},
            "scalars": routing_scalars(rows, teacher_s, cost),
            "reasons": {r["case_id"]: r["route_reason"] for r in rows}}
