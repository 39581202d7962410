"""FaultInjectingExporter: signal dispatch, failure draws, outage windows and accounting."""

from __future__ import annotations

import io

import pytest
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from foundation_telemetry._otel._compat import (
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
)
from foundation_telemetry.chaos import (
    FaultInjectingExporter,
    FaultInjectingLogExporter,
    FaultInjectingMetricExporter,
    FaultInjectingSpanExporter,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _spans(count: int) -> list:
    tracer = TracerProvider().get_tracer("chaos")
    spans = []
    for index in range(count):
        span = tracer.start_span(f"s{index}")
        span.end()
        spans.append(span)
    return spans


class TestDispatch:
    def test_matches_the_inner_signal(self) -> None:
        """The constructor returns the wrapper for the inner exporter's signal."""
        spans = FaultInjectingExporter(InMemorySpanExporter())
        logs = FaultInjectingExporter(InMemoryLogRecordExporter())
        metrics = FaultInjectingExporter(ConsoleMetricExporter(out=io.StringIO()))
        assert isinstance(spans, FaultInjectingSpanExporter)
        assert isinstance(spans, SpanExporter)
        assert isinstance(logs, FaultInjectingLogExporter)
        assert isinstance(logs, LogRecordExporter)
        assert isinstance(metrics, FaultInjectingMetricExporter)
        assert isinstance(metrics, MetricExporter)
        assert all(isinstance(x, FaultInjectingExporter) for x in (spans, logs, metrics))

    def test_other_objects_are_a_type_error(self) -> None:
        """Wrapping something that is not an exporter says what is accepted."""
        with pytest.raises(TypeError, match="SpanExporter, MetricExporter or LogRecordExporter"):
            FaultInjectingExporter(object())  # type: ignore[call-overload]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"failure_rate": 1.5}, "failure_rate"),
            ({"latency": -1.0}, "latency"),
            ({"latency": (2.0, 1.0)}, "latency"),
            ({"outages": [(5.0, 5.0)]}, "outage"),
            ({"outages": [(-1.0, 2.0)]}, "outage"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], message: str) -> None:
        """Out-of-range rates, latencies and windows raise ValueError naming them."""
        with pytest.raises(ValueError, match=message):
            FaultInjectingExporter(InMemorySpanExporter(), **kwargs)  # type: ignore[arg-type]


class TestFailures:
    def test_no_faults_forwards_everything(self) -> None:
        """With defaults every batch reaches the inner exporter."""
        inner = InMemorySpanExporter()
        exporter = FaultInjectingExporter(inner)
        assert exporter.export(_spans(3)) is SpanExportResult.SUCCESS
        assert len(inner.get_finished_spans()) == 3
        assert (exporter.forwarded_items, exporter.failed_items) == (3, 0)

    def test_failure_rate_one_fails_without_forwarding(self) -> None:
        """failure_rate=1 fails every export and the inner exporter sees nothing."""
        inner = InMemorySpanExporter()
        exporter = FaultInjectingExporter(inner, failure_rate=1.0)
        assert exporter.export(_spans(2)) is SpanExportResult.FAILURE
        assert inner.get_finished_spans() == ()
        assert (exporter.failed_exports, exporter.failed_items) == (1, 2)

    def test_seed_reproduces_the_failure_pattern(self) -> None:
        """The same seed fails the same exports; accounting adds up to what was produced."""

        def pattern() -> list[SpanExportResult]:
            exporter = FaultInjectingExporter(InMemorySpanExporter(), failure_rate=0.5, seed=7)
            results = [exporter.export(_spans(1)) for _ in range(40)]
            assert exporter.forwarded_items + exporter.failed_items == 40
            return results

        first = pattern()
        assert first == pattern()
        assert SpanExportResult.FAILURE in first
        assert SpanExportResult.SUCCESS in first

    def test_outage_window_on_the_clock(self) -> None:
        """Exports inside an outage window fail; before and after they pass."""
        clock = FakeClock()
        inner = InMemorySpanExporter()
        exporter = FaultInjectingExporter(inner, outages=[(10.0, 20.0)], clock=clock)
        results = []
        for now in (0.0, 10.0, 19.9, 20.0):
            clock.now = now
            results.append(exporter.export(_spans(1)))
        assert results == [
            SpanExportResult.SUCCESS,
            SpanExportResult.FAILURE,
            SpanExportResult.FAILURE,
            SpanExportResult.SUCCESS,
        ]
        assert len(inner.get_finished_spans()) == 2

    def test_latency_range_is_drawn(self) -> None:
        """A latency range still forwards the batch (the wait itself is the feature)."""
        inner = InMemorySpanExporter()
        exporter = FaultInjectingExporter(inner, latency=(0.001, 0.002), seed=1)
        assert exporter.export(_spans(1)) is SpanExportResult.SUCCESS
        assert len(inner.get_finished_spans()) == 1


class TestSignals:
    def test_logs(self) -> None:
        """The log wrapper fails and forwards log batches."""
        inner = InMemoryLogRecordExporter()
        exporter = FaultInjectingExporter(inner, failure_rate=1.0)
        assert exporter.export([]) is LogRecordExportResult.FAILURE
        assert exporter.force_flush() is True
        exporter.shutdown()

    def test_metrics_count_data_points_and_keep_preferences(self) -> None:
        """The metric wrapper keeps the inner temporality and counts failed data points."""
        inner = ConsoleMetricExporter(
            out=io.StringIO(), preferred_temporality={Counter: AggregationTemporality.DELTA}
        )
        exporter = FaultInjectingExporter(inner, failure_rate=1.0)
        assert exporter._preferred_temporality[Counter] is AggregationTemporality.DELTA
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        provider = MeterProvider(metric_readers=[reader])
        counter = provider.get_meter("m").create_counter("c")
        counter.add(1, {"k": "a"})
        counter.add(1, {"k": "b"})
        provider.force_flush()
        assert (exporter.failed_exports, exporter.failed_items) == (1, 2)
        provider.shutdown()
