"""Serving throughput: what `python -m mighty.demo.server` sustains against its own sampler's batches.

    python benchmarks/serving.py [--clients 32] [--new-tokens 64] [--max-batch 8] [--json F]

Side A is the real server (uvicorn on 127.0.0.1, the packaged model on both routes, STT/TTS
off, rate limits lifted): `--clients` concurrent raw-student `/v1/chat/completions` calls
(greedy, `--new-tokens`), after one untimed warm-up round. Side B is the same `ModelEngine`
the server wraps, in this process, decoding the same requests in full batches of
`--max-batch` back to back: the throughput the batcher could reach if batching cost nothing.
The server is stopped before side B starts, so the two never share the CPU. Reported:
answers/s and completion tokens/s of each side and their ratio; a ratio over 2 means the
server's batching wastes more than half the sampler (docs/demo.md, "Throughput").
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import common  # noqa: E402  (sets the CPU / offline env first)

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = ["My Bluetooth headphones won't pair with my phone.", "My smart speaker keeps dropping Wi-Fi.",
             "My soundbar has no sound over HDMI ARC.", "The left earbud is much quieter than the right."]
DEFECT_RATIO = 2.0


def messages(i: int) -> list[dict]:
    return [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]


def start_server(new_tokens: int, max_batch: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [sys.executable, "-m", "mighty.demo.server", f"port={port}", "student=smollm2-135m-instruct",
            f"engine.max_new_tokens={new_tokens}",
            f"engine.max_batch={max_batch}", f"engine.warmup_batches=[1,{max_batch}]",
            "stt.enabled=false", "tts.enabled=false", "limits.client_header=X-Client-Id",
            "limits.rate_per_s=1000", "limits.burst=1000", "limits.queue_timeout_s=900",
            "limits.max_queue=1024", "log_level=warning"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc: subprocess.Popen, url: str, timeout: float = 900) -> None:
    from mighty.demo.http_util import wait_until_serving

    wait_until_serving(proc, url, timeout)


async def fire(url: str, clients: int, new_tokens: int) -> tuple[float, int]:
    """`clients` concurrent raw-student completions -> (wall seconds, completion tokens)."""
    import httpx

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=900, limits=limits) as c:
        async def one(i: int) -> int:
            r = await c.post("/v1/chat/completions", headers={"X-Client-Id": f"bench-{i}"},
                             json={"model": "student", "messages": messages(i), "temperature": 0,
                                   "max_tokens": new_tokens})
            r.raise_for_status()
            return r.json()["usage"]["completion_tokens"]

        t0 = time.perf_counter()
        tokens = await asyncio.gather(*(one(i) for i in range(clients)))
        return time.perf_counter() - t0, sum(tokens)


def server_side(clients: int, new_tokens: int, max_batch: int, log_path: Path) -> dict:
    proc, url = start_server(new_tokens, max_batch, log_path)
    try:
        wait_ready(proc, url)
        asyncio.run(fire(url, max_batch, new_tokens))  # warm-up: prompt buckets compile here
        wall, tokens = asyncio.run(fire(url, clients, new_tokens))
    finally:
        proc.terminate()
        proc.wait(120)
    return {"side": "server", "answers": clients, "wall_s": wall, "answers/s": clients / wall,
            "tokens/s": tokens / wall}


def sampler_side(clients: int, new_tokens: int, max_batch: int) -> dict:
    from mighty.demo.config import PACKAGED_TEACHER
    from mighty.demo.engine import GenRequest, ModelEngine

    engine = ModelEngine(PACKAGED_TEACHER, batch_buckets=sorted({1, max_batch}))

    def batch(start: int) -> list:
        return engine.generate_batch([GenRequest(messages(i), new_tokens, 0.0, 1.0)
                                      for i in range(start, start + max_batch)])

    batch(0)  # compile
    t0, tokens = time.perf_counter(), 0
    for start in range(0, clients, max_batch):
        tokens += sum(r.completion_tokens for r in batch(start))
    wall = time.perf_counter() - t0
    return {"side": "sampler", "answers": clients, "wall_s": wall, "answers/s": clients / wall,
            "tokens/s": tokens / wall}


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--max-batch", type=int, default=8)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    if a.clients % a.max_batch:
        p.error("--clients must be a multiple of --max-batch (the sampler side decodes full batches)")
    log_path = Path(a.json).with_suffix(".server.log") if a.json else Path("/tmp/bench_serving.log")
    print(f"{a.clients} clients, {a.new_tokens} new tokens, batch {a.max_batch}, "
          f"{os.cpu_count()} CPUs; load {common.load_average():.1f}", flush=True)
    rows = [server_side(a.clients, a.new_tokens, a.max_batch, log_path),
            sampler_side(a.clients, a.new_tokens, a.max_batch)]
    ratio = rows[1]["tokens/s"] / rows[0]["tokens/s"]
    for r in rows:
        print(f"  {r['side']:8s} {r['answers/s']:6.2f} answers/s  {r['tokens/s']:7.1f} tokens/s  "
              f"({r['answers']} in {r['wall_s']:.1f} s)")
    verdict = "DEFECT: batching loses more than half" if ratio > DEFECT_RATIO else "ok"
    print(f"  sampler / server tokens/s = {ratio:.2f} ({verdict}; threshold {DEFECT_RATIO})")
    result = {"machine": common.machine(), "args": vars(a), "rows": rows, "ratio": ratio,
              "defect": ratio > DEFECT_RATIO}
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return rows


if __name__ == "__main__":
    main()
