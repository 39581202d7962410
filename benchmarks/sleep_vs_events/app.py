"""A tiny service under test: a job worker, a retrying caller, an async fetcher and a TTL cache.

Every piece does its work in the background (a thread, a timer or an asyncio task) for a
variable 5-40 ms, like a small I/O call, and reports what it did as OpenTelemetry spans through
a module-level tracer. It uses plain OpenTelemetry only, so both test suites run the same code.
"""

from __future__ import annotations

import asyncio
import queue
import random
import threading
import time
from collections.abc import Callable

from opentelemetry import trace

tracer = trace.get_tracer(__name__)


def work_time() -> float:
    """How long one unit of simulated work takes."""
    return random.uniform(0.005, 0.04)


class Worker:
    """Processes submitted jobs one by one on a background thread."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[int, bool] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="worker", daemon=True)
        self._thread.start()

    def submit(self, job_id: int, *, fail: bool = False) -> None:
        """Queue a job; a failing job reports ``job.error`` instead of ``job.process``."""
        self._jobs.put((job_id, fail))

    def stop(self) -> None:
        """Finish the queued jobs and stop the thread."""
        self._jobs.put(None)
        self._thread.join(5)

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            job_id, fail = item
            time.sleep(work_time())  # allow-sleep: simulated work is the behaviour under test
            name = "job.error" if fail else "job.process"
            with tracer.start_as_current_span(name, attributes={"job.id": job_id}):
                pass


class Flaky:
    """An operation that fails its first *failures* calls."""

    def __init__(self, failures: int) -> None:
        self.calls = 0
        self._failures = failures

    def __call__(self) -> str:
        self.calls += 1
        time.sleep(work_time())  # allow-sleep: simulated work is the behaviour under test
        if self.calls <= self._failures:
            msg = f"call {self.calls} failed"
            raise ConnectionError(msg)
        return "ok"


def call_with_retry(
    operation: Callable[[], str], *, attempts: int = 3, backoff: float = 0.01
) -> threading.Thread:
    """Call *operation* on a background thread, retrying with linear back-off."""

    def run() -> None:
        for attempt in range(1, attempts + 1):
            with tracer.start_as_current_span(
                "retry.attempt", attributes={"attempt": attempt}
            ) as span:
                try:
                    operation()
                except ConnectionError:
                    span.set_attribute("outcome", "failure")
                else:
                    span.set_attribute("outcome", "success")
                    break
            time.sleep(backoff * attempt)  # allow-sleep: the back-off is the behaviour under test
        with tracer.start_as_current_span("retry.done", attributes={"attempts": attempt}):
            pass

    thread = threading.Thread(target=run, name="retry", daemon=True)
    thread.start()
    return thread


async def fetch(key: str) -> str:
    """Fetch *key* from a slow backend."""
    await asyncio.sleep(work_time())  # allow-sleep: simulated I/O is the behaviour under test
    with tracer.start_as_current_span("fetch.done", attributes={"key": key}):
        return key.upper()


class Cache:
    """A cache whose entries expire after their TTL (a ``cache.evicted`` span says so)."""

    def __init__(self) -> None:
        self._items: dict[str, str] = {}
        self._lock = threading.Lock()

    def set(self, key: str, value: str, *, ttl: float) -> None:
        """Store *value* and evict it after *ttl* seconds."""
        with self._lock:
            self._items[key] = value
        timer = threading.Timer(ttl, self._evict, args=(key,))
        timer.daemon = True
        timer.start()

    def get(self, key: str) -> str | None:
        """The value, or ``None`` once evicted."""
        with self._lock:
            return self._items.get(key)

    def _evict(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)
        with tracer.start_as_current_span("cache.evicted", attributes={"key": key}):
            pass
