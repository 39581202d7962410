"""The app's behaviour, tested the usual way: sleep a safety margin, then read the exporter."""

from __future__ import annotations

import asyncio
import time

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from benchmarks.sleep_vs_events.app import Cache, Flaky, Worker, call_with_retry, fetch


def _named(spans: InMemorySpanExporter, name: str) -> list[dict[str, object]]:
    return [dict(s.attributes or {}) for s in spans.get_finished_spans() if s.name == name]


def test_job_is_processed(spans: InMemorySpanExporter, worker: Worker) -> None:
    """A submitted job is processed."""
    worker.submit(1)
    time.sleep(0.1)  # allow-sleep: benchmark baseline
    assert _named(spans, "job.process") == [{"job.id": 1}]


def test_jobs_are_processed_in_order(spans: InMemorySpanExporter, worker: Worker) -> None:
    """Jobs are processed in submission order."""
    for job_id in (1, 2, 3):
        worker.submit(job_id)
    time.sleep(0.2)  # allow-sleep: benchmark baseline
    assert [a["job.id"] for a in _named(spans, "job.process")] == [1, 2, 3]


def test_failing_job_reports_an_error(spans: InMemorySpanExporter, worker: Worker) -> None:
    """A failing job reports job.error and is not counted as processed."""
    worker.submit(7, fail=True)
    time.sleep(0.1)  # allow-sleep: benchmark baseline
    assert _named(spans, "job.error") == [{"job.id": 7}]
    assert _named(spans, "job.process") == []


def test_retry_succeeds_on_the_third_attempt(spans: InMemorySpanExporter) -> None:
    """Two failures are retried and the third attempt succeeds."""
    call_with_retry(Flaky(failures=2), attempts=3)
    time.sleep(0.2)  # allow-sleep: benchmark baseline
    outcomes = [a["outcome"] for a in _named(spans, "retry.attempt")]
    assert outcomes == ["failure", "failure", "success"]
    assert _named(spans, "retry.done") == [{"attempts": 3}]


async def test_fetch_completes(spans: InMemorySpanExporter) -> None:
    """An async fetch reports completion."""
    task = asyncio.create_task(fetch("k"))
    await asyncio.sleep(0.1)  # allow-sleep: benchmark baseline
    assert _named(spans, "fetch.done") == [{"key": "k"}]
    assert task.result() == "K"


def test_cache_entry_expires(spans: InMemorySpanExporter) -> None:
    """A cache entry is evicted after its TTL."""
    cache = Cache()
    cache.set("k", "v", ttl=0.05)
    time.sleep(0.15)  # allow-sleep: benchmark baseline
    assert _named(spans, "cache.evicted") == [{"key": "k"}]
    assert cache.get("k") is None
