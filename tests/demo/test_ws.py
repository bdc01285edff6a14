"""The /ws protocol against the real server: typed and spoken questions, errors, limits."""
import base64
import json
import time

import pytest
from websockets.sync.client import connect

pytestmark = pytest.mark.slow


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://") + "/ws"


def recv(ws, timeout=600) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def until_done(ws) -> list[dict]:
    """Messages up to and including `done` (or an `error`)."""
    msgs = []
    while True:
        m = recv(ws)
        msgs.append(m)
        if m["type"] in ("done", "error"):
            return msgs


def check_stream(msgs: list[dict]) -> dict:
    """Tokens after the last route message concatenate to the final answer."""
    done = msgs[-1]
    assert done["type"] == "done", msgs[-3:]
    kinds = [m["type"] for m in msgs]
    assert kinds[0] in ("route", "transcript")
    last_route = max(i for i, k in enumerate(kinds) if k == "route")
    tokens = [m["text"] for m in msgs[last_route:] if m["type"] == "token"]
    assert tokens, "no token messages were streamed"
    if not done["refused"]:
        assert "".join(tokens).strip() == done["answer"]
    if "fallback" in kinds:  # fallback comes before the teacher's route message
        assert kinds.index("fallback") < last_route
        assert done["fallback"]["failures"] == msgs[kinds.index("fallback")]["failures"]
    assert done["served_by"] == msgs[last_route]["served_by"]
    assert done["latency_ms"] > 0 and done["trace_id"]
    return done


def test_ready_ping_and_typed_question(server):
    with connect(ws_url(server), additional_headers={"X-Client-Id": "ws-typed"}) as ws:
        ready = recv(ws)
        assert ready["type"] == "ready" and ready["stt"] is True
        ws.send(json.dumps({"type": "ping"}))
        assert recv(ws) == {"type": "pong"}
        ws.send(json.dumps({"type": "ask", "text": "my smart speaker keeps dropping off the wifi"}))
        done = check_stream(until_done(ws))
        assert done["served_by"].endswith(":smollm2-135m-instruct")
        # a second question on the same socket works too
        ws.send(json.dumps({"type": "ask", "text": "there are sparks from my charger", "max_new_tokens": 3}))
        done = check_stream(until_done(ws))
        assert done["reason"].startswith("escalation:") and done["completion_tokens"] <= 3


def test_protocol_errors_keep_the_socket_open(server):
    with connect(ws_url(server), additional_headers={"X-Client-Id": "ws-errors"}) as ws:
        recv(ws)
        for raw, code in [("not json", "invalid_json"), ("[1, 2]", "invalid_message"),
                          ('{"type": "dance"}', "unknown_type"), ('{"type": "ask"}', "invalid_message"),
                          ('{"type": "ask", "text": "  "}', "empty_question"),
                          ('{"type": "ask", "text": "hi", "max_new_tokens": -1}', "invalid_message"),
                          ('{"type": "audio_end"}', "invalid_message"),
                          ('{"type": "audio", "data": "%%%"}', "invalid_audio"),
                          ('{"type": "ask", "text": "' + "x" * 1001 + '"}', "question_too_long"),
                          # these closed the socket with 1011
                          ('{"type": "ask", "text": ' + "[" * 5000 + "]" * 5000 + "}", "invalid_json"),
                          ('{"type": "ask", "text": "hi", "max_new_tokens": ' + "9" * 5000 + "}",
                           "invalid_json"),
                          ('{"type": "ask", "text": "why \\ud800"}', "invalid_json"),
                          ('{"type": "ask", "text": "\u200b\u2060\ufeff"}', "empty_question")]:
            ws.send(raw)
            m = recv(ws)
            assert m["type"] == "error" and m["code"] == code, (raw[:40], m)
        ws.send(b"\x00\x01not audio at all" * 10)
        m = recv(ws)
        assert m["type"] == "error" and m["code"] == "bad_audio" and m["status"] == 415
        ws.send(json.dumps({"type": "ping"}))
        assert recv(ws)["type"] == "pong"


def test_spoken_question_streamed_in_chunks(server, speech_wav):
    data = speech_wav.read_bytes()
    with connect(ws_url(server), additional_headers={"X-Client-Id": "ws-audio"}) as ws:
        recv(ws)
        ws.send(json.dumps({"type": "audio_start", "mime": "audio/wav"}))
        for i in range(0, len(data), 16_384):  # what the UI's MediaRecorder upload looks like
            ws.send(data[i:i + 16_384])
        ws.send(json.dumps({"type": "audio_end"}))
        msgs = until_done(ws)
    i = next(i for i, m in enumerate(msgs) if m["type"] == "transcript" and m["final"])
    words = msgs[i]["text"].lower()
    for w in ("bluetooth", "headphones", "pair"):
        assert w in words, msgs[i]
    check_stream(msgs[i + 1:])


def test_live_interim_transcripts_while_recording(server, speech_wav):
    data = speech_wav.read_bytes()
    step = len(data) // 6
    with connect(ws_url(server), additional_headers={"X-Client-Id": "ws-live"}) as ws:
        recv(ws)
        ws.send(json.dumps({"type": "audio_start", "mime": "audio/wav"}))
        for i in range(0, len(data), step):  # ~real time: the clip arrives over ~3.5 s
            ws.send(data[i:i + step])
            time.sleep(0.6)
        ws.send(json.dumps({"type": "audio_end"}))
        msgs = until_done(ws)
    transcripts = [m for m in msgs if m["type"] == "transcript"]
    assert [m["final"] for m in transcripts][-1] is True
    interim = [m for m in transcripts if not m["final"]]
    assert interim, "no interim transcript while the recording streamed in"
    assert len(interim[0]["text"]) <= len(transcripts[-1]["text"]) + 10
    assert msgs.index(transcripts[-1]) < [m["type"] for m in msgs].index("route")


def test_base64_audio_and_size_limit(server, speech_wav):
    with connect(ws_url(server), additional_headers={"X-Client-Id": "ws-b64"}) as ws:
        limit = recv(ws)["max_audio_bytes"]
        ws.send(json.dumps({"type": "audio_start"}))
        ws.send(b"\x00" * (limit + 1))
        m = recv(ws)
        assert m["type"] == "error" and m["code"] == "audio_too_large" and m["status"] == 413
        ws.send(json.dumps({"type": "audio", "data": base64.b64encode(speech_wav.read_bytes()).decode()}))
        t = recv(ws)
        assert t["type"] == "transcript" and "bluetooth" in t["text"].lower()
        check_stream(until_done(ws))
