"""OpenAI-compatible `/v1/chat/completions` (JSON or SSE stream) and `/v1/models`.

`model` picks what answers. The default (`"mighty"`, or none) is the product: the last user
message goes through retrieval, the router, the validator and the teacher fallback, exactly
as `/ask`. `"student"` or an engine name from `/v1/models` is raw model access (no routing or
validation) for judges and tools; `"teacher"` is too, but only with the admin token
(`Authorization: Bearer` or `X-Admin-Token`): the teacher is the expensive model the product
exists to avoid, so no anonymous caller may spend it. With `logprobs: true` and
`top_logprobs: k` every generated position of a direct model carries the top-k next-token
distribution, so a judge can read score-token probabilities with `max_tokens: 1`.
"""
from __future__ import annotations

import json
import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mighty.demo.engine import GenRequest, GenResult, TokenLogprob
from mighty.demo.http_util import ApiError, read_model
from mighty.demo.service import new_trace_id

router = APIRouter()


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "developer"]
    content: str | list[TextPart]

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class ChatBody(BaseModel):
    model_config = ConfigDict(extra="ignore")  # clients send seed, user, stream_options, ...
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stream: bool = False
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    n: int = Field(default=1, ge=1)
    stop: str | list[str] | None = None

    @field_validator("stop")
    @classmethod
    def _stops(cls, v):
        if isinstance(v, list) and len(v) > 4:
            raise ValueError("at most 4 stop sequences")
        return v


def _lp_json(t: TokenLogprob) -> dict:
    return {"token": t.token, "logprob": t.logprob, "bytes": list(t.token.encode()),
            "top_logprobs": [{"token": s, "logprob": lp, "bytes": list(s.encode())} for s, lp in t.top]}


def _apply_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _route(st, request: Request, body: ChatBody):
    """-> (route, runner | None); refuses unknown models and anonymous teacher access."""
    from mighty.demo.app import is_admin
    from mighty.demo.state import ROUTED_MODEL

    found = st.model_for(body.model)
    if found is None:
        names = sorted({r.name for r in st.runners.values()} | {"student", "teacher", ROUTED_MODEL})
        raise ApiError(404, "model_not_found", f"model {body.model!r} is not served here; "
                       f"use one of {names}")
    if found[0] == "teacher" and not is_admin(st, request):
        raise ApiError(401, "teacher_requires_token",
                       "direct teacher access needs the server's admin token (Authorization: "
                       f"Bearer <admin_token>); use model {ROUTED_MODEL!r} for the routed product")
    return found


def _check_common(st, body: ChatBody) -> int:
    """Checks every model shares; -> the completion budget."""
    if body.n != 1:
        raise ApiError(400, "unsupported_n", "only n=1 is supported")
    if len(body.messages) > st.cfg.limits.max_messages:
        raise ApiError(413, "too_many_messages", f"{len(body.messages)} messages; the limit is "
                       f"{st.cfg.limits.max_messages}")
    if body.top_logprobs and not body.logprobs:
        raise ApiError(400, "logprobs_required", "top_logprobs needs logprobs: true")
    cap = st.cfg.engine.max_new_tokens
    want = body.max_completion_tokens or body.max_tokens or cap
    if want > cap:
        raise ApiError(400, "max_tokens_too_large", f"max_tokens={want} exceeds this server's "
                       f"limit of {cap} (engine.max_new_tokens)")
    return want


def _check(st, body: ChatBody, route: str, runner):
    want = _check_common(st, body)
    msgs = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()}
            for m in body.messages]
    n_prompt = runner.engine.count_tokens(msgs)
    if n_prompt > st.cfg.engine.max_prompt_tokens:
        raise ApiError(413, "prompt_too_long", f"prompt is {n_prompt} tokens; the limit is "
                       f"{st.cfg.engine.max_prompt_tokens}")
    runner.admit()  # 503 now, before a stream's 200 headers go out
    k = (body.top_logprobs or 0) if body.logprobs else 0
    req = GenRequest(msgs, want, body.temperature, body.top_p, logprobs=body.logprobs, top_logprobs=k)
    return f"{route}:{runner.name}", runner, req


@router.get("/v1/models")
async def list_models(request: Request):
    from mighty.demo.state import ROUTED_MODEL

    st = request.app.state.mighty
    by_name: dict[str, list[str]] = {ROUTED_MODEL: ["routed"]}
    for route, r in st.runners.items():
        by_name.setdefault(r.name, []).append(route)
    created = int(st.started)
    return {"object": "list", "data": [
        {"id": name, "object": "model", "created": created, "owned_by": "mighty", "routes": routes}
        for name, routes in by_name.items()]}


def _question(st, body: ChatBody) -> str:
    """The routed product answers one question: the last message, which must be the user's
    (earlier turns and system prompts are the product's own business, not the caller's)."""
    from mighty.demo.app import check_question

    last = body.messages[-1]
    if last.role != "user":
        raise ApiError(400, "last_message_not_user", f"model 'mighty' answers the last message, "
                       f"which must have role 'user' (got {last.role!r})")
    return check_question(st, last.text())


