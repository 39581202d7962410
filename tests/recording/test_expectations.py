"""The expectation context managers on the `telemetry` fixture, across threads and asyncio."""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from dirty_equals import IsPositiveInt, IsStr
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from foundation_telemetry.testing import (
    ROOT,
    TelemetryAssertionError,
    all_of,
    any_of,
    not_,
)

from ._helpers import emit_event

# Obtained at import, before any fixture ran: the plugin must still capture its spans.
module_tracer = trace.get_tracer("tests.testing.module_level")


class TestAssertTelemetryEvent:
    def test_event_from_the_block_fills_record(self, telemetry):
        """An event emitted inside the block is the yielded object's `.record`."""
        with telemetry.assert_telemetry_event("order.placed", attributes={"order.id": 42}) as seen:
            emit_event("order.placed", **{"order.id": 42})
        assert seen.record.name == "order.placed"
        assert seen.record.attributes["order.id"] == 42

    def test_producer_thread(self, telemetry):
        """An event emitted by another thread after the block ended is waited for."""
        go = threading.Event()

        def produce():
            go.wait()
            emit_event("job.done", job="a")

        worker = threading.Thread(target=produce, name="producer")
        worker.start()
        with telemetry.assert_telemetry_event("job.done", job="a") as seen:
            go.set()
        worker.join()
        assert seen.record.thread == "producer"

    def test_thread_pool_count(self, telemetry):
        """`count` waits for that many matches from a thread pool."""
        start = threading.Event()

        def task(index):
            start.wait()
            emit_event("chunk.done", index=index)

        with (
            ThreadPoolExecutor(max_workers=3) as pool,
            telemetry.assert_telemetry_event("chunk.done", count=5) as seen,
        ):
            for index in range(5):
                pool.submit(task, index)
            start.set()
        assert sorted(r.attributes["index"] for r in seen.records) == [0, 1, 2, 3, 4]

    async def test_async_with_task(self, telemetry):
        """`async with` waits without blocking the loop that runs the producer task."""
        go = asyncio.Event()

        async def produce():
            await go.wait()
            emit_event("async.completed", task="t1")

        task = asyncio.create_task(produce())
        async with telemetry.assert_telemetry_event("async.completed") as seen:
            go.set()
        await task
        assert seen.record.attributes == {"task": "t1"}

    def test_glob_name_and_matchers(self, telemetry):
        """Globs, regexes, callables, dirty-equals and combinators all match values."""
        with telemetry.assert_telemetry_event(
            "foundation.retry.*",
            attributes={
                "retry.name": re.compile(r"fetch-\d+"),
                "attempt": IsPositiveInt,
                "delay": lambda value: value < 1,
                "outcome": any_of("ok", "retry"),
                "host": all_of(IsStr, not_("prod")),
            },
        ) as seen:
            emit_event(
                "foundation.retry.attempt_start",
                **{"retry.name": "fetch-7", "attempt": 2, "delay": 0.5},
                outcome="retry",
                host="staging",
            )
        assert seen.record.name == "foundation.retry.attempt_start"

    def test_timeout_message(self, telemetry):
        """A timeout lists what was received and the closest candidate's per-field diff."""
        with (  # noqa: PT012
            pytest.raises(TelemetryAssertionError) as caught,
            telemetry.assert_telemetry_event("checkout", timeout=0.05, **{"order_id": 42}),
        ):
            emit_event("checkout", order_id=41)
            emit_event("cart.viewed", items=3)
        message = str(caught.value)
        assert message.startswith(
            "No event matched within 0.05s: event 'checkout' with {'order_id': 42}"
        )
        assert (
            "Received 2 record(s) since the expectation began, by name (the last of each):"
            in message
        )
        assert "[MainThread] event 'checkout' {'order_id': 41}" in message
        assert "[MainThread] event 'cart.viewed' {'items': 3}" in message
        assert "Closest candidates:\n- event 'checkout' at +" in message
        assert "    attributes['order_id']: 41 != 42" in message

    def test_count_shortfall_message(self, telemetry):
        """With `count`, the failure says how many arrived."""
        with (
            pytest.raises(
                TelemetryAssertionError, match=r"Expected 3 matching events within 0.05s, got 1"
            ),
            telemetry.assert_telemetry_event("tick", count=3, timeout=0.05),
        ):
            emit_event("tick")

    def test_block_exception_passes_through(self, telemetry):
        """If the block raises, that exception propagates unchanged and nothing is checked."""
        error = KeyError("boom")
        with (
            pytest.raises(KeyError) as caught,
            telemetry.assert_telemetry_event("never", timeout=30),
        ):
            raise error
        assert caught.value is error

    def test_vacuous_expectations_are_refused(self, telemetry):
        """An expectation with nothing to match is an error, not a pass."""
        with pytest.raises(ValueError, match="vacuously"):
            telemetry.assert_telemetry_event("")
        with pytest.raises(ValueError, match="vacuously"):
            telemetry.assert_telemetry_sequence([])
        with pytest.raises(ValueError, match="count"):
            telemetry.assert_telemetry_event("x", count=0)
        with pytest.raises(TypeError, match="timeout"):
            telemetry.assert_telemetry_event("x", timeout="soon")

    def test_attribute_given_twice_is_refused(self, telemetry):
        """The same key in `attributes` and as a keyword is a clear error."""
        with pytest.raises(ValueError, match="given twice"):
            telemetry.assert_telemetry_event("x", attributes={"a": 1}, a=2)

    def test_span_events_match_event_names(self, telemetry):
        """Events recorded on spans (`add_event`) match event expectations."""
        with (
            telemetry.assert_telemetry_event("cache.miss", key="k") as seen,
            module_tracer.start_as_current_span("lookup") as span,
        ):
            span.add_event("cache.miss", {"key": "k"})
        assert seen.record.span_id == span.get_span_context().span_id

    def test_entered_twice_is_refused(self, telemetry):
        """An expectation object is single-use."""
        expectation = telemetry.assert_telemetry_event("once")
        with expectation:
            emit_event("once")
        with pytest.raises(RuntimeError, match="only once"):
            expectation.__enter__()


