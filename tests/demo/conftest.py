"""Fixtures for the demo tests: a real `python -m mighty.demo.server` on 127.0.0.1 and speech WAVs.

One server process is shared by the session (loading the teacher and compiling the sampler
is the expensive part); the graceful-shutdown test stops it, so it runs last and the next
user of the fixture (if any) gets a fresh process.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mighty.demo.http_util import wait_until_serving

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
ADMIN_TOKEN = "test-admin-token"
MAX_NEW_TOKENS = 16
# Small answers keep decode time down; X-Client-Id keys the rate limiter so each test (and
# each simulated load-test client) has its own bucket.
SERVER_OVERRIDES = [
    # the packaged model on both routes, whatever a local `make demo` left in runs/store
    "student=smollm2-135m-instruct", "reranker=none", "intent_router=none",
    # warm both batch buckets so the load test measures serving, not XLA compiles
    f"engine.max_new_tokens={MAX_NEW_TOKENS}", "engine.max_batch=8", "engine.warmup_batches=[1,8]",
    "limits.client_header=X-Client-Id", "limits.rate_per_s=1", "limits.burst=30",
    "limits.max_audio_bytes=600000", "limits.max_audio_seconds=12", "limits.max_queue=64",
    "limits.queue_timeout_s=900",
    f"admin_token={ADMIN_TOKEN}", "shutdown_grace_s=60", "log_level=info",

]
STARTUP_TIMEOUT_S = float(os.environ.get("MIGHTY_TEST_SERVER_TIMEOUT", 900))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `python -m mighty.demo.server` subprocess; `url` once /healthz answers."""

    def __init__(self, overrides: list[str], log_path: Path):
        self.port = free_port()
        self.max_new_tokens, self.admin_token = MAX_NEW_TOKENS, ADMIN_TOKEN
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mighty.demo.server", f"port={self.port}", "host=127.0.0.1", *overrides],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> "Server":
        wait_until_serving(self.proc, self.url, timeout, log_tail=self.log_tail)
        return self

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 60) -> str:
        if not self._log.closed:
            self._log.flush()
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(l for l in lines[-n:])

    def terminate(self, timeout: float = 120) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


class ServerManager:
    def __init__(self, log_dir: Path):
        self.log_dir, self.current, self.started = log_dir, None, 0

    def get(self) -> Server:
        if self.current is None or not self.current.alive():
            self.started += 1
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = self.log_dir / f"demo_server_{os.getpid()}_{self.started}.log"
            self.current = Server(SERVER_OVERRIDES, log).wait_ready()
        return self.current


@pytest.fixture(scope="session")
def servers():
    m = ServerManager(ARTIFACTS / "test_logs")  # kept after the run for post-mortems
    yield m
    if m.current is not None:
        m.current.terminate()


@pytest.fixture()
def server(servers) -> Server:
    return servers.get()


@pytest.fixture()
def client(server, request):
    # one rate-limit bucket per test: a test's requests never spend another test's budget
    with httpx.Client(base_url=server.url, timeout=300,
                      headers={"X-Client-Id": request.node.nodeid}) as c:
        yield c


def require_debian(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"Debian package {package!r} is not installed ({binary} missing); "
                    f"`make setup` installs it")
    return path


def _espeak_wav(out: Path, text: str, pad_before_s: float, pad_after_s: float) -> Path:
    import wave

    espeak = require_debian("espeak-ng", "espeak-ng")
    raw = out.with_suffix(".raw.wav")
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    with wave.open(str(raw)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    frame = params.sampwidth * params.nchannels
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes(b"\x00" * frame * int(params.framerate * pad_before_s) + frames
                      + b"\x00" * frame * int(params.framerate * pad_after_s))
    return out


QUESTION = "my bluetooth headphones will not pair"


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> Path:
    """espeak-ng WAV of the canonical question (22.05 kHz 16-bit mono, ~3.6 s)."""
    return _espeak_wav(tmp_path_factory.mktemp("speech") / "question.wav", QUESTION, 0.5, 0.5)


@pytest.fixture(scope="session")
def mic_wav(tmp_path_factory) -> Path:
    """The question for Chromium's fake microphone, which loops the file from when capture
    starts: short lead-in, long tail, so a ~3.5 s recording holds the question once, whole."""
    return _espeak_wav(tmp_path_factory.mktemp("speech") / "mic.wav", QUESTION, 0.3, 2.0)


def pytest_collection_modifyitems(config, items):
    # The graceful-shutdown test stops the shared server: keep it last.
    last = [i for i in items if i.name.startswith("test_graceful_shutdown")]
    for i in last:
        items.remove(i)
        items.append(i)
