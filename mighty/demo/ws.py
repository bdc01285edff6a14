"""`/ws`: one WebSocket per browser tab; questions are answered one at a time, in order.

Client -> server (schema in docs/demo.md):
  {"type":"ask","text":"...","max_new_tokens":N?}   a typed question
  {"type":"audio_start","mime":"audio/webm"?}       then binary frames (the recording), then
  {"type":"audio_end"}                              -> transcribe, then answer
  {"type":"audio","data":"<base64>","mime":...}    a whole clip in one JSON message
  a binary frame outside audio_start/audio_end      a whole clip
  {"type":"ping"}
Server -> client: ready, transcript, route, token, fallback, done, error, pong.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from mighty.demo.http_util import ApiError, client_key, parse_json
from mighty.demo.limits import Overloaded
from mighty.demo.service import new_trace_id

log = logging.getLogger("mighty.demo.ws")
router = APIRouter()


class _Session:
    def __init__(self, ws: WebSocket, st):
        self.ws, self.st = ws, st
        self.audio: bytearray | None = None  # collecting between audio_start and audio_end
        self.interim_at = 0.0  # when the last interim transcript was made
        self.interim_len = 0  # buffer size it covered
        self.client = client_key(ws, st.cfg.limits.client_header)

    async def send(self, msg: dict) -> None:
        await self.ws.send_text(json.dumps(msg))

    async def error(self, code: str, message: str, **extra) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    def admit(self) -> int:
        wait = self.st.limiter.check(self.client)
        if wait:
            self.st.metrics.event("rate_limited")
        return wait

    async def handle_text(self, raw: str) -> None:
        try:
            msg = parse_json(raw)
        except ApiError as e:
            return await self.error(e.code, e.message, status=e.status)
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            return await self.error("invalid_message", 'messages need a string "type" field')
        kind = msg["type"]
        if kind == "ping":
            return await self.send({"type": "pong"})
        if kind == "ask":
            text = msg.get("text")
            if not isinstance(text, str):
                return await self.error("invalid_message", 'ask needs a string "text"')
            return await self.answer(text, msg.get("max_new_tokens"), charge=True)
        if kind == "audio_start":
            self.audio = bytearray()
            self.interim_at, self.interim_len = time.monotonic(), 0
            return None
        if kind == "audio_end":
            if self.audio is None:
                return await self.error("invalid_message", "audio_end without audio_start")
            data, self.audio = bytes(self.audio), None
            return await self.voice(data)
        if kind == "audio":
            try:
                data = base64.b64decode(msg.get("data") or "", validate=True)
            except (binascii.Error, TypeError, ValueError):
                return await self.error("invalid_audio", "audio.data must be base64")
            return await self.voice(data)
        return await self.error("unknown_type", f"unknown message type {kind!r}; use ask, "
                                "audio_start/audio_end, audio or ping")

    async def handle_bytes(self, data: bytes) -> None:
        if self.audio is None:
            return await self.voice(data)
        self.audio.extend(data)
        limit = self.st.cfg.limits.max_audio_bytes
        if len(self.audio) > limit:
            self.audio = None
            return await self.error("audio_too_large", f"recording exceeds {limit} bytes", status=413)
        await self.interim()

    async def interim(self) -> None:
        """Live transcript of the recording so far (webm/ogg prefixes decode fine)."""
        every = self.st.cfg.stt.interim_interval_s
        if (not every or self.st.transcriber is None or self.st.stt_lock.locked()
                or time.monotonic() - self.interim_at < every or len(self.audio) <= self.interim_len):
            return
        self.interim_at, self.interim_len = time.monotonic(), len(self.audio)
        data = bytes(self.audio)
        try:
            async with self.st.stt_lock:
                t = await asyncio.to_thread(self.st.transcriber.transcribe, data)
        except Exception:  # a partial container may not decode yet; the final pass decides
            return
        if t.text:
            await self.send({"type": "transcript", "text": t.text, "final": False,
                             "duration_s": t.duration_s, "elapsed_ms": t.elapsed_ms})

    async def voice(self, data: bytes) -> None:
        from mighty.demo.app import run_stt

        if self.st.transcriber is None:
            return await self.error("stt_unavailable", "speech input is off on this server")
        if wait := self.admit():
            return await self.error("rate_limited", f"too many requests; retry in {wait}s",
                                    retry_after=wait, status=429)
        try:
            t = await run_stt(self.st, data)
        except ApiError as e:
            return await self.error(e.code, e.message, status=e.status)
        await self.send({"type": "transcript", "text": t.text, "final": True,
                         "duration_s": t.duration_s, "elapsed_ms": t.elapsed_ms})
        if not t.text.strip():
            return await self.error("no_speech", "no speech recognised; try again closer to the mic")
        await self.answer(t.text, None, charge=False)

    async def answer(self, text: str, max_new_tokens, *, charge: bool) -> None:
        from mighty.demo.app import check_question, is_admin

        if charge and (wait := self.admit()):
            return await self.error("rate_limited", f"too many requests; retry in {wait}s",
                                    retry_after=wait, status=429)
        if max_new_tokens is not None and (not isinstance(max_new_tokens, int) or max_new_tokens < 1):
            return await self.error("invalid_message", "max_new_tokens must be a positive integer")
        trace = new_trace_id()
        try:
            q = check_question(self.st, text)
            ans = await self.st.assistant.answer(q, admin=is_admin(self.st, self.ws),
                                                 max_new_tokens=max_new_tokens, trace_id=trace,
                                                 emit=self.send)
        except ApiError as e:
            return await self.error(e.code, e.message, status=e.status)
        except Overloaded as e:
            self.st.metrics.event("overloaded")
            return await self.error("overloaded", str(e), retry_after=e.retry_after, status=503)
        await self.send({"type": "done", **ans.public()})


@router.websocket("/ws")
async def websocket(ws: WebSocket):
    st = ws.app.state.mighty
    await ws.accept()
    st.metrics.event("ws_connect")
    s = _Session(ws, st)
    await s.send({"type": "ready", "stt": st.transcriber is not None, "tts": st.tts_ok,
                  "student": st.runners["student"].name, "student_checkpoint": st.student_origin,
                  "teacher": st.runners["teacher"].name,
                  "max_audio_bytes": st.cfg.limits.max_audio_bytes,
                  "max_audio_seconds": st.cfg.limits.max_audio_seconds})
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                break
            if msg.get("bytes") is not None:
                await s.handle_bytes(msg["bytes"])
            elif msg.get("text") is not None:
                await s.handle_text(msg["text"])
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("websocket session failed")
        try:
            await s.error("internal_error", "internal error; reconnect")
            await ws.close(code=1011)
        except Exception:
            pass
    finally:
        st.metrics.event("ws_disconnect")