async def _routed(st, request: Request, body: ChatBody, cid: str, created: int):
    """The product behind the OpenAI schema. The answer is sent once validated (a streamed
    student draft could not be retracted if the teacher replaces it), so `stream: true` gets
    it in one content chunk."""
    if body.logprobs:
        raise ApiError(400, "logprobs_need_direct_model", "logprobs come from one model; ask "
                       "model 'student' (or 'teacher' with the admin token)")
    want = _check_common(st, body)
    q = _question(st, body)
    explicit = body.max_completion_tokens or body.max_tokens
    ans = await st.assistant.answer(q, max_new_tokens=explicit and want,
                                    trace_id=request.state.trace_id)
    usage = {"prompt_tokens": ans.prompt_tokens, "completion_tokens": ans.completion_tokens,
             "total_tokens": ans.prompt_tokens + ans.completion_tokens}
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    text, stopped = _apply_stop(ans.answer, stops)
    finish = "stop" if stopped else ans.finish_reason
    extra = {"served_by": ans.served_by, "route": ans.route, "reason": ans.reason,
             "validation": ans.validation, "fallback": ans.fallback}
    headers = {"X-Served-By": ans.served_by}
    if body.stream:
        def events():
            base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": "mighty"}
            for delta, fin, more in (({"role": "assistant", "content": text}, None, {}),
                                     ({}, finish, {**extra, "usage": usage})):
                c = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": fin,
                                          "logprobs": None}], **more}
                yield f"data: {json.dumps(c)}\n\n"
            yield "data: [DONE]\n\n"
        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={**headers, "Cache-Control": "no-cache"})
    return JSONResponse({
        "id": cid, "object": "chat.completion", "created": created, "model": "mighty",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": finish, "logprobs": None}],
        "latency_ms": ans.latency_ms, "usage": usage, **extra}, headers=headers)


@router.post("/v1/chat/completions")
async def chat_completions(request: Request):
    from mighty.demo.app import check_rate

    st = request.app.state.mighty
    check_rate(st, request)
    body = await read_model(request, ChatBody, st.cfg.limits.max_body_bytes)
    route, runner = _route(st, request, body)
    cid = f"chatcmpl-{new_trace_id()}"
    created = int(time.time())
    if runner is None:
        return await _routed(st, request, body, cid, created)
    served, runner, req = _check(st, body, route, runner)
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    headers = {"X-Served-By": served}
    if body.stream:
        return StreamingResponse(_sse(runner, req, cid, created, stops, body.logprobs, served),
                                 media_type="text/event-stream",
                                 headers={**headers, "Cache-Control": "no-cache"})
    t0 = time.perf_counter()
    res: GenResult = await runner.generate(req)
    text, stopped = _apply_stop(res.text, stops)
    st.metrics.answer(served, "openai", "v1", res.completion_tokens)
    choice = {"index": 0, "message": {"role": "assistant", "content": text},
              "finish_reason": "stop" if stopped else res.finish_reason,
              "logprobs": ({"content": [_lp_json(t) for t in res.logprobs or []]}
                           if body.logprobs else None)}
    return JSONResponse({
        "id": cid, "object": "chat.completion", "created": created, "model": runner.name,
        "choices": [choice], "served_by": served,
        "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
        "usage": {"prompt_tokens": res.prompt_tokens, "completion_tokens": res.completion_tokens,
                  "total_tokens": res.prompt_tokens + res.completion_tokens}}, headers=headers)


async def _sse(runner, req: GenRequest, cid: str, created: int, stops: list[str],
               want_logprobs: bool, served: str):
    def chunk(delta: dict, finish=None, logprobs=None, **extra) -> str:
        c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": runner.name,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": logprobs}],
             **extra}
        return f"data: {json.dumps(c)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    sent, stopped, result = "", False, None
    try:
        async for item in runner.stream(req):
            if isinstance(item, GenResult):
                result = item
                break
            if stopped:
                continue
            text, stopped = _apply_stop(sent + item, stops)
            if len(text) > len(sent):
                yield chunk({"content": text[len(sent):]})
                sent = text
    except Exception as e:  # headers are gone; report in-band like OpenAI does
        yield f"data: {json.dumps({'error': {'code': 'generation_failed', 'message': str(e)}})}\n\n"
        yield "data: [DONE]\n\n"
        return
    lp = ({"content": [_lp_json(t) for t in result.logprobs or []]} if want_logprobs else None)
    yield chunk({}, "stop" if stopped else result.finish_reason, lp, served_by=served,
                usage={"prompt_tokens": result.prompt_tokens,
                       "completion_tokens": result.completion_tokens,
                       "total_tokens": result.prompt_tokens + result.completion_tokens})
    yield "data: [DONE]\n\n"
