"""Suite-wide settings: CPU JAX, offline W&B and hubs, deterministic XLA; one heavy test at a
time across xdist workers; an opt-in per-test memory log."""
import ctypes
import fcntl
import gc
import os
import sys
import tempfile
import threading

import psutil
import pytest

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Persistent XLA compilation cache shared by the suite and the subprocesses it starts (the
# smoke pipeline, resume and multi-process tests compile the same programs many times).
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(os.path.expanduser("~"), ".cache", "mighty", "jax_compilation_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "1")

# Tests marked `heavy` peak at several GB (a real model trained in a subprocess). Two xdist
# workers running two of them at once pushed a CI machine into swap-less thrashing and the
# OOM killer (both tests 10x slower, one SIGKILLed), so they take a lock that every worker
# shares: one heavy test at a time, the rest of the suite still runs beside it.
HEAVY_LOCK_ENV = "MIGHTY_TEST_HEAVY_LOCK"
# Set to a file path to append, per test, "<peak MB>\t<worker RSS at start>\t<worker peak>\t
# <children's peak>\t<worker id>\t<test id>" (sampled every 0.2 s): how the `heavy` tests were
# chosen and the workers' own growth found.
MEMLOG_ENV = "MIGHTY_TEST_MEMLOG"
# Set to keep each worker's compiled programs and heap between modules (to measure the release).
KEEP_MEMORY_ENV = "MIGHTY_TEST_KEEP_MEMORY"


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        # workers are started after this hook and inherit the environment
        os.environ.setdefault(HEAVY_LOCK_ENV, os.path.join(
            tempfile.gettempdir(), f"mighty-tests-heavy-{os.getpid()}.lock"))


@pytest.fixture(autouse=True)
def _one_heavy_test_at_a_time(request):
    if request.node.get_closest_marker("heavy") is None:
        yield
        return
    with open(os.environ[HEAVY_LOCK_ENV], "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(autouse=True, scope="module")
def _release_memory_after_each_module():
    """A worker runs many modules: without this its RSS grew to ~7 GB (compiled programs,
    fragments malloc keeps), and two such workers beside a heavy test's subprocess came
    within 1.3 GB of this 24 GB machine's memory."""
    yield
    if os.environ.get(KEEP_MEMORY_ENV):
        return
    gc.collect()
    if "jax" in sys.modules:
        sys.modules["jax"].clear_caches()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed heap pages back to the OS


class _PeakRss(threading.Thread):
    """Peak RSS (MB) of this process and, apart, of its descendants, while running."""

    def __init__(self, every: float = 0.2):
        super().__init__(daemon=True)
        self.every, self.own, self.children, self._stop_event = every, 0, 0, threading.Event()

    def run(self):
        me = psutil.Process()
        while not self._stop_event.is_set():
            self.own = max(self.own, me.memory_info().rss)
            kids = 0
            for p in me.children(recursive=True):
                try:
                    kids += p.memory_info().rss
                except psutil.Error:  # a child that ended between listing and reading
                    pass
            self.children = max(self.children, kids)
            self._stop_event.wait(self.every)

    def stop(self) -> tuple[float, float]:
        self._stop_event.set()
        self.join()
        return self.own / 2**20, self.children / 2**20


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    path = os.environ.get(MEMLOG_ENV)
    if not path:
        yield
        return
    start = psutil.Process().memory_info().rss / 2**20
    sampler = _PeakRss()
    sampler.start()
    yield
    own, children = sampler.stop()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "-")
    with open(path, "a") as f:
        f.write(f"{own + children:.0f}\t{start:.0f}\t{own:.0f}\t{children:.0f}\t{worker}\t{item.nodeid}\n")
