"""Abuse and overload protection: per-client token buckets and a bounded model queue."""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import Callable


class TokenBucket:
    """Capacity `burst`, refilled at `rate` tokens/s. Time comes from `clock` (tests pass one)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = float(rate), float(burst), clock
        self.tokens = float(burst)
        self.stamp = clock()

    def take(self, n: float = 1.0) -> float:
        """Take n tokens. Returns 0.0 on success, else the seconds until n tokens are there."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= n:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate


class RateLimiter:
    """One bucket per client key; the least recently seen clients are forgotten past `max_clients`
    (a forgotten client comes back with a full bucket, which only errs on the generous side)."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.max_clients, self.clock = rate, burst, max_clients, clock
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def check(self, client: str) -> int:
        """0 if allowed, else the Retry-After seconds (>= 1)."""
        b = self.buckets.get(client)
        if b is None:
            b = self.buckets[client] = TokenBucket(self.rate, self.burst, self.clock)
            while len(self.buckets) > self.max_clients:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(client)
        wait = b.take()
        return 0 if wait == 0 else max(1, math.ceil(wait))


class Overloaded(Exception):
    """The model queue is full (or the wait timed out): the caller answers 503."""

    def __init__(self, message: str, retry_after: int = 2):
        super().__init__(message)
        self.retry_after = retry_after
