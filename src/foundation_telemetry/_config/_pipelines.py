"""Assemble each signal's pipeline from settings and user components, guarded end to end.

Every processor, exporter and reader ``configure()`` builds or is given goes behind the
matching defensive wrapper, and every exporter sits behind the processor or reader it needs
(console exporters behind a simple processor so output appears at once, the rest behind our own
batch processors, ``defensive._batch``, which count every item they do not export, or a
periodic reader). Spans and logs are assembled by one function from a small
per-signal kit, so the two pipelines cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from .._otel._compat import LogRecordProcessor, SimpleLogRecordProcessor
from ..correlation import CorrelationSpanProcessor
from ..defensive import (
    DefensiveLogExporter,
    DefensiveLogRecordProcessor,
    DefensiveMetricExporter,
    DefensiveMetricReader,
    DefensiveSpanExporter,
    DefensiveSpanProcessor,
)
from ..defensive._adopt import guard_processor, guard_reader
from ..defensive._batch import BatchLogRecordProcessor, BatchSpanProcessor
from ..events._correlation import StampsCorrelation
from ._exporters import build_exporters
from ._settings import BatchSettings, Settings, SignalSettings

if TYPE_CHECKING:
    from ..recording import Recorder

__all__ = ["log_processors", "metric_readers", "span_processors"]


@dataclass(frozen=True, slots=True)
class _Kit:
    """The four constructors that differ between the span and the log pipeline."""

    guard: Callable[..., Any]
    guard_exporter: Callable[..., Any]
    simple: Callable[[Any], Any]
    batch: Callable[..., Any]


_SPANS = _Kit(
    DefensiveSpanProcessor, DefensiveSpanExporter, SimpleSpanProcessor, BatchSpanProcessor
)
_LOGS = _Kit(
    DefensiveLogRecordProcessor,
    DefensiveLogExporter,
    SimpleLogRecordProcessor,
    BatchLogRecordProcessor,
)


class _CorrelatingBatchSpanProcessor(StampsCorrelation, BatchSpanProcessor):
    """Our batch span processor that also stamps ``correlation_id`` when a span starts."""


def _batch(kit: _Kit, batch: BatchSettings, exporter: Any, make: Callable[..., Any]) -> Any:
    return make(
        exporter,
        schedule_delay_millis=batch.schedule_delay_millis,
        max_export_batch_size=batch.max_export_batch_size,
        max_queue_size=batch.max_queue_size,
        export_timeout_millis=batch.export_timeout_millis,
    )


def _assemble(
    kit: _Kit,
    settings: SignalSettings,
    processors: Iterable[Any],
    exporters: Iterable[Any],
    first_batch: Callable[..., Any] | None = None,
) -> list[Any]:
    """Guard *processors*, then one processor per exporter; *first_batch* builds the first batch."""
    timeout = settings.export_timeout
    built = [guard_processor(processor, timeout) for processor in processors]
    batches = iter((first_batch,) if first_batch is not None else ())

    def batched(guarded: Any) -> Any:
        processor = _batch(kit, settings.batch, guarded, next(batches, kit.batch))
        return kit.guard(processor, name=kit.batch.__name__)  # counted as a batch processor

    for name, exporter in build_exporters(settings):
        guarded = kit.guard_exporter(exporter, export_timeout=timeout)
        built.append(kit.guard(kit.simple(guarded)) if name == "console" else batched(guarded))
    for exporter in exporters:
        built.append(batched(kit.guard_exporter(exporter, export_timeout=timeout)))
    return built


def span_processors(
    settings: Settings,
    recorder: Recorder | None,
    processors: Iterable[SpanProcessor],
    exporters: Iterable[Any],
) -> list[SpanProcessor]:
    """Build the guarded span processors; the correlation id is stamped before any other sees it.

    With processors ahead of the exporters' own (the recorder, the user's), a
    ``CorrelationSpanProcessor`` goes first. Without, the first batch processor stamps the id
    itself: the pipeline most production code runs has one processor fewer per span.
    """
    before: list[SpanProcessor] = []
    if recorder is not None and "memory" in settings.traces.exporters:
        before.append(recorder.span_processor)
    before.extend(processors)
    if before:
        return _assemble(_SPANS, settings.traces, (CorrelationSpanProcessor(), *before), exporters)
    built = _assemble(_SPANS, settings.traces, (), exporters, _CorrelatingBatchSpanProcessor)
    if not any(isinstance(processor.wrapped, StampsCorrelation) for processor in built):
        built.insert(0, guard_processor(CorrelationSpanProcessor(), settings.traces.export_timeout))
    return built


def log_processors(
    settings: Settings,
    recorder: Recorder | None,
    processors: Iterable[LogRecordProcessor],
    exporters: Iterable[Any],
) -> list[LogRecordProcessor]:
    """Build the guarded log record processors."""
    first: list[LogRecordProcessor] = []
    if recorder is not None and "memory" in settings.logs.exporters:
        first.append(recorder.log_processor)
    return _assemble(_LOGS, settings.logs, (*first, *processors), exporters)


def metric_readers(
    settings: Settings, readers: Iterable[MetricReader], exporters: Iterable[Any]
) -> list[MetricReader]:
    """Build the guarded metric readers; every exporter behind its own periodic reader."""
    timeout = settings.metrics.export_timeout
    built: list[MetricReader] = [guard_reader(reader, timeout) for reader in readers]
    every_exporter = [exporter for _, exporter in build_exporters(settings.metrics)]
    every_exporter.extend(exporters)
    for exporter in every_exporter:
        guarded = DefensiveMetricExporter(exporter, export_timeout=timeout)
        periodic = PeriodicExportingMetricReader(guarded)
        built.append(DefensiveMetricReader(periodic))
    if "memory" in settings.metrics.exporters and not built:
        # The SDK hands measurements to the Recorder's capture hook only while some reader
        # exists; this one is never collected, so it costs one aggregation per series.
        built.append(DefensiveMetricReader(InMemoryMetricReader()))
    return built
