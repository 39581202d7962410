"""The plain record objects that captured and received telemetry are read as.

The in-process ``Recorder`` and the embedded OTLP ``Sink`` both hand out these objects, so one
query and expectation API serves telemetry captured in the SDK pipeline and telemetry that really
crossed the wire. They are read-only views: cheap to build, readable in a failure message, and
free of SDK internals. Fields added after 0.1.0 have defaults, so records built by older code
(and stores written by it) still read; together they carry everything the OTLP data model does.
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

    # Members are singletons compared by identity: hash them by identity too, in C, instead of
    # Enum's hash of the member name in Python (every append and every look tests a kind).
    __hash__ = object.__hash__

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
    dropped_attributes_count: int = 0


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
    #: One mapping per entry of ``links``, in the same order.
    link_attributes: Sequence[Mapping[str, Any]] = ()
    trace_state: str = ""
    flags: int = 0
    dropped_attributes_count: int = 0
    dropped_events_count: int = 0
    dropped_links_count: int = 0
    scope_version: str | None = None
    scope_attributes: Mapping[str, Any] = field(default_factory=dict)
    schema_url: str = ""
    scope_schema_url: str = ""

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
    #: The OTLP severity number (1-24), kept next to ``severity`` (the text, or the number's name).
    severity_number: int | None = None
    observed_timestamp_ns: int | None = None
    flags: int = 0
    dropped_attributes_count: int = 0
    scope_version: str | None = None
    scope_attributes: Mapping[str, Any] = field(default_factory=dict)
    schema_url: str = ""
    scope_schema_url: str = ""


@final
@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One metric measurement (in-process) or one exported data point (sink).

    ``value`` is the measurement (or the point's sum for a histogram point); ``count`` is 1 for a
    single measurement and the point count for an exported histogram. An exported integer point
    keeps its ``int`` value (``value_type="int"``). Histogram points carry ``bucket_counts``,
    ``explicit_bounds``, ``min`` and ``max``; exponential-histogram points
    (``instrument_kind="exponential_histogram"``) carry ``scale``, ``zero_count`` and the
    positive and negative buckets (an offset and counts each); summary points ``quantiles``.
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
    #: ``"int"`` or ``"double"`` for an exported sum or gauge point, else ``None``.
    value_type: str | None = None
    description: str = ""
    start_timestamp_ns: int | None = None
    flags: int = 0
    bucket_counts: Sequence[int] = ()
    explicit_bounds: Sequence[float] = ()
    min: float | None = None
    max: float | None = None
    scale: int | None = None
    zero_count: int | None = None
    zero_threshold: float | None = None
    positive_offset: int | None = None
    positive_bucket_counts: Sequence[int] = ()
    negative_offset: int | None = None
    negative_bucket_counts: Sequence[int] = ()
    #: Summary points: ``(quantile, value)`` pairs.
    quantiles: Sequence[tuple[float, float]] = ()
    scope_version: str | None = None
    scope_attributes: Mapping[str, Any] = field(default_factory=dict)
    schema_url: str = ""
    scope_schema_url: str = ""
