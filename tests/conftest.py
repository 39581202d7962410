"""A real SDK pipeline (in-memory exporters) behind the global rebinding proxies, per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry._logs import NoOpLoggerProvider
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

from foundation_telemetry import _state
from foundation_telemetry._config import _globals
from foundation_telemetry._otel._compat import (
    InMemoryLogRecordExporter,
    LoggerProvider,
    SimpleLogRecordProcessor,
)
from foundation_telemetry.correlation import CorrelationSpanProcessor
from foundation_telemetry.handlers import detach, handlers


@dataclass
class Pipeline:
    """Providers with synchronous in-memory export, installed as the OpenTelemetry globals."""

    tracer_provider: TracerProvider
    logger_provider: LoggerProvider
    meter_provider: MeterProvider
    span_exporter: InMemorySpanExporter
    log_exporter: Any
    metric_reader: InMemoryMetricReader

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        return [s for s in self.span_exporter.get_finished_spans() if name in (None, s.name)]

    def events(self, name: str | None = None) -> list[Any]:
        """The exported API log records (``.event_name``, ``.attributes``) in order."""
        records = [item.log_record for item in self.log_exporter.get_finished_logs()]
        return [r for r in records if name in (None, r.event_name)]

    def event_names(self) -> list[str]:
        return [r.event_name for r in self.events()]

    def metric_points(self, name: str) -> list[Any]:
        data = self.metric_reader.get_metrics_data()
        points: list[Any] = []
        if data is None:
            return points
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    span_exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(CorrelationSpanProcessor())
    tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    log_exporter = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    previous = _globals.current_delegates()
    _globals.rebind(tracer_provider, meter_provider, logger_provider)
    try:
        yield Pipeline(
            tracer_provider, logger_provider, meter_provider, span_exporter, log_exporter, reader
        )
    finally:
        for info in handlers():
            detach(info.handler_id)
        _state.handlers.clear_failures_for_tests()
        if previous is None:
            previous = (NoOpTracerProvider(), NoOpMeterProvider(), NoOpLoggerProvider())
        _globals.rebind(*previous)
        tracer_provider.shutdown()
        logger_provider.shutdown()
        meter_provider.shutdown()
