"""HTTP API against a real `python -m mighty.demo.server` (uvicorn on 127.0.0.1, packaged teacher)."""
import json
import math

import httpx
import pytest

pytestmark = pytest.mark.slow
MAX_NEW_TOKENS = 16  # the test server's engine.max_new_tokens (tests/demo/conftest.py)
ADMIN_TOKEN = "test-admin-token"

TROUBLESHOOT = "my bluetooth headphones will not pair with my phone"


def err(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


def test_healthz_and_models(client):
    h = client.get("/healthz").json()
    assert h["status"] == "ok" and h["stt"] and h["retrieval"]
    assert h["max_new_tokens"] == MAX_NEW_TOKENS
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    ids = [m["id"] for m in models["data"]]
    assert ids == ["mighty", "smollm2-135m-instruct"]  # the product; one engine serves both routes
    assert models["data"][0]["routes"] == ["routed"]
    assert sorted(models["data"][1]["routes"]) == ["student", "teacher"]


def test_ask_answer_schema_and_client_truncation(client):
    # 3 new tokens after the "1." prefix cannot hold the 2 numbered steps the validator asks
    # for. The client chose that cut, so the student's answer stands: a truncation the client
    # imposes never buys a teacher answer (the fallback itself: tests/demo/test_service.py).
    r = client.post("/ask", json={"question": TROUBLESHOOT, "max_new_tokens": 3})
    assert r.status_code == 200, r.text
    a = r.json()
    assert set(a) >= {"answer", "steps", "served_by", "refused", "trace_id", "latency_ms", "route",
                      "reason", "validation", "fallback", "retrieval", "prompt_tokens"}
    assert a["answer"].strip() and isinstance(a["steps"], list)
    assert a["served_by"] == r.headers["X-Served-By"] == "student:smollm2-135m-instruct"
    assert r.headers["X-Trace-Id"] == a["trace_id"] and a["latency_ms"] > 0
    assert a["completion_tokens"] <= 3 and a["answer"].startswith("1.")
    assert a["finish_reason"] == "length" and a["prompt_tokens"] > 0
    assert a["retrieval"]["issue_id"] and 0 <= a["retrieval"]["confidence"] <= 1
    assert a["fallback"] is None and a["route"] == "student"
    assert a["validation"] == ["no_steps"]  # recorded, not acted on


def test_escalation_goes_to_teacher(client):
    a = client.post("/ask", json={"question": "my soundbar smells of burning and there is smoke"}).json()
    assert a["route"] == "teacher" and a["reason"].startswith("escalation:"), a
    assert a["fallback"] is None  # escalations are not held to the numbered-steps rule
    assert a["served_by"].startswith("teacher:")


def test_admin_flag_forces_teacher(client):
    r = client.post("/ask", json={"question": TROUBLESHOOT, "max_new_tokens": 4},
                    headers={"X-Admin-Token": ADMIN_TOKEN})
    assert r.status_code == 200 and r.json()["reason"] == "admin_flag"
    assert r.json()["completion_tokens"] <= 4
    r = client.post("/ask", json={"question": TROUBLESHOOT}, headers={"X-Admin-Token": "wrong"})
    err(r, 401, "bad_admin_token")


@pytest.mark.parametrize("kwargs,status,code", [
    (dict(content=b"not json", headers={"Content-Type": "application/json"}), 400, "invalid_json"),
    (dict(content=b"question=x", headers={"Content-Type": "application/x-www-form-urlencoded"}),
     415, "unsupported_media_type"),
    (dict(json={}), 422, "invalid_body"),
    (dict(json=["a list"]), 422, "invalid_body"),
    (dict(json={"question": 42}), 422, "invalid_body"),
    (dict(json={"question": "ok", "extra": 1}), 422, "invalid_body"),
    (dict(json={"question": "ok", "max_new_tokens": 0}), 422, "invalid_body"),
    (dict(json={"question": "   "}), 422, "empty_question"),
    (dict(json={"question": "x" * 1001}), 413, "question_too_long"),
    (dict(content=b'{"question": "' + b"x" * 70_000 + b'"}',
          headers={"Content-Type": "application/json"}), 413, "payload_too_large"),
    *[(dict(content=raw, headers={"Content-Type": "application/json"}), status, code)
      for raw, status, code in [
          # each of these was a 500 (RecursionError, ValueError, tokenizer TypeError)
          (b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "invalid_json"),
          (b'{"question": "ok", "max_new_tokens": ' + b"9" * 5000 + b"}", 400, "invalid_json"),
          (b'{"question": "why \\ud800"}', 400, "invalid_json"),
          ('{"question": "\u200b\u200b \u2060\ufeff\u200d"}'.encode(), 422, "empty_question"),
      ]],
])
def test_ask_rejects_bad_input(client, kwargs, status, code):
    err(client.post("/ask", **kwargs), status, code)
    assert client.get("/healthz").status_code == 200  # still up


def test_unknown_route_and_method(client):
    err(client.get("/nope"), 404, "not_found")
    err(client.get("/ask"), 405, "method_not_allowed")


def test_rate_limit_429_with_retry_after(server):
    # burst=30, 1 token/s: 40 quick requests from one client must hit the limit. Bad bodies are
    # refused after the rate check, so this costs no decoding.
    with httpx.Client(base_url=server.url, headers={"X-Client-Id": "rate-limit-test"}) as c:
        codes = [c.post("/ask", content=b"{}", headers={"Content-Type": "application/json"})
                 for _ in range(40)]
    limited = [r for r in codes if r.status_code == 429]
    assert limited, [r.status_code for r in codes]
    assert {r.status_code for r in codes} <= {422, 429}
    e = err(limited[0], 429, "rate_limited")
    assert e["type"] == "rate_limit_error" and int(limited[0].headers["Retry-After"]) >= 1
    with httpx.Client(base_url=server.url, headers={"X-Client-Id": "another-client"}) as c:
        assert c.post("/ask", json={}).status_code == 422  # other clients unaffected


def test_openai_chat_logprobs_for_a_judge(client):
    body = {"model": "teacher", "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 5,
            "messages": [{"role": "system", "content": "Grade the answer from 1 to 5. Reply with one digit."},
                         {"role": "user", "content": "Answer: 1. Reset the speaker. Score:"}]}
    r = client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["object"] == "chat.completion" and c["model"] == "smollm2-135m-instruct"
    assert c["served_by"] == "teacher:smollm2-135m-instruct"
    choice = c["choices"][0]
    assert choice["finish_reason"] in ("stop", "length")
    content = choice["logprobs"]["content"]
    assert len(content) == 1 and c["usage"]["completion_tokens"] <= 1
    top = content[0]["top_logprobs"]
    assert len(top) == 5
    lps = [t["logprob"] for t in top]
    assert lps == sorted(lps, reverse=True) and all(lp <= 0 for lp in lps)
    assert sum(math.exp(lp) for lp in lps) <= 1.0 + 1e-4
    # greedy: the generated token is the most likely one
    assert content[0]["token"] == top[0]["token"] and content[0]["logprob"] == pytest.approx(lps[0], abs=1e-5)
    if choice["finish_reason"] == "length":
        assert choice["message"]["content"] == content[0]["token"]


def test_openai_stream_matches_non_stream(client):
    body = {"model": "smollm2-135m-instruct", "max_tokens": MAX_NEW_TOKENS, "temperature": 0,
            "messages": [{"role": "user", "content": "How do I reset my smart plug?"}]}
    full = client.post("/v1/chat/completions", json=body).json()
    text = full["choices"][0]["message"]["content"]
    chunks, done = [], False
    with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if not line:
                continue
            assert line.startswith("data: ")
            if line == "data: [DONE]":
                done = True
                break
            chunks.append(json.loads(line[6:]))
    assert done and chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert streamed == text and len(chunks) > 3  # really streamed, token by token
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == full["choices"][0]["finish_reason"]
    # an engine name serving both routes is the student's (direct, anonymous, cheap)
    assert last["usage"] == full["usage"] and last["served_by"].startswith("student:")


def test_openai_default_is_the_routed_product_and_the_teacher_needs_a_token(client):
    ask = [{"role": "system", "content": "ignored"}, {"role": "user", "content": TROUBLESHOOT}]
    r = client.post("/v1/chat/completions", json={"messages": ask})
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["model"] == "mighty" and c["served_by"] == r.headers["X-Served-By"]
    assert c["route"] in ("student", "teacher") and "validation" in c and "reason" in c
    assert c["choices"][0]["message"]["content"].strip()
    same = client.post("/ask", json={"question": TROUBLESHOOT}).json()  # the same product
    assert c["choices"][0]["message"]["content"] == same["answer"] and c["served_by"] == same["served_by"]
    # max_tokens=1 fails validation by the client's choice: the student's token stands
    r = client.post("/v1/chat/completions", json={"messages": ask, "max_tokens": 1}).json()
    assert r["served_by"].startswith("student:") and r["fallback"] is None
    assert r["choices"][0]["finish_reason"] == "length" and r["usage"]["completion_tokens"] == 1
    # the teacher directly: refused without the token, and with a wrong one
    direct = {"model": "teacher", "messages": ask, "max_tokens": 1}
    err(client.post("/v1/chat/completions", json=direct), 401, "teacher_requires_token")
    err(client.post("/v1/chat/completions", json=direct, headers={"Authorization": "Bearer nope"}),
        401, "bad_admin_token")
    err(client.post("/v1/chat/completions", json=direct, headers={"X-Admin-Token": ADMIN_TOKEN[:-1]}),
        401, "bad_admin_token")
    ok = client.post("/v1/chat/completions", json=direct, headers={"X-Admin-Token": ADMIN_TOKEN})
    assert ok.status_code == 200 and ok.json()["served_by"].startswith("teacher:")
    err(client.post("/v1/chat/completions", json={"messages": ask[:1]}), 400, "last_message_not_user")
    err(client.post("/v1/chat/completions", json={"messages": ask, "logprobs": True}),
        400, "logprobs_need_direct_model")


@pytest.mark.parametrize("patch,status,code", [
    ({"model": "gpt-9"}, 404, "model_not_found"),
    ({"n": 2}, 400, "unsupported_n"),
    ({"max_tokens": MAX_NEW_TOKENS + 1}, 400, "max_tokens_too_large"),
    ({"top_logprobs": 3}, 400, "logprobs_required"),
    ({"logprobs": True, "top_logprobs": 21}, 422, "invalid_body"),
    ({"messages": []}, 422, "invalid_body"),
    ({"messages": [{"role": "wizard", "content": "hi"}]}, 422, "invalid_body"),
    ({"temperature": 3}, 422, "invalid_body"),
    ({"messages": [{"role": "user", "content": "hi"}] * 33}, 413, "too_many_messages"),
    ({"messages": [{"role": "user", "content": "word " * 1500}]}, 413, "question_too_long"),
    ({"model": "student", "messages": [{"role": "user", "content": "word " * 1500}]}, 413,
     "prompt_too_long"),
])
def test_openai_rejects_bad_requests(client, patch, status, code):
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, **patch}
    err(client.post("/v1/chat/completions", json=body), status, code)


