"""The plain record objects that captured and received telemetry are read as.

The in-process ``Recorder`` and the embedded OTLP ``Sink`` both hand out these objects, so one
query and expectation API serves telemetry captured in the SDK pipeline and telemetry that really
crossed the wire. They are read-only views: cheap to build, readable in a failure message, and
free of SDK internals.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, final

__all__ = [
    "EventRecord",
    "MetricPoint",
    "RecordKind",
    "SpanEventView",
    "SpanRecord",
]


class RecordKind(enum.Enum):
    """What a captured record is."""

    SPAN_START = "span_start"
    SPAN_END = "span_end"
    SPAN_EVENT = "span_event"
    LOG = "log"
    EVENT = "event"
    METRIC = "metric"


@final
@dataclass(frozen=True, slots=True)
class SpanEventView:
    """An event recorded on a span (``span.add_event``)."""

    name: str
    attributes: Mapping[str, Any]
    timestamp_ns: int


@final
@dataclass(frozen=True, slots=True)
class SpanRecord:
    """A span as seen at its start (``ended`` is False) or at its end."""

    name: str
    attributes: Mapping[str, Any]
    trace_id: int
    span_id: int
    parent_span_id: int | None
    start_time_ns: int
    end_time_ns: int | None
    kind: str = "INTERNAL"
    status: str = "UNSET"
    status_description: str | None = None
    events: Sequence[SpanEventView] = ()
    links: Sequence[tuple[int, int]] = ()
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope: str | None = None
    thread: str | None = None
    task: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the span had ended when this record was taken."""
        return self.end_time_ns is not None

    @property
    def duration_ns(self) -> int | None:
        """The span's duration, or ``None`` while it is running."""
        return None if self.end_time_ns is None else self.end_time_ns - self.start_time_ns


@final
@dataclass(frozen=True, slots=True)
class EventRecord:
    """A log record; an *event* when ``event_name`` is set (or a span event, see ``kind``)."""

    name: str
    attributes: Mapping[str, Any]
    timestamp_ns: int
    kind: RecordKind = RecordKind.EVENT
    body: Any = None
    severity: str | None = None
    trace_id: int | None = None
    span_id: int | None = None
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope: str | None = None
    thread: str | None = None
    task: str | None = None


@final
@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One metric measurement (in-process) or one exported data point (sink).

    ``value`` is the measurement (or the point's sum for a histogram point); ``count`` is 1 for a
    single measurement and the point count for an exported histogram.
    """

    name: str
    attributes: Mapping[str, Any]
    value: float
    timestamp_ns: int
    instrument_kind: str = "counter"
    unit: str = ""
    count: int = 1
    temporality: str | None = None
    resource: Mapping[str, Any] = field(default_factory=dict)
    scope: str | None = None
    thread: str | None = None
