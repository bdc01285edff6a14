"""A real OpenAI-compatible HTTP server for the judge client tests (run as a uvicorn process).

`python tests/rewards/judge_server.py --port N [--teacher]`

* `POST /v1/chat/completions`: with `--teacher`, runs the packaged SmolLM2 teacher through
  `models` (greedy decoding, real `top_logprobs`); otherwise answers with a configured
  score (text, and logprobs from a configured distribution).
* Fault injection, set through `POST /control` (JSON): `fail_next` (the next N requests get
  HTTP `fail_status`), `delay_next` (the next N requests sleep `delay_s` before answering),
  `reject_logprobs` (HTTP 400 when logprobs are requested), `logprobs` (whether to return
  them), `text`, `dist` ({token: prob}).
* `GET /stats` -> {"requests": count of chat-completion requests received}; `POST /reset`.
"""
from __future__ import annotations

import argparse
import asyncio
import math

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DEFAULTS = dict(fail_next=0, fail_status=503, delay_next=0, delay_s=0.0, reject_logprobs=False,
                logprobs=True, text="7", dist={"7": 0.6, "8": 0.3, "6": 0.1})


class TeacherBackend:
    """Greedy decoding with the packaged teacher; returns text + OpenAI-style logprobs."""

    def __init__(self):
        import jax
        import jax.numpy as jnp
        from mighty import models

        self.jnp, self.jax = jnp, jax
        self.model, self.tok = models.load_pretrained("smollm2-135m-instruct")

    def __call__(self, messages: list[dict], max_tokens: int, top_k: int) -> tuple[str, list[dict], int]:
        ids = self.tok.chat(messages)
        n_prompt, content, out = len(ids), [], []
        for _ in range(max_tokens):
            x, m = self.tok.batch([ids], bucket="pow2")
            logits = self.model(self.jnp.asarray(x), attention_mask=self.jnp.asarray(m))[0, -1]
            lp = self.jax.nn.log_softmax(logits)
            top = self.jnp.argsort(-lp)[:max(top_k, 1)].tolist()
            nxt = top[0]
            if nxt == self.tok.eos_id:
                break
            content.append({"token": self.tok.decode([nxt]), "logprob": float(lp[nxt]),
                            "top_logprobs": [{"token": self.tok.decode([t]), "logprob": float(lp[t])}
                                             for t in top]})
            out.append(nxt)
            ids = ids + [nxt]
        return self.tok.decode(out), content, n_prompt


def build_app(teacher: bool = False) -> FastAPI:
    app = FastAPI()
    state = {"cfg": dict(DEFAULTS), "requests": 0}
    backend = TeacherBackend() if teacher else None

    @app.post("/control")
    async def control(req: Request):
        state["cfg"].update(await req.json())
        return state["cfg"]

    @app.post("/reset")
    async def reset():
        state["cfg"], state["requests"] = dict(DEFAULTS), 0
        return {"ok": True}

    @app.get("/stats")
    async def stats():
        return {"requests": state["requests"]}

    @app.post("/v1/chat/completions")
    async def chat(req: Request):
        body = await req.json()
        cfg = state["cfg"]
        state["requests"] += 1
        if cfg["fail_next"] > 0:
            cfg["fail_next"] -= 1
            return JSONResponse({"error": "injected failure"}, status_code=cfg["fail_status"])
        if cfg["delay_next"] > 0:
            cfg["delay_next"] -= 1
            await asyncio.sleep(cfg["delay_s"])
        want_lp = bool(body.get("logprobs"))
        if want_lp and cfg["reject_logprobs"]:
            return JSONResponse({"error": "logprobs not supported"}, status_code=400)
        if backend is not None:
            text, content, n_prompt = await asyncio.to_thread(
                backend, body["messages"], int(body.get("max_tokens", 2)),
                int(body.get("top_logprobs", 5)))
        else:
            text, n_prompt = cfg["text"], sum(len(m["content"].split()) for m in body["messages"])
            content = [{"token": max(cfg["dist"], key=cfg["dist"].get), "logprob": 0.0,
                        "top_logprobs": [{"token": t, "logprob": math.log(p)}
                                         for t, p in cfg["dist"].items()]}]
        choice = {"index": 0, "finish_reason": "stop",
                  "message": {"role": "assistant", "content": text}}
        if want_lp and cfg["logprobs"]:
            choice["logprobs"] = {"content": content}
        return {"id": "cmpl-test", "object": "chat.completion", "model": body.get("model"),
                "choices": [choice],
                "usage": {"prompt_tokens": n_prompt, "completion_tokens": max(len(content), 1)}}

    return app


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--teacher", action="store_true")
    a = ap.parse_args()
    uvicorn.run(build_app(a.teacher), host="127.0.0.1", port=a.port, log_level="warning")
