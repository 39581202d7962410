"""The exporter's backend-down breaker: skip at once while open, one probe at a time, events."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from foundation_telemetry import defensive as d
from foundation_telemetry.defensive import _breaker
from foundation_telemetry.events._dispatch import attach, detach
from foundation_telemetry.taxonomy import TELEMETRY_EXPORTER_STATE_CHANGE

from .test_wrappers import counts, tracer_with, unique


class Backend(SpanExporter):
    """Refuses (``FAILURE``) while ``down``; counts the exports that reached it."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    def export(self, spans: Any) -> SpanExportResult:
        self.calls += 1
        return SpanExportResult.FAILURE if self.down else SpanExportResult.SUCCESS


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_breaker, "clock", fake)
    return fake


@pytest.fixture
def moves() -> Iterator[list[tuple[str, str, str]]]:
    seen: list[tuple[str, str, str]] = []
    handler = unique("breaker-events")

    def record(name: str, measurements: Any, metadata: Any, config: Any) -> None:
        seen.append((metadata["component"], metadata["from_state"], metadata["to_state"]))

    attach(handler, TELEMETRY_EXPORTER_STATE_CHANGE, record)
    yield seen
    detach(handler)


def _span() -> Any:
    span = tracer_with().start_span("x")
    span.end()
    return span


class TestBreaker:
    def test_open_breaker_skips_without_calling_the_exporter(self, clock: FakeClock) -> None:
        """After a refused export, the next ones are counted at once and never reach the exporter."""
        backend = Backend()
        name = unique("down")
        exporter = d.DefensiveSpanExporter(backend, name=name)
        for _ in range(4):
            assert exporter.export([_span()]) is SpanExportResult.FAILURE
        assert backend.calls == 1
        assert exporter.breaker_state == "open"
        assert counts(name) == {"backend_unavailable": 4}

    def test_probe_after_backoff_closes_on_success(
        self, clock: FakeClock, moves: list[tuple[str, str, str]]
    ) -> None:
        """One probe after the back-off; its success closes the breaker; each move is an event."""
        backend = Backend()
        name = unique("recovers")
        exporter = d.DefensiveSpanExporter(backend, name=name)
        exporter.export([_span()])
        clock.now += _breaker.FIRST_BACKOFF
        backend.down = False
        assert exporter.export([_span()]) is SpanExportResult.SUCCESS
        assert exporter.breaker_state == "closed"
        assert exporter.export([_span()]) is SpanExportResult.SUCCESS
        assert backend.calls == 3
        assert [m for m in moves if m[0] == name] == [
            (name, "closed", "open"),
            (name, "open", "half_open"),
            (name, "half_open", "closed"),
        ]

    def test_failed_probe_doubles_the_backoff(self, clock: FakeClock) -> None:
        """A probe that fails opens the breaker again, for twice as long."""
        backend = Backend()
        exporter = d.DefensiveSpanExporter(backend, name=unique("still-down"))
        exporter.export([_span()])
        clock.now += _breaker.FIRST_BACKOFF
        exporter.export([_span()])  # the probe, refused
        assert backend.calls == 2
        clock.now += _breaker.FIRST_BACKOFF
        exporter.export([_span()])  # too early now
        assert backend.calls == 2
        clock.now += _breaker.FIRST_BACKOFF
        exporter.export([_span()])
        assert backend.calls == 3

    def test_one_probe_at_a_time(self, clock: FakeClock) -> None:
        """While a probe is running, other threads' exports are skipped, not sent."""
        entered, release = threading.Event(), threading.Event()

        class SlowBackend(Backend):
            def export(self, spans: Any) -> SpanExportResult:
                if self.calls == 1:
                    self.calls += 1
                    entered.set()
                    release.wait(30)
                    return SpanExportResult.SUCCESS
                return super().export(spans)

        backend = SlowBackend()
        name = unique("probing")
        exporter = d.DefensiveSpanExporter(backend, name=name)
        exporter.export([_span()])
        clock.now += _breaker.FIRST_BACKOFF
        probe = threading.Thread(target=exporter.export, args=([_span()],))
        probe.start()
        assert entered.wait(30)
        assert exporter.breaker_state == "half_open"
        assert exporter.export([_span()]) is SpanExportResult.FAILURE
        release.set()
        probe.join(30)
        assert backend.calls == 2
        assert exporter.breaker_state == "closed"
        assert counts(name) == {"backend_unavailable": 2}

    def test_other_failures_do_not_open_it(self, clock: FakeClock) -> None:
        """An exporter bug (not the backend) is counted but leaves the breaker closed."""

        class Buggy(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                raise RuntimeError("bug")

        exporter = d.DefensiveSpanExporter(Buggy(), name=unique("buggy"))
        exporter.export([_span()])
        assert exporter.breaker_state == "closed"

    def test_refused_connection_opens_it(self, clock: FakeClock) -> None:
        """A ConnectionRefusedError from the exporter is the backend being down."""

        class Refusing(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                raise ConnectionRefusedError(111, "Connection refused")

        exporter = d.DefensiveSpanExporter(Refusing(), name=unique("refusing"))
        exporter.export([_span()])
        assert exporter.breaker_state == "open"

    def test_a_flush_probes_at_once(self, clock: FakeClock) -> None:
        """An explicit flush asks for delivery now: it does not wait out the back-off."""
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        backend = Backend()
        exporter = d.DefensiveSpanExporter(backend, name=unique("flushed"))
        processor = d.DefensiveSpanProcessor(
            BatchSpanProcessor(exporter, schedule_delay_millis=60_000), name=unique("batch")
        )
        tracer = tracer_with(processor)
        tracer.start_span("down").end()
        assert processor.force_flush(30_000)
        assert exporter.breaker_state == "open"
        backend.down = False
        tracer.start_span("back").end()
        assert processor.force_flush(30_000)
        assert backend.calls == 2
        assert exporter.breaker_state == "closed"
        processor.shutdown()
