"""TenacityInstrumentor against the real tenacity: sync, asyncio, decorator and iterator styles."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import tenacity
from opentelemetry import trace

from foundation_telemetry import taxonomy
from foundation_telemetry.instrumentation.tenacity import REJECTED_RESULT
from foundation_telemetry.testing import TelemetryFixture

from .conftest import attrs, metric_sum

KEYS = ("retry.name", "attempt", "error.type", "delay", "max_attempts")


class Flaky:
    """Fails with *error* the first *failures* calls, then returns "ok"."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            msg = f"call {self.calls} fails"
            raise self.error(msg)
        return "ok"


def _events(telemetry: TelemetryFixture) -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.name.removeprefix("foundation.retry."), attrs(event, *KEYS))
        for event in telemetry.events("foundation.retry.*")
    ]


class TestSyncRetries:
    def test_a_retry_that_succeeds_reports_each_attempt_and_backoff(self, retries):
        """Two failures then a success: start/failure/backoff per failed attempt, then success."""
        slept: list[float] = []
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(5),
            wait=tenacity.wait_fixed(0.5),
            sleep=slept.append,
            name="charge",
        )

        assert retrying(Flaky(2)) == "ok"

        name = {"retry.name": "charge"}
        failure = {**name, "error.type": "ConnectionError"}
        assert _events(retries) == [
            ("attempt_start", {**name, "attempt": 1, "max_attempts": 5}),
            ("attempt_failure", {**failure, "attempt": 1}),
            ("backoff", {**name, "attempt": 1, "delay": 0.5}),
            ("attempt_start", {**name, "attempt": 2, "max_attempts": 5}),
            ("attempt_failure", {**failure, "attempt": 2}),
            ("backoff", {**name, "attempt": 2, "delay": 0.5}),
            ("attempt_start", {**name, "attempt": 3, "max_attempts": 5}),
            ("attempt_success", {**name, "attempt": 3}),
        ]
        assert slept == [0.5, 0.5]
        (span,) = retries.spans("retry charge")
        assert attrs(span, "retry.attempts", "retry.outcome") == {
            "retry.attempts": 3,
            "retry.outcome": "success",
        }
        assert span.status == "UNSET"

    def test_attempts_and_calls_are_counted_by_outcome(self, retries):
        """The attempt counter splits failures from successes; the call counter has one success."""
        tenacity.Retrying(sleep=lambda _: None, name="count")(Flaky(2))

        assert metric_sum(retries, "foundation.retry.attempts", {"retry.outcome": "failure"}) == 2
        assert metric_sum(retries, "foundation.retry.attempts", {"retry.outcome": "success"}) == 1
        assert metric_sum(retries, "foundation.retry.calls", {"retry.outcome": "success"}) == 1

    def test_exhausted_retries_raise_retry_error_and_report_exhausted(self, retries):
        """When the stop condition ends the retries, ``exhausted`` names the last error."""
        retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(2), sleep=lambda _: None)

        with pytest.raises(tenacity.RetryError):
            retrying(Flaky(5, TimeoutError))

        (exhausted,) = retries.events(taxonomy.RETRY_EXHAUSTED)
        assert attrs(exhausted, "attempt", "error.type") == {
            "attempt": 2,
            "error.type": "TimeoutError",
        }
        (span,) = retries.spans("retry *")
        assert span.attributes["retry.outcome"] == "exhausted"
        assert span.status == "ERROR"
        assert metric_sum(retries, "foundation.retry.calls", {"retry.outcome": "exhausted"}) == 1

    def test_reraise_keeps_the_original_exception(self, retries):
        """With ``reraise=True`` the caller still gets its own exception, and it is reported."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(2), sleep=lambda _: None, reraise=True
        )

        with pytest.raises(ValueError, match="call 2 fails"):
            retrying(Flaky(5, ValueError))

        assert len(retries.events(taxonomy.RETRY_EXHAUSTED)) == 1

    def test_a_failure_the_policy_does_not_retry_is_not_exhausted(self, retries):
        """An error outside ``retry=`` fails the call at once: a failure, no backoff, no exhaustion."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(ConnectionError), sleep=lambda _: None
        )

        with pytest.raises(KeyError):
            retrying(Flaky(1, KeyError))

        assert [name for name, _ in _events(retries)] == ["attempt_start", "attempt_failure"]
        (span,) = retries.spans("retry *")
        assert attrs(span, "retry.outcome", "error.type") == {
            "retry.outcome": "failure",
            "error.type": "KeyError",
        }

    def test_a_rejected_result_is_a_failed_attempt(self, retries):
        """``retry_if_result`` rejections count as failures with ``error.type`` rejected_result."""
        results = iter([None, None, 42])
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda value: value is None), sleep=lambda _: None
        )

        assert retrying(lambda: next(results)) == 42

        failures = retries.events(taxonomy.RETRY_ATTEMPT_FAILURE)
        assert [event.attributes["error.type"] for event in failures] == [REJECTED_RESULT] * 2

    def test_the_users_own_callbacks_still_run(self, retries):
        """before/after/before_sleep/retry_error_callback keep working next to the telemetry."""
        seen: list[str] = []
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(2),
            sleep=lambda _: None,
            before=lambda state: seen.append(f"before {state.attempt_number}"),
            after=lambda state: seen.append(f"after {state.attempt_number}"),
            before_sleep=lambda state: seen.append(f"before_sleep {state.attempt_number}"),
            retry_error_callback=lambda state: "fallback",
        )

        assert retrying(Flaky(5)) == "fallback"

        assert seen == ["before 1", "after 1", "before_sleep 1", "before 2", "after 2"]
        (exhausted,) = retries.events(taxonomy.RETRY_EXHAUSTED)
        assert exhausted.attributes["attempt"] == 2

    def test_the_decorator_names_the_retry_after_the_function(self, retries):
        """``@retry`` reports the function's qualified name and its attempt count."""

        @tenacity.retry(sleep=lambda _: None)
        def fetch_price(flaky: Flaky) -> str:
            return flaky()

        assert fetch_price(Flaky(1)) == "ok"

        (span,) = retries.spans("retry *")
        assert span.attributes["retry.name"].endswith("fetch_price")
        assert span.attributes["retry.attempts"] == 2

    def test_work_inside_the_attempts_nests_under_the_retry_span(self, retries):
        """The retry span is current while the attempts run, so their spans are its children."""
        tracer = trace.get_tracer("test")

        def attempt() -> str:
            with tracer.start_as_current_span("attempt work"):
                return "done"

        with retries.expect_span("attempt work", parent="retry nested") as seen:
            tenacity.Retrying(name="nested")(attempt)

        assert seen.record.parent_span_id is not None

    def test_the_iterator_style_is_reported(self, retries):
        """``for attempt in Retrying()`` goes through the same decisions and gets a span."""
        flaky = Flaky(1)
        for attempt in tenacity.Retrying(sleep=lambda _: None, name="loop"):
            with attempt:
                flaky()

        assert [name for name, _ in _events(retries)] == [
            "attempt_start",
            "attempt_failure",
            "backoff",
            "attempt_start",
            "attempt_success",
        ]
        (span,) = retries.spans("retry loop")
        assert span.attributes["retry.attempts"] == 2

    def test_a_disabled_policy_reports_nothing(self, retries):
        """``enabled=False`` calls straight through, so there is nothing to report."""
        assert tenacity.Retrying(enabled=False)(lambda: "direct") == "direct"

        assert retries.events("foundation.retry.*") == []
        assert retries.spans("retry *") == []