def test_metrics_count_routes_and_served_by(client):
    client.post("/ask", json={"question": "my speaker crackles and there are sparks", "max_new_tokens": 2})
    text = client.get("/metrics").text
    assert 'mighty_requests_total{path="/ask",status="200"}' in text
    assert 'mighty_served_by_total{model="teacher:smollm2-135m-instruct"}' in text
    assert 'mighty_route_total{route="teacher",reason="escalation"}' in text
    assert 'mighty_request_latency_seconds_bucket{path="/ask",le="+Inf"}' in text
    j = client.get("/metrics", params={"format": "json"}).json()
    assert j["served_by"]["teacher:smollm2-135m-instruct"] >= 1 and j["gauges"]["batches_total"] >= 1
    err(client.get("/metrics", params={"format": "xml"}), 400, "bad_format")


def test_transcribe_endpoint(client, speech_wav):
    wav = speech_wav.read_bytes()
    r = client.post("/transcribe", content=wav, headers={"Content-Type": "audio/wav"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert all(w in t["text"].lower() for w in ("bluetooth", "headphones", "pair")), t
    assert t["model"] == "faster-whisper:tiny.en" and t["duration_s"] > 2
    r = client.post("/transcribe", files={"audio": ("q.wav", wav, "audio/wav")})
    assert r.status_code == 200 and "bluetooth" in r.json()["text"].lower()


def test_transcribe_rejects_bad_audio(client):
    import io
    import wave

    err(client.post("/transcribe", content=b"\x00" * 600_001, headers={"Content-Type": "audio/webm"}),
        413, "audio_too_large")
    buf = io.BytesIO()  # 13 s of 16 kHz silence: 416 kB, under the byte limit, over 12 s
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 16000 * 13)
    err(client.post("/transcribe", content=buf.getvalue(), headers={"Content-Type": "audio/wav"}),
        413, "audio_too_long")
    err(client.post("/transcribe", content=b"not audio" * 50, headers={"Content-Type": "audio/ogg"}),
        415, "bad_audio")
    err(client.post("/transcribe", content=b"{}", headers={"Content-Type": "application/json"}),
        415, "unsupported_media_type")
    err(client.post("/transcribe", files={"other": ("x", b"1")}), 422, "missing_audio")
    assert client.get("/healthz").status_code == 200


def test_tts_endpoint(client):
    r = client.post("/tts", json={"text": "1. Hold the power button."})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.content[:4] == b"RIFF" and len(r.content) > 20_000
    err(client.post("/tts", json={"text": "  "}), 422, "empty_text")
    err(client.post("/tts", json={"text": "a" * 2001}), 413, "text_too_long")
