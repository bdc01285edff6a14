"""One answer, end to end: retrieve, route, decode (streaming), validate, fall back.

Transport-free: `/ask`, `/ws` and the UI all go through `Assistant.answer`, which reports
progress through an optional `emit(event: dict)` coroutine using the `/ws` message schema
(`route`, `token`, `fallback`; see docs/demo.md). The final `Answer` becomes `done` / the
`/ask` response.
"""
from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from typing import Awaitable, Callable

from mighty.data.grounding import GroundingConfig
from mighty.demo.config import ServeConfig
from mighty.demo.engine import GenRequest, GenResult
from mighty.demo.metrics import Metrics
from mighty.demo.router import RouteFacts, decide
from mighty.demo.runner import ModelRunner
from mighty.demo.validator import Validation, expects_steps, validate

log = logging.getLogger("mighty.demo.service")
Emit = Callable[[dict], Awaitable[None]]

REFUSAL_UNSAFE = ("I can't give a safe answer to that. Stop using the device, unplug it or "
                  "switch it off, and contact the manufacturer's support.")
REFUSAL_EMPTY = "Sorry, I could not produce an answer. Please rephrase the question."


@dataclasses.dataclass
class Answer:
    answer: str
    steps: list[str]
    served_by: str  # "<route>:<model name>", e.g. "student:smollm2-135m-instruct"
    route: str
    reason: str
    refused: bool
    trace_id: str
    latency_ms: float
    validation: list[str]  # failures of the final answer (empty = passed)
    fallback: dict | None  # {"from": served_by, "failures": [...]} when the student was replaced
    retrieval: dict | None  # {"issue_id", "title", "confidence"}
    completion_tokens: int
    finish_reason: str
    prompt_tokens: int = 0

    def public(self) -> dict:
        return dataclasses.asdict(self)


def new_trace_id() -> str:
    return uuid.uuid4().hex[:16]