class TestRefute:
    def test_quiet_window_passes(self, telemetry):
        """Nothing matching within the window passes."""
        with telemetry.refute_telemetry_event("circuit_breaker.open", within=0.05):
            emit_event("circuit_breaker.call_success")

    def test_matching_event_fails_with_the_offender(self, telemetry):
        """A matching event fails the refute and is listed."""
        with (
            pytest.raises(TelemetryAssertionError) as caught,
            telemetry.refute_telemetry_event("alert.*", within=5, severity="high"),
        ):
            emit_event("alert.fired", severity="high")
        message = str(caught.value)
        assert message.startswith(
            "Expected no event 'alert.*' with {'severity': 'high'} within 5s, but 1 arrived:"
        )
        assert "event 'alert.fired' {'severity': 'high'}" in message

    def test_non_matching_attributes_pass(self, telemetry):
        """A refute with attributes ignores events of that name with other attributes."""
        with telemetry.refute_telemetry_event("alert.fired", within=0.05, severity="high"):
            emit_event("alert.fired", severity="low")

    async def test_async_refute_failure(self, telemetry):
        """`async with` refutes fail as soon as the event arrives from a task."""
        go = asyncio.Event()

        async def produce():
            await go.wait()
            emit_event("pool.exhausted")

        task = asyncio.create_task(produce())
        with pytest.raises(TelemetryAssertionError, match=r"Expected no event 'pool.exhausted'"):
            async with telemetry.refute_telemetry_event("pool.exhausted", within=5):
                go.set()
        await task


