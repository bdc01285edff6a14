"""On-disk cache of judge scores, shared by every judge backend, plus call counters.

Key = sha256(judge_id, rubric_version, aspect, prompt, completion, reference) — a new judge
model, a changed rubric/prompt template or a different reference never reuses stale scores.
Storage is one SQLite file (WAL journal): each `put_many` is one transaction, so a crash
never leaves a half-written entry and several processes (a sweep's workers) can share the
file. Scores are floats; `meta` keeps the backend's raw details (distribution, text).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path


def cache_key(judge_id: str, rubric_version: str, aspect: str, prompt: str, completion: str,
              reference: str = "") -> str:
    h = hashlib.sha256()
    for part in (judge_id, rubric_version, aspect, prompt, completion, reference):
        b = part.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))  # length-prefixed: no ambiguous concatenation
        h.update(b)
    return h.hexdigest()


@dataclass
class JudgeStats:
    """Counters a judge logs as `judge/<judge_id>/...` metrics."""
    requests: int = 0          # items sent to the backend (cache misses actually scored)
    http_calls: int = 0        # HTTP requests incl. retries (HTTP backend only)
    retries: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    est_cost_usd: float = 0.0
    seconds: float = 0.0

    def metrics(self, prefix: str) -> dict[str, float]:
        return {f"{prefix}/{k}": float(v) for k, v in asdict(self).items()}


class JudgeCache:
    """SQLite-backed score cache. `path=None` keeps it in memory (tests, one-off evals)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = None if path is None else Path(os.path.expanduser(str(path)))
        if self.path is not None:
            if self.path.suffix != ".sqlite":
                self.path = self.path / "judge_cache.sqlite"
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(":memory:" if self.path is None else str(self.path),
                                     timeout=30.0, check_same_thread=False, isolation_level=None)
        if self.path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, judge_id TEXT NOT NULL, "
            "score REAL NOT NULL, meta TEXT, created REAL NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        with self._lock:
            for i in range(0, len(keys), 500):  # SQLite's bound-parameter limit
                chunk = keys[i:i + 500]
                q = f"SELECT key, score FROM scores WHERE key IN ({','.join('?' * len(chunk))})"
                out.update(dict(self._conn.execute(q, chunk).fetchall()))
        return out

    def put_many(self, judge_id: str, entries: dict[str, tuple[float, dict | None]]) -> None:
        now = time.time()
        rows = [(k, judge_id, float(s), json.dumps(m, default=str) if m else None, now)
                for k, (s, m) in entries.items()]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?)", rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def meta(self, key: str) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT meta FROM scores WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
