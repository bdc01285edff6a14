"""HttpJudge against a real uvicorn server process on 127.0.0.1 (tests/rewards/judge_server.py)."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from mighty.demo.http_util import wait_until_serving
from mighty.rewards.judge import JudgeHTTPError, JudgeParseError, JudgeTimeoutError
from mighty.rewards.judge_cache import JudgeCache
from mighty.rewards.judge_http import HttpJudge

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).with_name("judge_server.py")
KB = {"steps": ["Turn the speaker off.", "Hold the Bluetooth button for 5 seconds.",
                "Pair it again from your phone."], "safety": False}
Q = "My speaker won't pair with my phone."
GOOD = "1. Turn the speaker off.\n2. Hold the Bluetooth button for 5 seconds.\n3. Pair it again."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], wait_s: float) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen([sys.executable, *args, "--port", str(port)], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, url, wait_s, path="/stats", interval=0.2)
    except TimeoutError:
        proc.kill()
        raise
    return proc, url


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def server():
    proc, url = _start([str(SERVER)], 60)
    yield url
    _stop(proc)


@pytest.fixture
def srv(server):
    httpx.post(server + "/reset").raise_for_status()
    return server


def control(url, **kw):
    httpx.post(url + "/control", json=kw).raise_for_status()


def requests_seen(url) -> int:
    return httpx.get(url + "/stats").json()["requests"]


def make_judge(url, **kw) -> HttpJudge:
    kw = {"timeout_s": 1.0, "max_retries": 2, "backoff_s": 0.05, "backoff_max_s": 0.2, **kw}
    return HttpJudge(url + "/v1", model="test", **kw)


def test_logprob_score_is_expectation_and_cache_hit_skips_http(srv, tmp_path):
    judge = make_judge(srv, cache=JudgeCache(tmp_path))
    s = judge.score_batch([Q], [GOOD], kb_entries=[KB])
    # server dist {"7": .6, "8": .3, "6": .1} -> 4.2 + 2.4 + 0.6 = 7.2
    np.testing.assert_allclose(s, [7.2])
    assert requests_seen(srv) == 1
    s2 = judge.score_batch([Q], [GOOD], kb_entries=[KB])
    np.testing.assert_allclose(s2, [7.2])
    assert requests_seen(srv) == 1, "cache hit must not call the server"
    assert judge.stats.cache_hits == 1 and judge.stats.cache_misses == 1
    # a fresh judge on the same on-disk cache also hits it
    again = make_judge(srv, cache=JudgeCache(tmp_path))
    np.testing.assert_allclose(again.score_batch([Q], [GOOD], kb_entries=[KB]), [7.2])
    assert requests_seen(srv) == 1
    # a different completion is a miss
    judge.score_batch([Q], [GOOD + " 4. Done."], kb_entries=[KB])
    assert requests_seen(srv) == 2


def test_timeout_then_retry_then_success(srv):
    control(srv, delay_next=1, delay_s=3.0)
    judge = make_judge(srv, timeout_s=0.5)
    np.testing.assert_allclose(judge.score_batch([Q], [GOOD], kb_entries=[KB]), [7.2])
    assert requests_seen(srv) == 2
    assert judge.stats.retries == 1 and judge.stats.http_calls == 2


def test_5xx_and_429_are_retried(srv):
    control(srv, fail_next=2, fail_status=503)
    judge = make_judge(srv)
    np.testing.assert_allclose(judge.score_batch([Q], [GOOD]), [7.2])
    assert requests_seen(srv) == 3
    control(srv, fail_next=1, fail_status=429)
    judge.score_batch([Q], ["other answer"])
    assert requests_seen(srv) == 5


def test_exhausted_timeouts_raise_named_error(srv):
    control(srv, delay_next=10, delay_s=2.0)
    judge = make_judge(srv, timeout_s=0.3, max_retries=2)
    with pytest.raises(JudgeTimeoutError) as ei:
        judge.score_batch([Q, Q], ["cached-later", GOOD])
    msg = str(ei.value)
    assert "http:test" in msg and srv + "/v1/chat/completions" in msg
    assert "item 0" in msg or "item 1" in msg
    assert "3 attempts" in msg


def test_exhausted_5xx_and_non_retryable_4xx(srv):
    control(srv, fail_next=10, fail_status=500)
    with pytest.raises(JudgeHTTPError, match=r"item 0 failed after 3 attempts; last error: HTTP 500"):
        make_judge(srv).score_batch([Q], [GOOD])
    httpx.post(srv + "/reset")
    control(srv, fail_next=1, fail_status=404)
    with pytest.raises(JudgeHTTPError, match="HTTP 404 \\(not retried\\)"):
        make_judge(srv).score_batch([Q], [GOOD])
    assert requests_seen(srv) == 1


def test_text_fallback_and_strict_parse(srv):
    control(srv, logprobs=False, text=" 9/10 ")
    judge = make_judge(srv)
    np.testing.assert_allclose(judge.score_batch([Q], [GOOD]), [9.0])
    control(srv, text="I think it deserves a 9")
    with pytest.raises(JudgeParseError, match="item 0 is not an integer 0..10"):
        judge.score_batch([Q], ["another"])
    # a server rejecting logprobs (400) switches an "auto" judge to text parsing
    control(srv, reject_logprobs=True, logprobs=True, text="4")
    auto = make_judge(srv)
    np.testing.assert_allclose(auto.score_batch([Q], ["third"]), [4.0])
    assert auto.logprobs is False


def test_concurrent_batch_and_fluency_scale(srv):
    judge = make_judge(srv, max_concurrency=4)
    answers = [f"answer {i}" for i in range(8)]
    s = judge.score_batch([Q] * 8, answers, aspect="tech")
    np.testing.assert_allclose(s, np.full(8, 7.2))
    assert requests_seen(srv) == 8
    control(srv, dist={"3": 0.5, "4": 0.5, "9": 0.9})  # 9 is off the 0..5 fluency scale
    np.testing.assert_allclose(judge.score_batch([Q], ["x"], aspect="fluency"), [3.5])


def test_two_token_ten_split():
    # first token "1" greedy; P("0" | "1") = 0.5 splits P("1") = 0.4 into 1 and 10
    content = [{"token": "1", "logprob": np.log(0.4),
                "top_logprobs": [{"token": "1", "logprob": np.log(0.4)},
                                 {"token": "9", "logprob": np.log(0.6)}]},
               {"token": "0", "logprob": np.log(0.5),
                "top_logprobs": [{"token": "0", "logprob": np.log(0.5)}]}]
    d = HttpJudge.distribution(content, 10)
    np.testing.assert_allclose([d[1], d[9], d[10]], [0.2, 0.6, 0.2])


@pytest.mark.slow
def test_real_teacher_server_end_to_end(tmp_path):
    """The packaged teacher behind a real server: logprob scoring works and is cached."""
    proc, url = _start([str(SERVER), "--teacher"], 240)
    try:
        judge = HttpJudge(url + "/v1", model="smollm2", timeout_s=120, max_retries=0,
                          cache=JudgeCache(tmp_path))
        s = judge.score_batch([Q], [GOOD], kb_entries=[KB])
        assert 0.0 <= s[0] <= 10.0
        assert judge.cache.meta(list(judge.cache._conn.execute(
            "SELECT key FROM scores").fetchone())[0])["source"] in ("logprobs", "text")
        judge.score_batch([Q], [GOOD], kb_entries=[KB])
        assert requests_seen(url) == 1
    finally:
        _stop(proc)


@pytest.mark.slow
def test_demo_server_as_judge(tmp_path):
    """The project's own /v1/chat/completions server (teacher engine) as the judge backend."""
    port = _free_port()
    token = "judge-test-token"  # direct teacher access needs the server's admin token
    proc = subprocess.Popen([sys.executable, "-m", "mighty.demo.server", "host=127.0.0.1",
                             f"port={port}", f"admin_token={token}",
                             "student=smollm2-135m-instruct"], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, url, 600)
        judge = HttpJudge(url + "/v1", model="teacher", api_key=token, timeout_s=120, max_retries=1,
                          cache=JudgeCache(tmp_path))
        s = judge.score_batch([Q, Q], [GOOD, "Bananas are yellow."], kb_entries=[KB, KB])
        assert s.shape == (2,) and np.all((s >= 0) & (s <= 10))
        calls = judge.stats.http_calls
        judge.score_batch([Q], [GOOD], kb_entries=[KB])
        assert judge.stats.http_calls == calls and judge.stats.cache_hits == 1
    finally:
        _stop(proc)


