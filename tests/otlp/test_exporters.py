"""The exporters ``configure()`` builds send the direct encoder's bytes to a real receiver.

Each batch is exported over a real socket to the embedded sink twice, by the stock exporter
and by ours; the sink must store the same records. Retries (with the gRPC channel rebuilt after
UNAVAILABLE) keep working, and a batch the direct encoder refuses still arrives.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from foundation_telemetry import otlp
from foundation_telemetry._config._exporters import build_exporters
from foundation_telemetry._config._settings import resolve_settings
from foundation_telemetry._otel._compat import (
    InMemoryLogRecordExporter,
    LoggerProvider,
    SimpleLogRecordProcessor,
)
from foundation_telemetry.sink import Sink

RESOURCE = Resource(
    {"service.name": "parity", "deployment.environment": "test"}, "https://schema/1"
)


def _spans() -> Any:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("parity", "1.2", schema_url="https://scope", attributes={"s": 1})
    with tracer.start_as_current_span(
        "parent", kind=SpanKind.SERVER, attributes={"n": 1, "é": "ü"}
    ) as parent:
        parent.add_event("step", {"i": 2, "tags": ["a", "b"]})
        parent.set_status(Status(StatusCode.ERROR, "broken"))
        with provider.get_tracer("other").start_as_current_span(
            "child",
            links=[Link(parent.get_span_context(), {"why": "retry"})],
            attributes={"f": 0.5},
        ):
            pass
    return exporter.get_finished_spans()


def _logs() -> Any:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("parity")
    logger.emit(
        body={"order": 7, "items": [1, b"\x00"]}, attributes={"k": True}, event_name="order.placed"
    )
    logger.emit(body="plain text", severity_text="WARN")
    return exporter.get_finished_logs()


def _metrics() -> Any:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=RESOURCE,
        metric_readers=[reader],
        views=[View(instrument_name="exp.*", aggregation=ExponentialBucketHistogramAggregation())],
        shutdown_on_exit=False,
    )
    meter = provider.get_meter("parity")
    meter.create_counter("orders").add(3, {"shop": "a"})
    meter.create_up_down_counter("queue").add(-2)
    meter.create_histogram("latency").record(12.5, {"route": "/x"})
    meter.create_histogram("exp.latency").record(3.0)
    meter.create_gauge("temperature").set(21.5)
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


BATCHES: dict[str, Callable[[], Any]] = {"traces": _spans, "logs": _logs, "metrics": _metrics}


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as running:
        yield running


def _build(sink: Sink, signal: str, protocol: str) -> Any:
    """The exporter ``configure(exporter="otlp", ...)`` builds for *signal*."""
    endpoint = sink.grpc_endpoint if protocol == "grpc" else sink.http_endpoint
    settings = resolve_settings(
        service_name=None,
        exporter="otlp",
        endpoint=endpoint,
        protocol=protocol,
        headers=None,
        resource_attributes=None,
        debug=None,
        shutdown_timeout=3.0,
        environ={},
    )
    ((_, exporter),) = build_exporters(getattr(settings, signal))
    return exporter


def _stock(sink: Sink, signal: str, protocol: str) -> Any:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        classes: dict[str, Any] = {
            "traces": OTLPSpanExporter,
            "logs": OTLPLogExporter,
            "metrics": OTLPMetricExporter,
        }
        return classes[signal](endpoint=sink.grpc_endpoint, insecure=True)
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HTTPLogs
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter as HTTPMetrics,
    )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HTTPSpans

    http: dict[str, Any] = {"traces": HTTPSpans, "logs": HTTPLogs, "metrics": HTTPMetrics}
    return http[signal](endpoint=f"{sink.http_endpoint}/v1/{signal}")


def _received(sink: Sink, exporter: Any, batch: Any) -> list[Any]:
    got: list[Any] = []
    unsubscribe = sink.subscribe(got.extend)
    try:
        assert exporter.export(batch).name == "SUCCESS"
    finally:
        unsubscribe()
        exporter.shutdown()
    return got


def _direct(signal: str) -> int:
    return otlp.encoding_counts()["direct"].get(signal, 0)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_the_sink_stores_what_the_stock_exporter_sends(
    sink: Sink, signal: str, protocol: str
) -> None:
    batch = BATCHES[signal]()
    expected = _received(sink, _stock(sink, signal, protocol), batch)
    before = _direct(signal)
    assert _received(sink, _build(sink, signal, protocol), batch) == expected
    assert len(expected) >= 2
    encoded_here = protocol == "grpc" or signal != "metrics"  # HTTP metrics keep the stock encoder
    assert _direct(signal) == before + (1 if encoded_here else 0)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_retries_after_unavailable_deliver_once(sink: Sink, protocol: str) -> None:
    """UNAVAILABLE / 503 is retried with the server's retry-after; gRPC rebuilds its channel."""
    batch = _spans()
    expected = _received(sink, _stock(sink, "traces", protocol), batch)
    sink.faults.unavailable(2, retry_after=0.01)
    assert _received(sink, _build(sink, "traces", protocol), batch) == expected
    assert not sink.faults.armed


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_a_refused_batch_arrives_through_the_stock_encoder(sink: Sink, protocol: str) -> None:
    class Level(enum.IntEnum):
        HIGH = 3

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("odd", attributes={"level": Level.HIGH}).end()
    batch = exporter.get_finished_spans()
    before = otlp.encoding_counts()["fallback"].get("traces", 0)
    (record,) = _received(sink, _build(sink, "traces", protocol), batch)
    assert record.name == "odd"
    assert record.attributes == {"level": 3}
    assert otlp.encoding_counts()["fallback"]["traces"] == before + 1