class TestAsyncRetries:
    async def test_an_async_retry_that_succeeds(self, retries):
        """AsyncRetrying reports the same events and span as the sync policy."""
        delays: list[float] = []

        async def record_sleep(seconds: float) -> None:
            delays.append(seconds)

        calls = 0

        @tenacity.retry(
            stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(0.25), sleep=record_sleep
        )
        async def charge() -> str:
            nonlocal calls
            calls += 1
            if calls < 3:
                raise ConnectionError
            return "paid"

        assert await charge() == "paid"

        assert [name for name, _ in _events(retries)] == [
            "attempt_start",
            "attempt_failure",
            "backoff",
            "attempt_start",
            "attempt_failure",
            "backoff",
            "attempt_start",
            "attempt_success",
        ]
        assert delays == [0.25, 0.25]
        (span,) = retries.spans("retry *")
        assert attrs(span, "retry.attempts", "retry.outcome") == {
            "retry.attempts": 3,
            "retry.outcome": "success",
        }

    async def test_async_exhaustion(self, retries):
        """Exhausted async retries raise RetryError and report ``exhausted``."""

        async def no_sleep(seconds: float) -> None:
            del seconds

        async def fail() -> None:
            raise ConnectionError

        with pytest.raises(tenacity.RetryError):
            await tenacity.AsyncRetrying(stop=tenacity.stop_after_attempt(3), sleep=no_sleep)(fail)

        (exhausted,) = retries.events(taxonomy.RETRY_EXHAUSTED)
        assert exhausted.attributes["attempt"] == 3

    async def test_the_async_iterator_style_is_reported(self, retries):
        """``async for attempt in AsyncRetrying()`` is reported too."""
        flaky = Flaky(1)

        async def no_sleep(seconds: float) -> None:
            del seconds

        async for attempt in tenacity.AsyncRetrying(sleep=no_sleep, name="async loop"):
            with attempt:
                flaky()

        (span,) = retries.spans("retry async loop")
        assert span.attributes["retry.outcome"] == "success"
        assert span.attributes["retry.attempts"] == 2

    async def test_a_call_cancelled_while_backing_off_closes_its_span(self, retries):
        """Cancelled during the backoff sleep, the call's span ends as ``abandoned``."""
        never = asyncio.Event()

        async def sleep_forever(seconds: float) -> None:
            del seconds
            await never.wait()

        async def fail() -> None:
            raise ConnectionError

        backoff = retries.attach_collector(taxonomy.RETRY_BACKOFF)
        task = asyncio.create_task(
            tenacity.AsyncRetrying(sleep=sleep_forever, name="cancelled")(fail)
        )
        await backoff
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        (span,) = retries.spans("retry cancelled")
        assert attrs(span, "retry.outcome", "retry.attempts", "error.type") == {
            "retry.outcome": "abandoned",
            "retry.attempts": 1,
            "error.type": "asyncio.exceptions.CancelledError",
        }
        assert trace.get_current_span() is trace.INVALID_SPAN


class TestConcurrency:
    def test_threads_sharing_a_decorated_function_get_a_span_each(self, retries):
        """tenacity copies the policy per call; each thread's call is its own span."""
        threads = 6
        start = threading.Barrier(threads)
        failed_once: set[int] = set()
        lock = threading.Lock()

        @tenacity.retry(sleep=lambda _: None, name="shared")
        def work(worker: int) -> int:
            with lock:
                first = worker not in failed_once
                failed_once.add(worker)
            if first:
                raise ConnectionError
            return worker

        def run(worker: int) -> None:
            start.wait()
            assert work(worker) == worker

        pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout=60)

        spans = retries.spans("retry shared")
        assert len(spans) == threads
        assert {span.attributes["retry.attempts"] for span in spans} == {2}
        assert len(retries.events(taxonomy.RETRY_BACKOFF)) == threads
