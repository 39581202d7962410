"""The app's behaviour, tested by waiting for its telemetry: each test ends when the span lands."""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks.sleep_vs_events.app import Cache, Flaky, Worker, call_with_retry, fetch


def test_job_is_processed(telemetry: Any, worker: Worker) -> None:
    """A submitted job is processed."""
    with telemetry.expect_span("job.process", attributes={"job.id": 1}):
        worker.submit(1)


def test_jobs_are_processed_in_order(telemetry: Any, worker: Worker) -> None:
    """Jobs are processed in submission order."""
    with telemetry.expect_span("job.process", attributes={"job.id": 3}):
        for job_id in (1, 2, 3):
            worker.submit(job_id)
    assert [s.attributes["job.id"] for s in telemetry.spans("job.process")] == [1, 2, 3]


def test_failing_job_reports_an_error(telemetry: Any, worker: Worker) -> None:
    """A failing job reports job.error and is not counted as processed."""
    with telemetry.expect_span("job.error", attributes={"job.id": 7}):
        worker.submit(7, fail=True)
    assert telemetry.spans("job.process") == []


def test_retry_succeeds_on_the_third_attempt(telemetry: Any) -> None:
    """Two failures are retried and the third attempt succeeds."""
    with telemetry.expect_span("retry.done", attempts=3):
        call_with_retry(Flaky(failures=2), attempts=3)
    outcomes = [s.attributes["outcome"] for s in telemetry.spans("retry.attempt")]
    assert outcomes == ["failure", "failure", "success"]


async def test_fetch_completes(telemetry: Any) -> None:
    """An async fetch reports completion."""
    async with telemetry.expect_span("fetch.done", key="k"):
        task = asyncio.create_task(fetch("k"))
    assert task.result() == "K"


def test_cache_entry_expires(telemetry: Any) -> None:
    """A cache entry is evicted after its TTL."""
    cache = Cache()
    with telemetry.expect_span("cache.evicted", key="k"):
        cache.set("k", "v", ttl=0.05)
    assert cache.get("k") is None