class TestSequenceAndAny:
    def test_ordered_with_gaps(self, telemetry):
        """Steps must come in order; other events may come between them."""
        with telemetry.assert_telemetry_sequence(
            [
                "retry.attempt_start",
                ("retry.attempt_failure", {"attempt": 1}),
                "retry.attempt_success",
            ]
        ) as seen:
            emit_event("retry.attempt_start", attempt=1)
            emit_event("retry.attempt_failure", attempt=1)
            emit_event("retry.backoff")
            emit_event("retry.attempt_success", attempt=2)
        assert [r.name for r in seen.records] == [
            "retry.attempt_start",
            "retry.attempt_failure",
            "retry.attempt_success",
        ]

    def test_wrong_order_fails_with_progress(self, telemetry):
        """Out-of-order events fail and the message ticks the steps that matched."""
        with (  # noqa: PT012
            pytest.raises(TelemetryAssertionError) as caught,
            telemetry.assert_telemetry_sequence(["a.one", "a.two", "a.three"], timeout=0.05),
        ):
            emit_event("a.one")
            emit_event("a.three")
            emit_event("a.two")
        message = str(caught.value)
        assert "The sequence was not seen within 0.05s; 2 of 3 step(s) matched in order." in message
        assert "  [x] 2. event 'a.two'" in message
        assert "  [ ] 3. event 'a.three'" in message

    def test_strict_rejects_a_gap(self, telemetry):
        """A strict sequence fails when another event comes between two steps."""
        with (  # noqa: PT012
            pytest.raises(TelemetryAssertionError, match=r"strict sequence .* 1 of 2 step"),
            telemetry.assert_telemetry_sequence(["s.start", "s.stop"], strict=True, timeout=0.05),
        ):
            emit_event("s.start")
            emit_event("s.noise")
            emit_event("s.stop")

    def test_strict_passes_without_gap(self, telemetry):
        """A strict sequence passes when the steps are adjacent, wherever they start."""
        with telemetry.assert_telemetry_sequence(["s.start", "s.stop"], strict=True):
            emit_event("s.noise")
            emit_event("s.start")
            emit_event("s.stop")

    def test_sequence_across_threads(self, telemetry):
        """Steps emitted by two threads in a fixed order (sequenced with events) match."""
        first_done = threading.Event()

        def first():
            emit_event("pipe.stage", stage=1)
            first_done.set()

        def second():
            first_done.wait()
            emit_event("pipe.stage", stage=2)

        threads = [threading.Thread(target=second), threading.Thread(target=first)]
        with telemetry.assert_telemetry_sequence(
            [("pipe.stage", {"stage": 1}), ("pipe.stage", {"stage": 2})]
        ):
            for thread in threads:
                thread.start()
        for thread in threads:
            thread.join()

    def test_any_of_reports_which(self, telemetry):
        """The first alternative seen wins; `.index` says which step it was."""
        with telemetry.assert_telemetry_any(["payment.failed", "payment.succeeded"]) as seen:
            emit_event("payment.succeeded", amount=5)
        assert seen.index == 1
        assert seen.record.attributes == {"amount": 5}

    def test_any_of_failure_lists_alternatives(self, telemetry):
        """When none arrives, every alternative is listed."""
        with (
            pytest.raises(TelemetryAssertionError) as caught,
            telemetry.assert_telemetry_any(["x.a", ("x.b", {"k": 1})], timeout=0.05),
        ):
            emit_event("x.c")
        message = str(caught.value)
        assert (
            "None of 2 alternatives matched within 0.05s:\n- event 'x.a'\n- event 'x.b' with {'k': 1}"
            in message
        )


class TestExpectSpan:
    def test_span_with_parent_and_status(self, telemetry):
        """A span is matched by name, attributes, parent name and status."""
        with (
            telemetry.expect_span(
                "db.query", parent="handle_request", status="error", table="orders"
            ) as seen,
            module_tracer.start_as_current_span("handle_request"),
            module_tracer.start_as_current_span("db.query", attributes={"table": "orders"}) as span,
        ):
            span.set_status(Status(StatusCode.ERROR, "timeout"))
        assert seen.record.status == "ERROR"
        assert seen.record.status_description == "timeout"

    def test_root_span(self, telemetry):
        """`parent=ROOT` only matches spans without a parent."""
        with (
            telemetry.expect_span("outer", parent=ROOT),
            module_tracer.start_as_current_span("outer"),
            module_tracer.start_as_current_span("inner"),
        ):
            pass

    def test_span_from_worker_thread(self, telemetry):
        """A span ended on a worker thread wakes the waiting test."""
        go = threading.Event()

        def work():
            go.wait()
            with module_tracer.start_as_current_span("background.job"):
                pass

        worker = threading.Thread(target=work)
        worker.start()
        with telemetry.expect_span("background.job"):
            go.set()
        worker.join()

    def test_wrong_parent_is_diffed(self, telemetry):
        """The closest-candidate diff names the parent that was found."""
        with (
            pytest.raises(TelemetryAssertionError) as caught,
            telemetry.expect_span("child", parent="expected_parent", timeout=0.05),
            module_tracer.start_as_current_span("actual_parent"),
            module_tracer.start_as_current_span("child"),
        ):
            pass
        assert "    parent: 'actual_parent' != 'expected_parent'" in str(caught.value)