class _Trickle:
    """A real HTTP server on loopback that sends a 200 header, then one body byte per second."""

    def __init__(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    for _ in range(60):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(1.0)
                except OSError:
                    pass  # the client gave up: what the test wants

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_trickling_server_hits_the_wall_clock_deadline_with_the_real_cause():
    t = _Trickle()
    try:
        judge = HttpJudge(t.url, timeout_s=2.0, max_retries=0, logprobs=False)
        t0 = time.monotonic()
        with pytest.raises(JudgeTimeoutError, match=r"item 0.*deadline of 2.0s passed while reading the response body"):
            judge.score_batch(["q"], ["a"], kb_entries=[None], references=None, aspect="tech")
        assert time.monotonic() - t0 < 2.0 + 1.5  # deadline + one trickle interval + slack
        # a batch budget stops a batch of several items early, naming the budget
        judge = HttpJudge(t.url, timeout_s=2.0, max_retries=3, backoff_s=0.01, backoff_max_s=0.01,
                          logprobs=False, batch_budget_s=3.0, max_concurrency=1)
        t0 = time.monotonic()
        with pytest.raises(JudgeTimeoutError, match="batch budget of 3.0s is spent"):
            judge.score_batch(["q1", "q2", "q3"], ["a", "b", "c"], kb_entries=[None] * 3, references=None,
                              aspect="tech")
        assert time.monotonic() - t0 < 3.0 + 2.5
    finally:
        t.close()