class Assistant:
    def __init__(self, cfg: ServeConfig, runners: dict[str, ModelRunner], retriever, metrics: Metrics,
                 intent_router=None):
        if set(runners) != {"student", "teacher"}:
            raise ValueError(f"Assistant needs 'student' and 'teacher' runners, got {sorted(runners)}")
        self.cfg, self.runners, self.retriever, self.metrics = cfg, runners, retriever, metrics
        self.intent_router = intent_router  # models.intent.IntentRouter, or None: hand rules only
        # which top hit the prompt shows: the pipeline's default rule (data.grounding), so the
        # student is served the prompts it was trained and evaluated on
        self.grounding = GroundingConfig()

    def _intent(self, question: str) -> dict[str, float] | None:
        if self.intent_router is None:
            return None
        t0 = time.perf_counter()
        p_c = self.intent_router.predict_proba([question])[0]
        self.metrics.component("intent", time.perf_counter() - t0)
        probs = {label: float(p) for label, p in zip(self.intent_router.labels, p_c)}
        self.metrics.intent(max(probs, key=probs.get))
        return probs

    def _retrieve(self, question: str):
        if self.retriever is None:
            return None, 0.0
        t0 = time.perf_counter()
        hits, conf = self.retriever.search_with_confidence(question, self.cfg.router.retrieval_k)
        self.metrics.component("retrieval", time.perf_counter() - t0)
        return (hits[0][0] if hits else None), float(conf)

    def plan(self, question: str, *, admin: bool = False) -> dict:
        """Retrieval + routing facts for `question` (no decoding)."""
        from mighty.data import format_prompt

        top, conf = self._retrieve(question)
        r = self.cfg.router
        use_kb = top is not None and self.grounding.shows(top, conf)
        # one prompt for both models, as in training and eval (data.prompts): the same retrieved
        # entry, or the "nothing matched" note; closed-book only when there is no knowledge base
        grounded = format_prompt(question, entries=None if self.retriever is None else [top] if use_kb else [])
        n_tokens = self.runners["student"].engine.count_tokens(grounded)
        intent = self._intent(question)
        route, reason = decide(RouteFacts(question, n_tokens, conf, admin, intent), token_budget=r.token_budget,
                               min_confidence=r.min_confidence, escalation_keywords=r.escalation_keywords,
                               intent_thresholds=r.intent_thresholds)
        return {"route": route, "reason": reason, "intent": intent, "top": top if use_kb else None, "confidence": conf,
                "prompt_tokens": n_tokens, "student_messages": grounded, "teacher_messages": grounded}

    async def answer(self, question: str, *, admin: bool = False, max_new_tokens: int | None = None,
                     trace_id: str | None = None, emit: Emit | None = None) -> Answer:
        t0 = time.perf_counter()
        trace_id = trace_id or new_trace_id()
        cap = self.cfg.engine.max_new_tokens
        max_new = cap if max_new_tokens is None else max(1, min(int(max_new_tokens), cap))
        p = self.plan(question, admin=admin)
        route, reason = p["route"], p["reason"]
        top = p["top"]
        unsafe = list(self.cfg.validator.unsafe_phrases) + list((top or {}).get("unsafe_phrases", []))
        escalation = reason.startswith(("escalation", "intent_escalation")) or bool(top and top.get("safety"))
        prefix = self.cfg.engine.step_prefix if expects_steps(question) and not escalation else ""

        async def run(which: str) -> tuple[GenResult, Validation, str]:
            runner = self.runners[which]
            served = f"{which}:{runner.name}"
            if emit:
                await emit({"type": "route", "route": which, "reason": reason, "served_by": served,
                            "retrieval_confidence": round(p["confidence"], 4)})
            msgs = p["student_messages"] if which == "student" else p["teacher_messages"]
            req = GenRequest(msgs, max_new, self.cfg.engine.temperature, self.cfg.engine.top_p,
                             prefix=prefix)
            result = None
            async for item in runner.stream(req):
                if isinstance(item, str):
                    if emit:
                        await emit({"type": "token", "text": item})
                else:
                    result = item
            v = validate(result.text, question=question, unsafe_phrases=unsafe,
                         min_chars=self.cfg.validator.min_chars,
                         min_steps=self.cfg.validator.min_steps, escalation=escalation)
            return result, v, served

        result, v, served = await run(route)
        fallback = None
        # An answer the client cut short (its max_new_tokens below the server's cap) fails
        # validation by the client's choice, not the student's: falling back would let any
        # caller buy a teacher answer with max_new_tokens=1.
        client_cut = max_new < cap and result.finish_reason == "length"
        if (not v.ok and route == "student" and self.cfg.validator.fallback_to_teacher
                and not client_cut):
            fallback = {"from": served, "failures": list(v.failures)}
            self.metrics.event("fallback")
            if emit:
                await emit({"type": "fallback", "from": served, "failures": list(v.failures),
                            "to": f"teacher:{self.runners['teacher'].name}"})
            route = "teacher"
            reason = f"fallback:{v.failures[0]}"
            result, v, served = await run("teacher")
        text, refused = result.text.strip(), False
        if any(f.startswith("unsafe:") for f in v.failures):
            text, refused = REFUSAL_UNSAFE, True
            self.metrics.event("refused_unsafe")
        elif "empty" in v.failures:
            text, refused = REFUSAL_EMPTY, True
            self.metrics.event("refused_empty")
        latency_ms = round((time.perf_counter() - t0) * 1000, 1)
        self.metrics.answer(served, route, reason, result.completion_tokens)
        ans = Answer(answer=text, steps=list(v.steps) if not refused else [], served_by=served,
                     route=route, reason=reason, refused=refused, trace_id=trace_id,
                     latency_ms=latency_ms, validation=list(v.failures), fallback=fallback,
                     retrieval=({"issue_id": top["issue_id"], "title": top["title"],
                                 "confidence": round(p["confidence"], 4)} if top else
                                {"issue_id": None, "title": None,
                                 "confidence": round(p["confidence"], 4)}),
                     completion_tokens=result.completion_tokens, finish_reason=result.finish_reason,
                     prompt_tokens=result.prompt_tokens)
        log.info("answer trace=%s served_by=%s reason=%s tokens=%d latency_ms=%.0f validation=%s",
                 trace_id, served, reason, result.completion_tokens, latency_ms, list(v.failures))
        return ans
