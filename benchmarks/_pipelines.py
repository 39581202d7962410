"""The span pipelines the benchmarks compare: the stock SDK ones and ours.

The stock baseline for recording is ``SimpleSpanProcessor`` + ``InMemorySpanExporter``, which is
what OpenTelemetry's own test utilities use. Ours is the Recorder's capture processor behind the
defensive wrapper, exactly as ``configure(exporter="memory")`` assembles it. Every builder returns
the processor to install plus a ``clear`` callable that empties what was retained (called between
rounds; the span-record benchmarks time it with the round, since the stock exporter frees its spans
there while the Recorder frees the SDK span as it ends).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from benchmarks._harness import require

__all__ = [
    "ATTRS",
    "NoopExporter",
    "NoopLogProcessor",
    "NoopProcessor",
    "Pipeline",
    "distinct_rich_spans",
    "finished_span",
    "one_log_record",
    "ours_recording",
    "ours_wrapped_stock",
    "plain_span",
    "rich_span",
    "stock_memory",
    "tracer_for",
]

ATTRS: dict[str, str | int] = {
    "http.request.method": "GET",
    "http.route": "/orders/{id}",
    "http.response.status_code": 200,
    "server.address": "orders.internal",
    "order.count": 3,
}


@dataclass
class Pipeline:
    """A span processor to install and the means to empty and read what it retained."""

    processor: SpanProcessor
    clear: Callable[[], None]
    retained: Callable[[], int]
    owner: Any = None


class NoopProcessor(SpanProcessor):
    """A processor that does nothing: the floor for per-call wrapper overhead."""

    def on_start(self, span: Span, parent_context: object = None) -> None:
        """Do nothing."""

    def on_end(self, span: ReadableSpan) -> None:
        """Do nothing."""


class NoopExporter(SpanExporter):
    """An exporter that accepts everything and does nothing."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Succeed at once."""
        return SpanExportResult.SUCCESS


class NoopLogProcessor(LogRecordProcessor):
    """A log-record processor that does nothing."""

    def on_emit(self, log_record: Any) -> None:
        """Do nothing."""

    def emit(self, log_record: Any) -> None:
        """Do nothing (SDK releases that call ``emit``)."""

    def shutdown(self) -> None:
        """Do nothing."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing buffered."""
        return True


def one_log_record() -> Any:
    """A real SDK log record (as processors receive it), emitted once through a provider."""

    class _Keep(NoopLogProcessor):
        def __init__(self) -> None:
            self.kept: list[Any] = []

        def on_emit(self, log_record: Any) -> None:
            self.kept.append(log_record)

    keep = _Keep()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(keep)
    provider.get_logger("benchmarks").emit(event_name="probe", attributes={"k": 1})
    return keep.kept[0]


def tracer_for(*processors: SpanProcessor) -> Tracer:
    """A tracer from a fresh provider with *processors* (no atexit hook)."""
    provider = TracerProvider(shutdown_on_exit=False)
    for processor in processors:
        provider.add_span_processor(processor)
    return provider.get_tracer("benchmarks")


def finished_span() -> Span:
    """An ended SDK span to feed processor hooks directly."""
    span = cast("Span", tracer_for().start_span("probe"))
    span.end()
    return span


def plain_span(tracer: Tracer) -> Callable[[], None]:
    """An op that starts and ends one span with no attributes."""

    def op() -> None:
        with tracer.start_as_current_span("plain"):
            pass

    return op


def rich_span(tracer: Tracer) -> Callable[[], None]:
    """An op that starts and ends one span with 5 attributes and 1 event."""

    def op() -> None:
        with tracer.start_as_current_span("rich", attributes=ATTRS) as span:
            span.add_event("cache.miss", {"cache.key": "order:42"})

    return op


def distinct_rich_spans(tracer: Tracer, spans: int) -> None:
    """Record *spans* spans with 5 attributes (one different per span) and 1 event each."""
    for i in range(spans):
        with tracer.start_as_current_span(
            "GET /orders/{id}",
            attributes={
                "http.request.method": "GET",
                "http.route": "/orders/{id}",
                "http.response.status_code": 200,
                "server.address": "orders.internal",
                "order.id": i,
            },
        ) as span:
            span.add_event("cache.miss", {"cache.name": "orders"})


def stock_memory() -> Pipeline:
    """Stock: ``SimpleSpanProcessor(InMemorySpanExporter())``."""
    exporter = InMemorySpanExporter()
    return Pipeline(
        SimpleSpanProcessor(exporter),
        exporter.clear,
        lambda: len(exporter.get_finished_spans()),
        exporter,
    )


def ours_wrapped_stock() -> Pipeline:
    """Stock Simple + InMemory with every component behind our defensive wrappers."""
    defensive = require(
        "foundation_telemetry.defensive", "DefensiveSpanProcessor", "DefensiveSpanExporter"
    )
    exporter = InMemorySpanExporter()
    processor = defensive.DefensiveSpanProcessor(
        SimpleSpanProcessor(defensive.DefensiveSpanExporter(exporter))
    )
    return Pipeline(processor, exporter.clear, lambda: len(exporter.get_finished_spans()), exporter)


def ours_recording(capacity: int = 100_000, *, api: bool = False) -> Pipeline:
    """Ours: the Recorder's capture processor behind ``DefensiveSpanProcessor``.

    *capacity* counts spans (each span takes a start and an end entry in the buffer). With
    *api*, the recorder is the one from ``foundation_telemetry.testing`` (collectors, waits).
    """
    if api:
        recorder_cls = require("foundation_telemetry.testing", "Recorder")
    else:
        recorder_cls = require("foundation_telemetry.recording", "Recorder")
    defensive_cls = require("foundation_telemetry.defensive", "DefensiveSpanProcessor")
    kinds = require("foundation_telemetry.recording._records", "RecordKind")
    recorder = recorder_cls(capacity=2 * capacity)
    processor = defensive_cls(recorder.span_processor)

    def retained() -> int:
        _, entries, _ = recorder.buffer.read(0)
        return sum(1 for entry in entries if entry[0] is kinds.SPAN_END)

    return Pipeline(processor, recorder.buffer.clear, retained, recorder)
