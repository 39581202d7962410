"""Queries, capture_telemetry, snapshot, wait_for and wait_for_service_ready."""

from __future__ import annotations

import threading

import pytest
from opentelemetry import trace

from foundation_telemetry.testing import TelemetryAssertionError

from ._helpers import emit_event

tracer = trace.get_tracer("tests.testing.queries")


class TestQueries:
    def test_spans_events_logs_by_name_and_attributes(self, telemetry):
        """Queries filter by name (glob) and attribute subset."""
        with tracer.start_as_current_span("q.one", attributes={"k": 1}):
            emit_event("q.event", k=1)
        with tracer.start_as_current_span("q.two", attributes={"k": 2}):
            pass
        assert [s.name for s in telemetry.spans("q.*")] == ["q.one", "q.two"]
        assert [s.name for s in telemetry.spans(k=2)] == ["q.two"]
        assert [e.name for e in telemetry.events()] == ["q.event"]
        assert [e.name for e in telemetry.logs("q.*")] == ["q.event"]

    def test_only_this_tests_records(self, telemetry):
        """A fresh fixture starts with nothing (earlier tests' records are gone)."""
        assert telemetry.records() == []


class TestCaptureTelemetry:
    def test_only_inside_the_block(self, telemetry):
        """capture_telemetry holds exactly what was captured inside the block."""
        emit_event("outside.before")
        with telemetry.capture_telemetry() as captured:
            emit_event("inside", n=1)
            with tracer.start_as_current_span("inside.span"):
                pass
        emit_event("outside.after")
        assert [e.name for e in captured.events()] == ["inside"]
        assert [s.name for s in captured.spans()] == ["inside.span"]
        assert captured.snapshot(kinds=["event"]) == [
            {
                "kind": "event",
                "name": "inside",
                "attributes": {"n": 1},
                "trace_id": None,
                "span_id": None,
            }
        ]


class TestSnapshot:
    def test_ids_renumbered_and_placeholders(self, telemetry):
        """Snapshots renumber ids in order of appearance and hide host/pid."""
        with (
            tracer.start_as_current_span("root"),
            tracer.start_as_current_span("child", attributes={"process.pid": 4321}),
        ):
            emit_event("ev", **{"host.name": "box-1"})
        assert telemetry.snapshot() == [
            {
                "kind": "event",
                "name": "ev",
                "attributes": {"host.name": "<host>"},
                "trace_id": 1,
                "span_id": 1,
            },
            {
                "kind": "span",
                "name": "child",
                "trace_id": 1,
                "span_id": 1,
                "parent_id": 2,
                "status": "UNSET",
                "attributes": {"process.pid": "<pid>"},
                "events": [],
            },
            {
                "kind": "span",
                "name": "root",
                "trace_id": 1,
                "span_id": 2,
                "parent_id": None,
                "status": "UNSET",
                "attributes": {},
                "events": [],
            },
        ]

    def test_relative_timestamps_on_request(self, telemetry):
        """timestamps=True adds times relative to the first record."""
        emit_event("first")
        emit_event("second")
        first, second = telemetry.snapshot(timestamps=True)
        assert first["timestamp_ns"] == 0
        assert second["timestamp_ns"] >= 0

    def test_unknown_kind(self, telemetry):
        """An unknown kind is a clear error."""
        with pytest.raises(ValueError, match="`kinds` may contain"):
            telemetry.snapshot(kinds=["trace"])


class TestWaitFor:
    def test_returns_the_truthy_value(self, telemetry):
        """wait_for polls until the predicate returns something truthy, and returns it."""
        ready = threading.Event()
        threading.Thread(target=ready.set).start()
        assert (
            telemetry.wait_for(lambda: ready.is_set() and "ready", interval=0.001).wait() == "ready"
        )

    def test_timeout_reports_the_last_result(self, telemetry):
        """A timeout says how often it tried and what the last call did."""

        def broken():
            raise ConnectionError("refused")

        with pytest.raises(
            TelemetryAssertionError,
            match=r"gave up after 0.05s and \d+ call\(s\); the last call raised ConnectionError\('refused'\)",
        ):
            telemetry.wait_for(broken, timeout=0.05, interval=0.01).wait()


class TestServiceReady:
    def test_started_event(self, telemetry):
        """foundation.service.started with the service name means ready."""
        emit_event("foundation.service.started", **{"service.name": "billing"})
        record = telemetry.wait_for_service_ready("billing").wait()
        assert record.name == "foundation.service.started"

    def test_healthy_check_from_a_thread(self, telemetry):
        """A healthy health check emitted later by another thread also means ready."""
        go = threading.Event()

        def check():
            go.wait()
            emit_event(
                "foundation.service.health_check", **{"service.name": "api", "status": "healthy"}
            )

        thread = threading.Thread(target=check)
        thread.start()
        go.set()
        assert telemetry.wait_for_service_ready("api").wait().attributes["status"] == "healthy"
        thread.join()

    def test_other_service_does_not_count(self, telemetry):
        """Another service's start does not satisfy the wait."""
        emit_event("foundation.service.started", **{"service.name": "other"})
        with pytest.raises(TelemetryAssertionError, match="None of 3 alternatives matched"):
            telemetry.wait_for_service_ready("mine", timeout=0.05).wait()
