"""Judge backend for any OpenAI-compatible `/v1/chat/completions` server (httpx).

* Concurrency: items are sent as concurrent requests from a thread pool of
  `max_concurrency` workers sharing one `httpx.Client` (connection pooling); no event loop,
  so it works the same from a training loop, a notebook or inside an async server.
* Retries: timeouts, transport errors, HTTP 5xx and 429 are retried up to `max_retries`
  times with exponential backoff `min(backoff_max_s, backoff_s · 2^attempt)` times a jitter
  factor in [0.5, 1.5) (a seeded RNG owned by the judge; a 429's `Retry-After` is honoured
  up to `backoff_max_s`). Exhausted retries raise `JudgeTimeoutError` / `JudgeHTTPError`
  naming the judge, the URL and the item index. Other 4xx are not retried.
* Score: with `logprobs` ("auto" by default) the request asks for `logprobs` +
  `top_logprobs`; the first generated token's top alternatives that are integers 0..max give
  a distribution whose expectation is the score. "10" on the 0..10 scale is usually two
  tokens "1","0": when the greedy first token is "1", the second position's alternatives
  (conditional on "1") split P("1") into P(1)·(1 - P("0"|"1")) and P(10) = P("1")·P("0"|"1");
  otherwise the "1" mass counts as score 1 (a small downward bias only when 10 is unlikely).
  A server that ignores `logprobs` (or rejects it with 400, in "auto") falls back to a strict
  integer parse of the reply ("7", "7/10", "7."); anything else is `JudgeParseError`.
"""
from __future__ import annotations

import math
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np

from mighty.rewards.judge import (Judge, JudgeError, JudgeHTTPError, JudgeItem, JudgeParseError,
                           JudgeTimeoutError, expected_score, judge_messages)

_STRICT_INT = re.compile(r"^\s*(\d{1,2})\s*(?:/\s*\d{1,2})?\s*[.!]?\s*$")
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class _Deadline(Exception):
    """A request's wall-clock deadline passed mid-body (internal: becomes a JudgeTimeoutError)."""


