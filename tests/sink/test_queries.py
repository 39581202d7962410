"""The Recorder's query and expectation API on what really crossed the wire into the sink."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

from foundation_telemetry._otel._compat import BatchLogRecordProcessor, LoggerProvider
from foundation_telemetry.sink import Sink
from foundation_telemetry.testing import TelemetryAssertionError, TelemetryQueries, default_timeout

RESOURCE = Resource.create({"service.name": "wire"})


def _tracer_provider(sink: Sink) -> TracerProvider:
    provider = TracerProvider(resource=RESOURCE)
    exporter = OTLPSpanExporter(endpoint=f"{sink.http_endpoint}/v1/traces", timeout=10)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=20))
    return provider


class TestExpectations:
    def test_sink_is_a_telemetry_queries(self) -> None:
        """The sink serves the one query API (the same mixin as the Recorder), not a copy."""
        assert issubclass(Sink, TelemetryQueries)

    def test_default_timeout_covers_a_batch_delay(self, sink: Sink) -> None:
        """Sink expectations default to five times the testing default (exports are batched)."""
        assert sink._telemetry_timeout() == 5 * default_timeout()

    def test_expect_span_waits_for_the_batch_export(self, sink: Sink) -> None:
        """expect_span is woken by the arriving export: no flush, no sleep."""
        provider = _tracer_provider(sink)
        try:
            with sink.expect_span("checkout", attributes={"order.id": 42}, timeout=10) as seen:
                tracer = provider.get_tracer("shop")
                with tracer.start_as_current_span("checkout", attributes={"order.id": 42}):
                    tracer.start_span("db.query").end()
            assert seen.record.resource["service.name"] == "wire"
            assert seen.record.scope == "shop"
        finally:
            provider.shutdown()

    def test_assert_telemetry_event_on_exported_logs(self, sink: Sink) -> None:
        """A log-based event exported over gRPC satisfies assert_telemetry_event."""
        provider = LoggerProvider(resource=RESOURCE)
        exporter = OTLPLogExporter(endpoint=sink.grpc_endpoint, insecure=True, timeout=10)
        provider.add_log_record_processor(
            BatchLogRecordProcessor(exporter, schedule_delay_millis=20)
        )
        try:
            with sink.assert_telemetry_event(
                "foundation.retry.attempt_start", attempt=2, timeout=10
            ) as seen:
                provider.get_logger("retry").emit(
                    event_name="foundation.retry.attempt_start", attributes={"attempt": 2}
                )
            assert seen.record.resource["service.name"] == "wire"
        finally:
            provider.shutdown()

    def test_attach_collector_counts_exported_spans(self, sink: Sink) -> None:
        """A collector attached before the action collects spans as their batches arrive."""
        provider = _tracer_provider(sink)
        try:
            collector = sink.attach_collector("job-*", count=3)
            tracer = provider.get_tracer("jobs")
            for index in range(3):
                with tracer.start_as_current_span(f"job-{index}") as span:
                    span.add_event("job-" + str(index) + ".note")
            records = collector.wait(timeout=10)
            assert sorted(record.name for record in records)[:3] == [
                "job-0.note",
                "job-1.note",
                "job-2.note",
            ]
        finally:
            provider.shutdown()

    def test_wait_for_metric_threshold_on_exported_points(self, sink: Sink) -> None:
        """Exported cumulative sums reach a threshold with aggregate='last'."""
        exporter = OTLPMetricExporter(endpoint=f"{sink.http_endpoint}/v1/metrics", timeout=10)
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=50)
        provider = MeterProvider(metric_readers=[reader], resource=RESOURCE)
        try:
            counter = provider.get_meter("orders").create_counter("orders.placed")
            counter.add(3)
            counter.add(4)
            assert (
                sink.wait_for_metric_threshold(
                    "orders.placed", 7, aggregate="last", timeout=10
                ).wait()
                >= 7
            )
            point = sink.metric_points("orders.placed")[-1]
            assert (point.instrument_kind, point.temporality) == ("counter", "cumulative")
        finally:
            provider.shutdown()

    def test_failure_explains_what_arrived(self, sink: Sink) -> None:
        """When the expected span never arrives, the failure lists what the sink did receive."""
        provider = _tracer_provider(sink)
        try:

            def act() -> None:
                with sink.expect_span("never", timeout=0.5):
                    provider.get_tracer("t").start_span("something-else").end()
                    provider.force_flush()

            with pytest.raises(TelemetryAssertionError) as raised:
                act()
            assert "something-else" in str(raised.value)
        finally:
            provider.shutdown()


class TestExportedShapes:
    def test_histogram_points_carry_count_and_sum(self, sink: Sink) -> None:
        """An exported histogram becomes MetricPoints with count and sum (as value)."""
        exporter = OTLPMetricExporter(endpoint=f"{sink.http_endpoint}/v1/metrics", timeout=10)
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        provider = MeterProvider(metric_readers=[reader], resource=RESOURCE)
        try:
            histogram = provider.get_meter("http").create_histogram("latency", unit="ms")
            for value in (5.0, 10.0, 30.0):
                histogram.record(value, {"route": "/a"})
            provider.force_flush()
            (point,) = sink.metric_points("latency")
            assert (point.instrument_kind, point.count, point.value, point.unit) == (
                "histogram",
                3,
                45.0,
                "ms",
            )
            assert point.attributes == {"route": "/a"}
        finally:
            provider.shutdown()

    @pytest.mark.parametrize("protocol", ["grpc", "http"])
    def test_gzip_compressed_exports(self, sink: Sink, protocol: str) -> None:
        """Exporters configured for gzip compression are understood on both transports."""
        if protocol == "grpc":
            exporter = GrpcSpanExporter(
                endpoint=sink.grpc_endpoint, insecure=True, compression=grpc.Compression.Gzip
            )
        else:
            exporter = OTLPSpanExporter(
                endpoint=f"{sink.http_endpoint}/v1/traces", compression=Compression.Gzip
            )
        span = TracerProvider(resource=RESOURCE).get_tracer("z").start_span("zipped")
        span.end()
        assert exporter.export([span]) is SpanExportResult.SUCCESS
        exporter.shutdown()
        assert [record.name for record in sink.spans()] == ["zipped"]
