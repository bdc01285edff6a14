"""The suite's `heavy` marker (tests/conftest.py): across two xdist workers, heavy tests never
overlap, while a heavy and an ordinary test do."""
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import HEAVY_LOCK_ENV, MEMLOG_ENV

ROOT = Path(__file__).parents[1]

TESTS = textwrap.dedent('''
    import json, os, time
    import pytest

    def _record(name):
        start = time.monotonic()
        time.sleep(1.5)
        with open(os.environ["SPANS"], "a") as f:
            f.write(json.dumps([name, start, time.monotonic()]) + "\\n")

    @pytest.mark.heavy
    def test_heavy_a():
        _record("heavy_a")

    @pytest.mark.heavy
    def test_heavy_b():
        _record("heavy_b")

    def test_light_a():
        _record("light_a")

    def test_light_b():
        _record("light_b")
''')


def _spans(tmp_path, order):
    tmp_path.mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")  # the suite's own hooks
    (tmp_path / "test_spans.py").write_text(TESTS)
    spans = tmp_path / "spans.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPANS": str(spans)}
    env.pop(HEAVY_LOCK_ENV, None)  # this run's own controller makes its lock
    env.pop(MEMLOG_ENV, None)  # not logged into the outer suite's memory log
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                        "--dist", "load", "-m", order, "-c", os.devnull, "--rootdir", str(tmp_path),
                        str(tmp_path / "test_spans.py")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return {name: (a, b) for name, a, b in map(json.loads, spans.read_text().splitlines())}


def _overlap(x, y):
    return min(x[1], y[1]) - max(x[0], y[0])


def test_heavy_tests_run_one_at_a_time(tmp_path):
    s = _spans(tmp_path / "heavy", "heavy")
    assert _overlap(s["heavy_a"], s["heavy_b"]) <= 0, s


def test_ordinary_tests_still_run_side_by_side(tmp_path):
    s = _spans(tmp_path / "light", "not heavy")
    assert _overlap(s["light_a"], s["light_b"]) > 0.5, s
