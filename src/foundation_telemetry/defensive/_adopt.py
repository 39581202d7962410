"""Put the defensive layer around components someone else built, exporters inside them included.

``configure()`` passes the processors and readers it is given through :func:`guard_processor`
and :func:`guard_reader`; ``harden()`` does the same for what user-built providers already hold.
Each finds the exporter a stock processor or periodic reader holds and replaces it with the
matching defensive exporter (with the export time bound), then wraps the component itself.
Anything already behind a wrapper is left as it is, so applying this twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from .._otel import _internals
from .._otel._compat import LogRecordExporter, LogRecordProcessor
from ._batch import Batching
from ._guards import GuardedExporter
from ._logs import DefensiveLogExporter, DefensiveLogRecordProcessor
from ._metrics import DefensiveMetricExporter, DefensiveMetricReader
from ._spans import DefensiveSpanExporter, DefensiveSpanProcessor

__all__ = ["guard_exporter", "guard_inner_exporter", "guard_processor", "guard_reader"]

_GUARDED_COMPONENTS = (DefensiveSpanProcessor, DefensiveLogRecordProcessor, DefensiveMetricReader)


def guard_exporter(exporter: Any, export_timeout: float | None) -> Any:
    """Return *exporter* behind the defensive exporter of its signal (as is if already guarded)."""
    if isinstance(exporter, GuardedExporter):
        return exporter
    if isinstance(exporter, SpanExporter):
        return DefensiveSpanExporter(exporter, export_timeout=export_timeout)
    if isinstance(exporter, LogRecordExporter):
        return DefensiveLogExporter(exporter, export_timeout=export_timeout)
    if isinstance(exporter, MetricExporter):
        return DefensiveMetricExporter(exporter, export_timeout=export_timeout)
    return exporter


def guard_inner_exporter(component: Any, export_timeout: float | None) -> None:
    """Put the exporter a stock processor or periodic reader holds behind the defensive layer."""
    if isinstance(component, Batching):
        return  # configure()'s own batch processors are built around guarded exporters
    exporter = _internals.exporter_of(component)
    if exporter is None or isinstance(exporter, GuardedExporter):
        return
    _internals.replace_exporter(component, guard_exporter(exporter, export_timeout))


def guard_processor(processor: Any, export_timeout: float | None) -> Any:
    """Return a span or log record processor behind its wrapper, its exporter guarded too."""
    if isinstance(processor, _GUARDED_COMPONENTS):
        guard_inner_exporter(processor.wrapped, export_timeout)
        return processor
    guard_inner_exporter(processor, export_timeout)
    if isinstance(processor, SpanProcessor):
        return DefensiveSpanProcessor(processor)
    if isinstance(processor, LogRecordProcessor):
        return DefensiveLogRecordProcessor(processor)
    return processor


def guard_reader(reader: MetricReader, export_timeout: float | None) -> MetricReader:
    """Return a metric reader behind :class:`DefensiveMetricReader`, its exporter guarded too."""
    if isinstance(reader, DefensiveMetricReader):
        guard_inner_exporter(reader.wrapped, export_timeout)
        return reader
    guard_inner_exporter(reader, export_timeout)
    return DefensiveMetricReader(reader)
