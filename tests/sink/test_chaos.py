"""Chaos over real sockets: the pipeline recovers, the app never blocks, and every span is accounted for.

Each scenario builds our export pipeline with ``configure(exporter="otlp", endpoint=...,
protocol=...)`` (a defensive processor around a batch processor around a defensive OTLP
exporter) pointed at a real sink, over gRPC and over HTTP, breaks the sink (offline, restarted, slow,
partially accepting, refusing for longer than the export timeout), and then checks:

* the application thread finished producing while the sink was still broken (it never waited on
  export: the wait below is far shorter than the exporter's own timeout);
* spans produced during an outage shorter than the buffer arrive after recovery;
* the accounting identity, exactly: distinct spans received by the sink + spans the sink
  rejected in a partial success + spans our layer counted as skipped == spans produced.

Recovery time (sink back -> last span received) is printed for the report (``-s``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace import TracerProvider

import foundation_telemetry as ft
from foundation_telemetry.defensive import _breaker
from foundation_telemetry.sink import Sink

PROTOCOLS = ["grpc", "http/protobuf"]
# The producer must finish while the sink is still broken; the exporter would block an
# application thread for up to its timeout, so the producer's budget is well below it.
EXPORT_TIMEOUT = "60"
PRODUCER_BUDGET = 20.0
FLUSH_MILLIS = 60_000


def _skipped_by(fragment: str) -> int:
    """Items skipped so far by the components whose name contains *fragment* (``"Span"``...)."""
    return sum(
        count
        for component, reasons in ft.health()["skipped"].items()
        if fragment in component
        for count in reasons.values()
    )


@dataclass
class Pipeline:
    provider: TracerProvider
    sink: Sink
    skips_before: int

    def produce(self, count: int, prefix: str) -> None:
        """Produce *count* spans on a fresh application thread; fail if it does not finish."""
        done = threading.Event()

        def app() -> None:
            tracer = self.provider.get_tracer("chaos")
            for index in range(count):
                tracer.start_span(f"{prefix}-{index}").end()
            done.set()

        threading.Thread(target=app, name="app").start()
        assert done.wait(PRODUCER_BUDGET), "the application thread blocked on export"

    def flush(self) -> None:
        assert self.provider.force_flush(FLUSH_MILLIS)

    def skipped(self) -> int:
        """Spans our layer counted as skipped since the pipeline was built."""
        return _skipped_by("Span") - self.skips_before

    def received(self) -> int:
        return len({span.span_id for span in self.sink.spans()})

    def assert_accounted(self, produced: int) -> None:
        rejected = self.sink.stats.rejected.get("traces", 0)
        assert self.received() + rejected + self.skipped() == produced, (
            f"received {self.received()} + rejected {rejected} + skipped {self.skipped()}"
            f" != produced {produced}; skips {ft.health()['skipped']}"
        )


def _configure(
    sink: Sink, protocol: str, monkeypatch: pytest.MonkeyPatch, timeout: str
) -> ft.Telemetry:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4096")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "256")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", timeout)
    return ft.configure(
        "chaos",
        exporter="otlp",
        protocol=protocol,
        endpoint=sink.grpc_endpoint if protocol == "grpc" else sink.http_endpoint,
        set_global=False,
    )


@pytest.fixture(params=PROTOCOLS)
def pipeline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with Sink(max_items=1_000_000) as sink:
        telemetry = _configure(sink, request.param, monkeypatch, EXPORT_TIMEOUT)
        try:
            yield Pipeline(telemetry.tracer_provider, sink, _skipped_by("Span"))
        finally:
            telemetry.shutdown()


def _report(name: str, seconds: float) -> None:
    print(f"\nrecovery[{name}]: {seconds:.3f}s")


class TestRecovery:
    def test_outage_shorter_than_the_buffer(self, pipeline: Pipeline) -> None:
        """Spans produced while the sink is down all arrive once it is back; nothing is skipped."""
        pipeline.produce(200, "before")
        pipeline.flush()
        with pipeline.sink.offline():
            pipeline.produce(1000, "during")
        back = time.monotonic()
        pipeline.flush()
        _report("offline", time.monotonic() - back)
        assert pipeline.received() == 1200
        assert pipeline.skipped() == 0
        pipeline.assert_accounted(1200)

    def test_restart_mid_stream(self, pipeline: Pipeline) -> None:
        """A restart while spans stream in loses nothing: every span is received or counted."""
        arrived = threading.Event()
        unsubscribe = pipeline.sink.subscribe(lambda records: arrived.set())
        producer = threading.Thread(target=pipeline.produce, args=(3000, "stream"))
        producer.start()
        assert arrived.wait(30)
        unsubscribe()
        pipeline.sink.restart()
        back = time.monotonic()
        producer.join()
        pipeline.flush()
        _report("restart", time.monotonic() - back)
        pipeline.assert_accounted(3000)
        assert pipeline.received() == 3000

    def test_unavailable_for_a_while(self, pipeline: Pipeline) -> None:
        """UNAVAILABLE / 503 answers for a few requests are retried until the spans arrive."""
        pipeline.sink.faults.unavailable(3, retry_after=0.05)
        pipeline.produce(500, "refused")
        back = time.monotonic()
        pipeline.flush()
        _report("unavailable", time.monotonic() - back)
        assert pipeline.sink.stats.refused == {"unavailable": 3}
        assert pipeline.received() == 500
        pipeline.assert_accounted(500)

    def test_slow_sink(self, pipeline: Pipeline) -> None:
        """A sink that answers slowly delays delivery but never the application."""
        pipeline.sink.faults.delay(0.2, requests=5)  # each of the first 5 exports waits
        pipeline.produce(2000, "slow")
        pipeline.flush()
        assert pipeline.received() == 2000
        pipeline.assert_accounted(2000)

    def test_partial_success(self, pipeline: Pipeline) -> None:
        """Rejected items are accounted for by the sink's rejected count; the rest arrive."""
        pipeline.sink.faults.partial_success(7, requests=2)
        pipeline.produce(600, "partial")
        pipeline.flush()
        assert pipeline.sink.stats.rejected == {"traces": 14}
        assert pipeline.received() == 600 - 14
        pipeline.assert_accounted(600)

    @pytest.mark.parametrize("protocol", PROTOCOLS)
    def test_outage_longer_than_the_export_timeout_is_counted(
        self, protocol: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Spans whose export gives up are counted as skipped; the identity still holds.

        The failed export opens the exporter's backend-down breaker; once its back-off has passed
        (a fake clock here) the next export is the probe, succeeds and closes it again.
        """
        now = [1000.0]
        monkeypatch.setattr(_breaker, "clock", lambda: now[0])
        with Sink() as sink:
            telemetry = _configure(sink, protocol, monkeypatch, "1.5")
            try:
                pipeline = Pipeline(telemetry.tracer_provider, sink, _skipped_by("Span"))
                sink.faults.unavailable(None, retry_after=0.2, signal="traces")
                pipeline.produce(300, "lost")
                pipeline.flush()
                sink.faults.clear()
                now[0] += _breaker.MAX_BACKOFF
                pipeline.produce(100, "after")
                pipeline.flush()
            finally:
                telemetry.shutdown()
            assert pipeline.skipped() == 300
            assert pipeline.received() == 100
            pipeline.assert_accounted(400)

    def test_outage_longer_than_the_buffer_is_counted(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Spans pushed out of a full batch queue during an outage are counted as skipped."""
        monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "256")
        monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64")
        with Sink() as sink:
            telemetry = ft.configure(
                "chaos",
                exporter="otlp",
                protocol="grpc",
                endpoint=sink.grpc_endpoint,
                set_global=False,
            )
            try:
                pipeline = Pipeline(telemetry.tracer_provider, sink, _skipped_by("Span"))
                with sink.offline():
                    pipeline.produce(2000, "overflow")
                pipeline.flush()
            finally:
                telemetry.shutdown()
            assert pipeline.received() < 2000
            pipeline.assert_accounted(2000)


class TestLogEvents:
    @pytest.mark.parametrize("protocol", PROTOCOLS)
    def test_events_during_an_outage_arrive(
        self, protocol: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Log-based events produced while the sink is offline arrive after it is back."""
        monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "50")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", EXPORT_TIMEOUT)
        with Sink() as sink:
            telemetry = ft.configure(
                "chaos",
                exporter="otlp",
                protocol=protocol,
                endpoint=sink.grpc_endpoint if protocol == "grpc" else sink.http_endpoint,
                set_global=False,
            )
            try:
                before = _skipped_by("Log")
                logger = telemetry.logger_provider.get_logger("chaos")
                done = threading.Event()

                def app() -> None:
                    for index in range(500):
                        logger.emit(event_name="chaos.tick", attributes={"index": index})
                    done.set()

                with sink.offline():
                    threading.Thread(target=app, name="app").start()
                    assert done.wait(PRODUCER_BUDGET), "the application thread blocked on export"
                assert telemetry.force_flush(timeout=60)
            finally:
                telemetry.shutdown()
            skipped = _skipped_by("Log") - before
            indexes = {event.attributes["index"] for event in sink.events("chaos.tick")}
            assert (len(indexes), skipped) == (500, 0)
