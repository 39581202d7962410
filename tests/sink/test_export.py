"""Every signal over every transport with the stock OTLP exporters: what arrives, with its resource."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetrics,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetrics,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from foundation_telemetry._otel._compat import LoggerProvider, SimpleLogRecordProcessor
from foundation_telemetry.recording._records import RecordKind
from foundation_telemetry.sink import Sink

RESOURCE = Resource.create({"service.name": "export-matrix", "deployment.environment": "test"})


def _exporter(sink: Sink, protocol: str, signal: str) -> Any:
    if protocol == "grpc":
        kinds: dict[str, Any] = {"traces": GrpcSpans, "metrics": GrpcMetrics, "logs": GrpcLogs}
        return kinds[signal](endpoint=sink.grpc_endpoint, insecure=True, timeout=10)
    kinds = {"traces": HttpSpans, "metrics": HttpMetrics, "logs": HttpLogs}
    return kinds[signal](endpoint=f"{sink.http_endpoint}/v1/{signal}", timeout=10)


@pytest.fixture(params=["grpc", "http/protobuf"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestStockExporters:
    def test_spans(self, sink: Sink, protocol: str) -> None:
        """A span tree arrives with ids, parent, kind, status, events, links and resource."""
        provider = TracerProvider(resource=RESOURCE)
        provider.add_span_processor(SimpleSpanProcessor(_exporter(sink, protocol, "traces")))
        tracer = provider.get_tracer("matrix", "1.0")
        with (
            tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent,
            tracer.start_as_current_span("child", attributes={"n": 1}) as child,
        ):
            child.add_event("note", {"k": "v"})
            child.set_status(Status(StatusCode.ERROR, "bad"))
        provider.shutdown()
        received = {span.name: span for span in sink.spans()}
        assert received["child"].parent_span_id == parent.get_span_context().span_id
        assert received["child"].trace_id == parent.get_span_context().trace_id
        assert (received["child"].status, received["child"].status_description) == ("ERROR", "bad")
        assert received["parent"].kind == "SERVER"
        assert [event.name for event in received["child"].events] == ["note"]
        assert received["child"].resource["service.name"] == "export-matrix"
        assert received["child"].resource["deployment.environment"] == "test"
        assert received["child"].scope == "matrix"
        assert [event.name for event in sink.events("note")] == ["note"]

    def test_metrics(self, sink: Sink, protocol: str) -> None:
        """Counter, up-down counter, gauge and histogram points arrive with their kind."""
        reader = PeriodicExportingMetricReader(
            _exporter(sink, protocol, "metrics"), export_interval_millis=3_600_000
        )
        provider = MeterProvider(metric_readers=[reader], resource=RESOURCE)
        meter = provider.get_meter("matrix")
        meter.create_counter("c").add(2, {"a": "x"})
        meter.create_up_down_counter("u").add(-1)
        meter.create_gauge("g").set(7.5)
        meter.create_histogram("h").record(3.0)
        provider.force_flush()
        provider.shutdown()
        kinds = {point.name: point.instrument_kind for point in sink.metric_points()}
        assert kinds == {
            "c": "counter",
            "u": "up_down_counter",
            "g": "gauge",
            "h": "histogram",
        }
        (counter,) = ({p.name: p for p in sink.metric_points()}["c"],)
        assert (counter.value, counter.attributes) == (2.0, {"a": "x"})
        assert counter.resource["service.name"] == "export-matrix"

    def test_log_events_and_logs(self, sink: Sink, protocol: str) -> None:
        """A log-based event and a plain log record arrive with trace context and resource."""
        provider = LoggerProvider(resource=RESOURCE)
        provider.add_log_record_processor(
            SimpleLogRecordProcessor(_exporter(sink, protocol, "logs"))
        )
        tracer_provider = TracerProvider(resource=RESOURCE)
        logger = provider.get_logger("matrix")
        with tracer_provider.get_tracer("t").start_as_current_span("op") as span:
            logger.emit(event_name="order.accepted", attributes={"order.id": 7})
            logger.emit(body="hello")
        provider.shutdown()
        (event,) = sink.events("order.accepted")
        assert event.kind is RecordKind.EVENT
        assert event.trace_id == span.get_span_context().trace_id
        assert event.attributes == {"order.id": 7}
        assert event.resource["service.name"] == "export-matrix"
        assert [log.body for log in sink.logs() if log.kind is RecordKind.LOG] == ["hello"]
