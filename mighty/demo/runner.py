"""Async front of an Engine: a bounded queue, a micro-batcher and a concurrency limit.

Requests wait in a queue of at most `max_queue`; the batcher takes up to `max_batch` of them
that share a temperature and top_p, waits up to `window_s` for more, and decodes them together on a
worker thread. At most `max_concurrency` batches run at once. A full queue, or a request that
waited longer than `timeout_s`, raises `Overloaded` (the HTTP layer answers 503).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import time
from typing import AsyncIterator

from mighty.demo.engine import Engine, GenRequest, GenResult
from mighty.demo.limits import Overloaded

log = logging.getLogger("mighty.demo.runner")


@dataclasses.dataclass
class _Pending:
    req: GenRequest
    fut: asyncio.Future
    enqueued: float


class ModelRunner:
    def __init__(self, engine: Engine, *, max_batch: int = 8, window_s: float = 0.015,
                 max_queue: int = 64, max_concurrency: int = 1, timeout_s: float = 120.0):
        self.engine = engine
        self.max_batch, self.window_s = max_batch, window_s
        self.max_queue, self.max_concurrency, self.timeout_s = max_queue, max_concurrency, timeout_s
        self.pending: list[_Pending] = []
        self.active_batches = 0
        self.batches_run = 0
        self.rows_run = 0
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_concurrency,
                                                           thread_name_prefix=f"gen-{engine.name}")
        self._task: asyncio.Task | None = None
        self._closing = False

    @property
    def name(self) -> str:
        return self.engine.name

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"batcher-{self.name}")

    async def close(self) -> None:
        """Finish running batches; fail whatever is still queued."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        for p in self.pending:
            if not p.fut.done():
                p.fut.set_exception(Overloaded("server is shutting down", retry_after=5))
        self.pending.clear()
        self._pool.shutdown(wait=True)

    def admit(self) -> None:
        """Raise Overloaded if a new request would be refused right now."""
        if self._closing:
            raise Overloaded("server is shutting down", retry_after=5)
        if len(self.pending) >= self.max_queue:
            raise Overloaded(f"model queue full ({len(self.pending)} waiting, "
                             f"{self.active_batches} batch(es) running); retry shortly")

    async def generate(self, req: GenRequest) -> GenResult:
        self.admit()
        p = _Pending(req, asyncio.get_running_loop().create_future(), time.monotonic())
        self.pending.append(p)
        self._wake.set()
        try:
            # The deadline is the waiter's own: the batcher only looks at the queue when a slot
            # frees, which under load is a whole decode later, so a request could otherwise
            # wait long past timeout_s before it got its 503.
            return await asyncio.wait_for(asyncio.shield(p.fut), self.timeout_s)
        except asyncio.TimeoutError:
            if p in self.pending:  # still queued: give up on time
                self.pending.remove(p)
                raise Overloaded(f"waited {self.timeout_s:.0f}s for the model", 5) from None
            return await p.fut  # taken into a batch already: the answer is being decoded
        finally:
            if p in self.pending:  # cancelled while queued (client went away)
                self.pending.remove(p)

    async def stream(self, req: GenRequest) -> AsyncIterator[str | GenResult]:
        """Yields text deltas as they are decoded, then the GenResult."""
        loop = asyncio.get_running_loop()
        q: asyncio.Queue = asyncio.Queue()
        user_cb = req.on_delta

        def on_delta(d: str) -> None:  # decoding thread -> event loop
            loop.call_soon_threadsafe(q.put_nowait, d)
            if user_cb is not None:
                user_cb(d)

        req = dataclasses.replace(req, on_delta=on_delta)
        task = asyncio.ensure_future(self.generate(req))
        try:
            while True:
                getter = asyncio.ensure_future(q.get())
                await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield getter.result()
                    continue
                getter.cancel()
                while not q.empty():  # deltas that raced the result
                    yield q.get_nowait()
                yield task.result()
                return
        finally:
            if not task.done():
                task.cancel()

    def stats(self) -> dict:
        return {"queued": len(self.pending), "active_batches": self.active_batches,
                "batches_run": self.batches_run, "rows_run": self.rows_run}

    async def _loop(self) -> None:
        running: set[asyncio.Task] = set()
        while True:
            if not self.pending:
                if self._closing:
                    break
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._slots.acquire()
            if len(self.pending) < self.max_batch and self.window_s > 0:
                await asyncio.sleep(self.window_s)  # let concurrent arrivals join the batch
            batch = self._take_batch()
            if not batch:
                self._slots.release()
                continue
            t = asyncio.get_running_loop().create_task(self._run(batch))
            running.add(t)
            t.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running, return_exceptions=True)

    def _take_batch(self) -> list[_Pending]:
        now = time.monotonic()
        for p in list(self.pending):
            if p.fut.done():
                self.pending.remove(p)
            elif now - p.enqueued > self.timeout_s:
                self.pending.remove(p)
                p.fut.set_exception(Overloaded(f"waited {self.timeout_s:.0f}s for the model", 5))
        if not self.pending:
            return []
        key = (self.pending[0].req.temperature, self.pending[0].req.top_p)
        batch = [p for p in self.pending
                 if (p.req.temperature, p.req.top_p) == key][: self.max_batch]
        for p in batch:
            self.pending.remove(p)
        return batch

    async def _run(self, batch: list[_Pending]) -> None:
        self.active_batches += 1
        try:
            loop = asyncio.get_running_loop()
            results = await loop.run_in_executor(
                self._pool, self.engine.generate_batch, [p.req for p in batch])
            self.batches_run += 1
            self.rows_run += len(batch)
            for p, r in zip(batch, results):
                if not p.fut.done():
                    p.fut.set_result(r)
        except Exception as e:
            log.exception("batch of %d failed on %s", len(batch), self.name)
            for p in batch:
                if not p.fut.done():
                    p.fut.set_exception(e)
        finally:
            self.active_batches -= 1
            self._slots.release()
            self._wake.set()