class HttpJudge(Judge):
    """OpenAI-compatible HTTP judge.

    Args:
      base_url: server root including `/v1`, e.g. "http://127.0.0.1:8000/v1".
      model: the `model` field of the request.
      judge_id: cache/metrics name; default "http:<model>".
      max_concurrency: simultaneous requests.
      timeout_s: wall-clock deadline of each request, connect to last body byte (a server that
        trickles bytes cannot hold it longer: httpx's own timeout is per read).
      batch_budget_s: wall-clock budget of one `score_batch` call, retries included (None: no
        budget); once spent, the next request fails naming the budget.
      max_retries: retries after the first attempt.
      backoff_s, backoff_max_s: exponential backoff base and cap (seconds).
      logprobs: True / False / "auto" (try, fall back to text on 400 or missing logprobs).
      top_logprobs: alternatives requested per position.
      api_key: sent as a Bearer token when given (pass it explicitly; nothing is read from env).
      seed: jitter RNG seed.
    """

    def __init__(self, base_url: str, model: str = "default", *, judge_id: str | None = None,
                 cache: Any = None, rubric_version: str | None = None,
                 max_concurrency: int = 4, timeout_s: float = 30.0, max_retries: int = 3,
                 batch_budget_s: float | None = None,
                 backoff_s: float = 0.5, backoff_max_s: float = 8.0,
                 logprobs: bool | str = "auto", top_logprobs: int = 20,
                 api_key: str | None = None, price_per_1k_tokens: float = 0.0, seed: int = 0):
        kw = {} if rubric_version is None else {"rubric_version": rubric_version}
        super().__init__(judge_id or f"http:{model}", cache=cache,
                         price_per_1k_tokens=price_per_1k_tokens, **kw)
        if logprobs not in (True, False, "auto"):
            raise ValueError(f"HttpJudge: logprobs must be True, False or 'auto', got {logprobs!r}")
        if max_concurrency < 1 or max_retries < 0 or timeout_s <= 0:
            raise ValueError("HttpJudge: need max_concurrency >= 1, max_retries >= 0, timeout_s > 0")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.max_concurrency = model, max_concurrency
        self.timeout_s, self.max_retries = timeout_s, max_retries
        self.batch_budget_s, self._batch_deadline = batch_budget_s, float("inf")
        self.backoff_s, self.backoff_max_s = backoff_s, backoff_max_s
        self.logprobs, self.top_logprobs = logprobs, top_logprobs
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=timeout_s,
                                    limits=httpx.Limits(max_connections=max_concurrency))
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    # -- transport --------------------------------------------------------------------------
    def _count(self, **inc: int) -> None:
        with self._lock:
            for k, v in inc.items():
                setattr(self.stats, k, getattr(self.stats, k) + v)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        with self._lock:
            jitter = 0.5 + self._rng.random()
        d = min(self.backoff_max_s, self.backoff_s * 2 ** attempt) * jitter
        if retry_after is not None:
            try:
                d = max(d, min(float(retry_after), self.backoff_max_s))
            except ValueError:
                pass
        return d

    def _request(self, payload: dict) -> tuple[int, bytes, dict]:
        """One POST under a wall-clock deadline: (status, body, headers). Every read waits at most
        the time left, and the body is read in chunks with the clock checked between them."""
        deadline = min(time.monotonic() + self.timeout_s, self._batch_deadline)
        left = lambda: max(deadline - time.monotonic(), 1e-3)  # noqa: E731
        body = bytearray()
        with self._client.stream("POST", self.url, json=payload, timeout=httpx.Timeout(left())) as r:
            for chunk in r.iter_bytes():
                body += chunk
                if time.monotonic() > deadline:
                    raise _Deadline(f"deadline of {self.timeout_s}s passed while reading the response "
                                    f"body ({len(body)} bytes so far: the server is trickling)")
            return r.status_code, bytes(body), dict(r.headers)

    def _post(self, payload: dict, idx: int) -> dict:
        """POST with retries; returns the JSON body. Raises a JudgeError naming judge/URL/item."""
        last, timed_out = "", False
        for attempt in range(self.max_retries + 1):
            if time.monotonic() >= self._batch_deadline:
                raise JudgeTimeoutError(
                    f"judge '{self.judge_id}': POST {self.url} for item {idx}: the batch budget of "
                    f"{self.batch_budget_s}s is spent (last error: {last or 'none'}); raise batch_budget_s "
                    f"or check the server")
            self._count(http_calls=1)
            retry_after = None
            try:
                status, raw, headers = self._request(payload)
            except _Deadline as e:
                last, timed_out = str(e), True
            except httpx.TimeoutException as e:
                last, timed_out = f"no response within the {self.timeout_s}s deadline ({type(e).__name__})", True
            except httpx.TransportError as e:
                last, timed_out = f"{type(e).__name__}: {e}", False
            else:
                r = httpx.Response(status, content=raw, headers=headers)
                if r.status_code == 200:
                    return r.json()
                if r.status_code not in _RETRY_STATUS:
                    raise JudgeHTTPError(
                        f"judge '{self.judge_id}': POST {self.url} for item {idx} returned "
                        f"HTTP {r.status_code} (not retried): {r.text[:300]}")
                last, timed_out = f"HTTP {r.status_code}: {r.text[:200]}", False
                retry_after = r.headers.get("retry-after")
            if attempt < self.max_retries:
                self._count(retries=1)
                time.sleep(self._delay(attempt, retry_after))
        cls = JudgeTimeoutError if timed_out else JudgeHTTPError
        raise cls(f"judge '{self.judge_id}': POST {self.url} for item {idx} failed after "
                  f"{self.max_retries + 1} attempts; last error: {last}. Check the server, or "
                  f"raise timeout_s / max_retries, or lower max_concurrency.")

    # -- parsing ----------------------------------------------------------------------------
    @staticmethod
    def distribution(content: list[dict], max_score: int) -> dict[int, float]:
        """Score probabilities from OpenAI `logprobs.content` (see module doc for "10")."""
        probs: dict[int, float] = {}
        for alt in content[0].get("top_logprobs") or []:
            t = str(alt.get("token", "")).strip()
            if t.isdigit() and int(t) <= max_score:
                probs[int(t)] = probs.get(int(t), 0.0) + math.exp(alt["logprob"])
        if (max_score >= 10 and probs.get(1, 0.0) > 0 and len(content) > 1
                and str(content[0].get("token", "")).strip() == "1"):
            p0 = sum(math.exp(a["logprob"]) for a in content[1].get("top_logprobs") or []
                     if str(a.get("token", "")).strip() == "0")
            probs[10] = probs.get(10, 0.0) + probs[1] * p0
            probs[1] *= 1.0 - p0
        return probs

    def _parse(self, body: dict, item: JudgeItem, idx: int) -> tuple[float, dict]:
        try:
            choice = body["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError) as e:
            raise JudgeParseError(f"judge '{self.judge_id}': response from {self.url} for item "
                                  f"{idx} is not a chat completion: {str(body)[:300]}") from e
        content = (choice.get("logprobs") or {}).get("content") or []
        if content:
            score, mass = expected_score(self.distribution(content, item.max_score), item.max_score)
            if mass > 0:
                return score, {"source": "logprobs", "mass": mass, "text": text}
        m = _STRICT_INT.match(text)
        if m is None or int(m.group(1)) > item.max_score:
            raise JudgeParseError(
                f"judge '{self.judge_id}': reply from {self.url} for item {idx} is not an integer "
                f"0..{item.max_score} and carried no usable logprobs: {text[:200]!r}")
        return float(m.group(1)), {"source": "text", "text": text}

    # -- backend ----------------------------------------------------------------------------
    def _one(self, item: JudgeItem, idx: int) -> tuple[float, dict]:
        payload = {"model": self.model, "messages": judge_messages(item),
                   "max_tokens": 2, "temperature": 0.0}
        if self.logprobs:
            payload.update(logprobs=True, top_logprobs=self.top_logprobs)
        try:
            body = self._post(payload, idx)
        except JudgeHTTPError as e:
            if self.logprobs != "auto" or "HTTP 400" not in str(e):
                raise
            self.logprobs = False  # the server rejects logprobs: text parsing from now on
            payload.pop("logprobs"), payload.pop("top_logprobs")
            body = self._post(payload, idx)
        usage = body.get("usage") or {}
        self._count(prompt_tokens=int(usage.get("prompt_tokens", 0)),
                    completion_tokens=int(usage.get("completion_tokens", 0)))
        return self._parse(body, item, idx)

    def _score_items(self, items: list[JudgeItem], indices: list[int]
                     ) -> tuple[np.ndarray, list[dict]]:
        self._batch_deadline = (float("inf") if self.batch_budget_s is None
                                else time.monotonic() + self.batch_budget_s)
        if len(items) == 1:
            results = [self._one(items[0], indices[0])]
        else:
            with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="judge") as ex:
                results = list(ex.map(self._one, items, indices))
        return np.array([s for s, _ in results]), [m for _, m in results]

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"HttpJudge({self.judge_id!r}, url={self.url!r})"


__all__ = ["HttpJudge", "JudgeError", "JudgeHTTPError", "JudgeParseError", "JudgeTimeoutError"]