class TestCollector:
    def test_event_emitted_before_wait(self, telemetry):
        """Records emitted between attach and wait are not missed."""
        collector = telemetry.attach_collector("early.bird")
        emit_event("early.bird", n=1)
        record = collector.wait()
        assert record.attributes == {"n": 1}

    def test_count_returns_a_list(self, telemetry):
        """With `count > 1`, wait returns the list of records."""
        with telemetry.attach_collector("many", count=2) as collector:
            emit_event("many", n=1)
            emit_event("many", n=2)
            records = collector.wait()
        assert [r.attributes["n"] for r in records] == [1, 2]

    async def test_await_collector(self, telemetry):
        """`await collector.wait_async()` and `await collector` both work."""
        collector = telemetry.attach_collector("awaited")
        emit_event("awaited")
        record = await collector.wait_async()
        assert record.name == "awaited"
        second = telemetry.attach_collector("awaited")
        emit_event("awaited")
        assert (await second).name == "awaited"

    def test_collect_event_runs_the_action(self, telemetry):
        """collect_event attaches, runs the action, and returns the record."""
        record = telemetry.collect_event("action.ran", lambda: emit_event("action.ran", ok=True))
        assert record.attributes == {"ok": True}

    def test_wait_after_detach_raises(self, telemetry):
        """A detached collector cannot be waited on."""
        collector = telemetry.attach_collector("x")
        collector.detach()
        with pytest.raises(RuntimeError, match="detached"):
            collector.wait()

    def test_only_records_after_attach(self, telemetry):
        """An event emitted before the collector was attached does not count."""
        emit_event("before")
        collector = telemetry.attach_collector("before")
        with pytest.raises(TelemetryAssertionError, match="Received nothing"):
            collector.wait(timeout=0.05)


class TestMoreConcurrency:
    async def test_executor_threads_with_async_expectation(self, telemetry):
        """Events from run_in_executor threads satisfy an `async with` expectation."""
        loop = asyncio.get_running_loop()
        async with telemetry.assert_telemetry_event("pooled", count=3) as seen:
            futures = [loop.run_in_executor(None, emit_event, "pooled") for _ in range(3)]
        await asyncio.gather(*futures)
        assert len(seen.records) == 3

    async def test_async_sequence_and_any(self, telemetry):
        """Sequences and any-of work with `async with` and a producer task."""
        go = asyncio.Event()

        async def produce():
            await go.wait()
            emit_event("step.one")
            emit_event("step.two")

        task = asyncio.create_task(produce())
        async with (
            telemetry.assert_telemetry_sequence(["step.one", "step.two"], strict=True),
            telemetry.assert_telemetry_any(["step.zero", "step.two"]) as any_seen,
        ):
            go.set()
        await task
        assert any_seen.index == 1

    async def test_async_service_ready(self, telemetry):
        """An awaited wait_for_service_ready is woken by a task's started event."""
        go = asyncio.Event()

        async def start():
            await go.wait()
            emit_event("foundation.service.started", **{"service.name": "async-svc"})

        task = asyncio.create_task(start())
        go.set()
        record = await telemetry.wait_for_service_ready("async-svc")
        await task
        assert record.attributes["service.name"] == "async-svc"


class TestPrivateProviders:
    def test_attach_a_provider_the_app_keeps(self, telemetry):
        """telemetry.attach() captures from providers that are not the globals."""
        from opentelemetry.sdk.trace import TracerProvider

        provider = TracerProvider(shutdown_on_exit=False)
        telemetry.attach(tracer_provider=provider)
        with (
            telemetry.expect_span("private.work"),
            provider.get_tracer("private").start_as_current_span("private.work"),
        ):
            pass
