"""Capture telemetry in the emitting thread, keep it in a bounded store, and wait on it.

The :class:`Recorder` hooks into the SDK pipeline before any batching (span and log processors,
a metric measurement tap) and keeps every record in a :class:`RecordBuffer`, the ring the
embedded OTLP sink uses too; queries and waits hand back the record types below. The query,
expectation and wait API runs on that store without pytest; its vocabulary (expectations, waits,
matchers, the assertion error) is public from :mod:`foundation_telemetry.testing`.
"""

from __future__ import annotations

from .._exports import fixup_module_metadata as _fixup_module_metadata
from ._buffer import DEFAULT_CAPACITY as DEFAULT_CAPACITY
from ._buffer import RecordBuffer as RecordBuffer
from ._metric_tap import metric_capture_options as metric_capture_options
from ._recorder import Recorder as Recorder
from ._records import EventRecord as EventRecord
from ._records import MetricPoint as MetricPoint
from ._records import RecordKind as RecordKind
from ._records import SpanEventView as SpanEventView
from ._records import SpanRecord as SpanRecord

__all__ = [
    "DEFAULT_CAPACITY",
    "EventRecord",
    "MetricPoint",
    "RecordBuffer",
    "RecordKind",
    "Recorder",
    "SpanEventView",
    "SpanRecord",
    "metric_capture_options",
]

_fixup_module_metadata(__name__, globals())
