"""``harden()``: user-built providers get the defensive layer, now and for later additions."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import foundation_telemetry
from foundation_telemetry import defensive as d
from foundation_telemetry._otel import _internals


class Exploding(SpanProcessor):
    def on_end(self, span: Any) -> None:
        raise RuntimeError("processor bug")


def _requests(reader: InMemoryMetricReader) -> float:
    data = reader.get_metrics_data()
    assert data is not None
    return sum(
        point.value
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "app.requests"
        for point in metric.data.data_points
    )


class TestHarden:
    def test_wraps_what_the_providers_hold_and_what_is_added_later(self) -> None:
        """Processors held before and added after harden() are wrapped; exporters inside too."""
        spans = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(Exploding())
        telemetry = foundation_telemetry.harden(tracer_provider=provider, export_timeout=5)
        provider.add_span_processor(SimpleSpanProcessor(spans))
        processors = _internals.span_processors_of(provider)
        assert all(isinstance(p, d.DefensiveSpanProcessor) for p in processors)
        assert isinstance(_internals.exporter_of(processors[1].wrapped), d.DefensiveSpanExporter)
        before = d.skipped("Exploding")
        provider.get_tracer("t").start_span("x").end()  # the failing processor does not raise
        assert d.skipped("Exploding") == before + 1
        assert len(spans.get_finished_spans()) == 1  # the one after it still ran
        assert telemetry.shutdown(timeout=5)

    def test_metric_readers_are_swapped_in_place(self) -> None:
        """A reader registered at construction goes behind DefensiveMetricReader, data intact."""
        reader = InMemoryMetricReader()
        provider = MeterProvider(metric_readers=[reader])
        counter = provider.get_meter("m").create_counter("app.requests")
        counter.add(2)
        telemetry = foundation_telemetry.harden(meter_provider=provider)
        counter.add(1)
        readers = _internals.metric_readers_of(provider)
        assert [type(r) for r in readers] == [d.DefensiveMetricReader]
        assert _requests(reader) == 3  # what was aggregated before harden() is kept
        assert telemetry.shutdown(timeout=5)

    def test_periodic_reader_exporter_is_guarded(self) -> None:
        """The exporter inside a user's periodic reader is wrapped with the export bound."""
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        reader = PeriodicExportingMetricReader(
            ConsoleMetricExporter(), export_interval_millis=60_000
        )
        provider = MeterProvider(metric_readers=[reader])
        telemetry = foundation_telemetry.harden(meter_provider=provider, export_timeout=2)
        exporter = _internals.periodic_reader_exporter(reader)
        assert isinstance(exporter, d.DefensiveMetricExporter)
        telemetry.shutdown(timeout=5)

    def test_sdk_exit_hooks_are_removed(self) -> None:
        """The providers' own atexit hooks are unregistered: the coordinator shuts them down."""
        providers = (TracerProvider(), MeterProvider(), LoggerProvider())
        telemetry = foundation_telemetry.harden(*providers)
        # Nothing left to remove: harden() already unregistered each provider's hook.
        assert [_internals.remove_exit_hook(p) for p in providers] == [False, False, False]
        assert telemetry.is_global is False
        assert telemetry.shutdown(timeout=5)

    def test_logs_and_later_log_processors(self) -> None:
        """A logger provider's processors (held and later) are wrapped; get_logger works."""
        logs = InMemoryLogRecordExporter()
        provider = LoggerProvider(shutdown_on_exit=False)
        telemetry = foundation_telemetry.harden(logger_provider=provider)
        provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        processors = _internals.log_record_processors_of(provider)
        assert [type(p) for p in processors] == [d.DefensiveLogRecordProcessor]
        assert provider.get_logger("app") is not None
        telemetry.shutdown(timeout=5)

    def test_twice_changes_nothing(self) -> None:
        """Hardening the same provider again wraps nothing twice."""
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        first = foundation_telemetry.harden(tracer_provider=provider)
        processors = _internals.span_processors_of(provider)
        second = foundation_telemetry.harden(tracer_provider=provider)
        assert _internals.span_processors_of(provider) == processors
        first.shutdown(timeout=5)
        second.shutdown(timeout=5)

    def test_missing_providers_are_empty_ones(self) -> None:
        """A provider not given is an empty SDK provider, so the attributes keep their types."""
        telemetry = foundation_telemetry.harden()
        assert isinstance(telemetry.tracer_provider, TracerProvider)
        assert isinstance(telemetry.meter_provider, MeterProvider)
        assert isinstance(telemetry.logger_provider, LoggerProvider)
        assert telemetry.shutdown(timeout=5)

    @pytest.mark.parametrize(
        ("arguments", "error", "message"),
        [
            ({"tracer_provider": MeterProvider}, TypeError, "`tracer_provider` must be"),
            ({"shutdown_timeout": 0}, ValueError, "`shutdown_timeout` must be > 0"),
            ({"export_timeout": -1}, ValueError, "`export_timeout` must be > 0"),
            ({"export_timeout": "5"}, TypeError, "`export_timeout` must be a number"),
        ],
    )
    def test_bad_arguments(self, arguments: dict[str, Any], error: type, message: str) -> None:
        """Bad arguments fail at the call with a message that names them."""
        with pytest.raises(error, match=message):
            foundation_telemetry.harden(**arguments)
