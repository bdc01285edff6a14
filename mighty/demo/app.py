"""The FastAPI app: web UI, `/ask`, `/ws`, `/transcribe`, `/tts`, the OpenAI-compatible `/v1`
routes, `/healthz` and `/metrics`. Build it with `create_app(cfg)`; `python -m mighty.demo.server` runs it.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from mighty.demo.config import ServeConfig
from mighty.demo.http_util import ApiError, client_key, error_response, read_body, read_model, visible_text
from mighty.demo.limits import Overloaded
from mighty.demo.service import new_trace_id
from mighty.demo.state import ServerState, build_state

log = logging.getLogger("mighty.demo.app")
STATIC = Path(__file__).parent / "static"


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    max_new_tokens: int | None = Field(default=None, ge=1)


class TtsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


def get_state(request_or_ws) -> ServerState:
    return request_or_ws.app.state.mighty


def check_rate(st: ServerState, request_or_ws) -> None:
    wait = st.limiter.check(client_key(request_or_ws, st.cfg.limits.client_header))
    if wait:
        st.metrics.event("rate_limited")
        raise ApiError(429, "rate_limited", f"too many requests from this client; retry in {wait}s",
                       headers={"Retry-After": str(wait)})


def check_question(st: ServerState, q: str) -> str:
    q = visible_text(q)
    if not q:
        raise ApiError(422, "empty_question", "question is empty; ask about a device problem")
    if len(q) > st.cfg.limits.max_question_chars:
        raise ApiError(413, "question_too_long", f"question is {len(q)} characters; the limit is "
                       f"{st.cfg.limits.max_question_chars}")
    return q


def presented_token(request_or_ws) -> str | None:
    """The admin token a client sent: `X-Admin-Token`, or `Authorization: Bearer` (what OpenAI
    clients send as their API key)."""
    token = request_or_ws.headers.get("x-admin-token")
    if token is None:
        auth = request_or_ws.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
    return token


def is_admin(st: ServerState, request_or_ws) -> bool:
    """False without a token; True for the configured one; 401 for any other. Compared in
    constant time, so response timing does not leak how much of a guess was right."""
    token = presented_token(request_or_ws)
    if token is None:
        return False
    if not st.cfg.admin_token or not hmac.compare_digest(token.encode(), st.cfg.admin_token.encode()):
        raise ApiError(401, "bad_admin_token", "the admin token does not match the server's admin_token")
    return True


def create_app(cfg: ServeConfig, *, state: ServerState | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        st = state or await asyncio.to_thread(build_state, cfg)
        for r in {id(r): r for r in st.runners.values()}.values():
            r.start()
        app.state.mighty = st
        log.info("ready: student=%s teacher=%s stt=%s tts=%s retrieval=%s",
                 st.runners["student"].name, st.runners["teacher"].name,
                 st.transcriber is not None, st.tts_ok, st.retrieval_ok)
        yield
        # uvicorn has already waited (up to shutdown_grace_s) for in-flight requests.
        for r in {id(r): r for r in st.runners.values()}.values():
            await r.close()
        log.info("shut down cleanly")

    app = FastAPI(title="Mighty troubleshooting demo", lifespan=lifespan, docs_url="/docs")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError):
        return error_response(e.status, e.code, e.message, e.headers)

    @app.exception_handler(Overloaded)
    async def _overloaded(request: Request, e: Overloaded):
        get_state(request).metrics.event("overloaded")
        return error_response(503, "overloaded", str(e), {"Retry-After": str(e.retry_after)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError):
        msg = "; ".join(f"{'.'.join(map(str, x.get('loc', ())))}: {x.get('msg')}" for x in e.errors()[:5])
        return error_response(422, "invalid_request", msg)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code, "http_error")
        return error_response(e.status_code, code, f"{request.method} {request.url.path}: {e.detail}")

    @app.middleware("http")
    async def _observe(request: Request, call_next):
        t0 = time.perf_counter()
        trace = request.headers.get("x-trace-id", "")[:64] or new_trace_id()
        request.state.trace_id = trace
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unhandled error trace=%s path=%s", trace, request.url.path)
            response = error_response(500, "internal_error", f"internal error (trace {trace})")
        response.headers["X-Trace-Id"] = trace
        st = getattr(request.app.state, "mighty", None)
        if st is not None:
            path = request.scope.get("route").path if request.scope.get("route") else "other"
            st.metrics.request(path, response.status_code, time.perf_counter() - t0)
        return response

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.post("/ask")
    async def ask(request: Request):
        st = get_state(request)
        check_rate(st, request)
        body = await read_model(request, AskBody, st.cfg.limits.max_body_bytes)
        q = check_question(st, body.question)
        ans = await st.assistant.answer(q, admin=is_admin(st, request),
                                        max_new_tokens=body.max_new_tokens,
                                        trace_id=request.state.trace_id)
        return JSONResponse(ans.public(), headers={"X-Served-By": ans.served_by})

    @app.post("/transcribe")
    async def transcribe(request: Request):
        st = get_state(request)
        check_rate(st, request)
        audio = await read_audio(st, request)
        t = await run_stt(st, audio)
        return {"text": t.text, "duration_s": t.duration_s, "elapsed_ms": t.elapsed_ms,
                "model": st.transcriber.name}

    @app.post("/tts")
    async def tts(request: Request):
        st = get_state(request)
        if not st.tts_ok:
            raise ApiError(503, "tts_unavailable", "read-back is off or espeak-ng is not installed")
        check_rate(st, request)
        body = await read_model(request, TtsBody, st.cfg.limits.max_body_bytes)
        text = visible_text(body.text)
        if not text:
            raise ApiError(422, "empty_text", "text is empty")
        if len(text) > st.cfg.tts.max_chars:
            raise ApiError(413, "text_too_long", f"text is {len(text)} characters; the limit is "
                           f"{st.cfg.tts.max_chars}")
        from mighty.demo.tts import synthesize

        wav = await asyncio.to_thread(synthesize, text, voice=st.cfg.tts.voice, wpm=st.cfg.tts.speed_wpm)
        st.metrics.event("tts")
        return Response(wav, media_type="audio/wav")

    @app.get("/healthz")
    async def healthz(request: Request):
        st = get_state(request)
        return {"status": "ok", "student": st.runners["student"].name,
                "student_checkpoint": st.student_origin, "teacher": st.runners["teacher"].name, "stt": st.transcriber is not None,
                "tts": st.tts_ok, "retrieval": st.retrieval_ok, "retrieval_origin": st.retrieval_origin,
                "intent_origin": st.intent_origin,
                "uptime_s": round(time.time() - st.started, 1),
                "queue": {k: r.stats() for k, r in st.runners.items()},
                "max_new_tokens": st.cfg.engine.max_new_tokens}

    @app.get("/metrics")
    async def metrics(request: Request, format: str = "prometheus"):
        st = get_state(request)
        runners = {id(r): r for r in st.runners.values()}.values()
        gauges = {"queue_depth": sum(len(r.pending) for r in runners),
                  "active_batches": sum(r.active_batches for r in runners),
                  "batches_total": sum(r.batches_run for r in runners),
                  "batched_rows_total": sum(r.rows_run for r in runners)}
        if format == "json":
            return st.metrics.as_json(gauges)
        if format != "prometheus":
            raise ApiError(400, "bad_format", "format must be 'prometheus' or 'json'")
        return PlainTextResponse(st.metrics.as_prometheus(gauges),
                                 media_type="text/plain; version=0.0.4")

    from mighty.demo.openai_api import router as openai_router
    from mighty.demo.ws import router as ws_router

    app.include_router(openai_router)
    app.include_router(ws_router)
    return app


async def read_audio(st: ServerState, request: Request) -> bytes:
    if st.transcriber is None:
        raise ApiError(503, "stt_unavailable", "speech input is off on this server (stt.enabled=false)")
    ctype = request.headers.get("content-type", "").lower()
    limit = st.cfg.limits.max_audio_bytes
    if ctype.startswith("multipart/form-data"):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit + 64_000:  # + part headers
            raise ApiError(413, "audio_too_large", f"upload is {declared} bytes; the audio limit "
                           f"is {limit} bytes")
        from starlette.formparsers import MultiPartException

        try:  # max_part_size bounds memory for chunked uploads without Content-Length
            form = await request.form(max_files=1, max_fields=8, max_part_size=limit + 1)
        except MultiPartException as e:
            raise ApiError(413 if "size" in str(e).lower() else 400, "bad_multipart", str(e)) from None
        f = form.get("audio") or form.get("file")
        if f is None or isinstance(f, str):
            raise ApiError(422, "missing_audio", "multipart upload needs a file field named 'audio'")
        data = await f.read()
        if len(data) > limit:
            raise ApiError(413, "audio_too_large", f"audio is {len(data)} bytes; the limit is {limit} bytes")
        return data
    if not (ctype.startswith("audio/") or ctype.startswith("video/webm")
            or ctype.startswith("application/octet-stream")):
        raise ApiError(415, "unsupported_media_type", "send audio/* (webm, ogg, wav, mp3) or "
                       f"multipart/form-data with an 'audio' file; got {ctype or 'none'!r}")
    try:
        return await read_body(request, limit, "audio")
    except ApiError as e:
        if e.status == 413:
            raise ApiError(413, "audio_too_large", e.message) from None
        raise


async def run_stt(st: ServerState, audio: bytes):
    from mighty.demo.stt import AudioError

    async with st.stt_lock:
        try:
            t = await asyncio.to_thread(st.transcriber.transcribe, audio)
        except AudioError as e:
            st.metrics.event(f"stt_{e.code}")
            raise ApiError(e.status, e.code, str(e)) from None
    st.metrics.event("stt")
    return t
