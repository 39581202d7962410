"""Record views: what a captured entry reads as (``SpanRecord``, ``EventRecord``, ``MetricPoint``).

Built when a query or a waiting expectation first reads an entry, never on the hot path, and
then kept in the entry in place of what was captured (:class:`CachedViews`): every later query,
expectation, collector and failure report reads the same objects instead of rebuilding them.
A span that ended is captured as the flat tuple of ``_internals.compact_span``, not as the SDK
span object; a span that is still running is read from the live SDK span and never cached.
A reader that wants only span events (``spans=False``: event waits, the name index) gets them
without the span's own record, which is built from the same fields when first needed. The
views are built with :func:`~._builders.fast_constructor`, not the dataclass ``__init__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from opentelemetry.trace import SpanKind, StatusCode

from .._otel._internals import compact_span, span_event_parts
from ._buffer import Entry
from ._builders import fast_constructor
from ._records import EventRecord, MetricPoint, RecordKind, SpanEventView, SpanRecord

__all__ = ["CachedViews", "SpanEventViews", "entry_records"]

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_KIND_NAMES: Final = {kind: kind.name for kind in SpanKind}
_STATUS_NAMES: Final = {code: code.name for code in StatusCode}
_SPAN_START: Final = RecordKind.SPAN_START
_SPAN_END: Final = RecordKind.SPAN_END
_SPAN_EVENT: Final = RecordKind.SPAN_EVENT
_SPAN_KINDS: Final = (_SPAN_START, _SPAN_END)


class CachedViews(tuple):  # type: ignore[type-arg]
    """The record views of one entry, stored in the entry once built (see the module docstring)."""

    __slots__ = ()


class SpanEventViews(tuple):  # type: ignore[type-arg]
    """``(fields, events)``: an ended span's span-event records, built before its ``SpanRecord``.

    A wait that looks only at events (``spans=False``) never pays for the span's own record;
    the first reader that needs it builds it from the compact *fields*, reusing *events*.
    """

    __slots__ = ()


_new_span: Final = fast_constructor(SpanRecord)
_new_event: Final = fast_constructor(EventRecord)
_new_span_event: Final = fast_constructor(SpanEventView)


def _span_record(
    fields: tuple[Any, ...],
    thread: str | None,
    *,
    started: bool,
    event_records: tuple[EventRecord, ...],
) -> SpanRecord:
    # *fields* is a compact_span() tuple. Kept lean: a woken waiter may build one before it
    # returns. *event_records* are its span events (_span_events), whose attribute
    # dictionaries the record's SpanEventViews share.
    (
        name,
        context,
        parent,
        attributes,
        raw_events,
        links,
        kind,
        status,
        start_time,
        end_time,
        resource,
        scope,
        dropped,
    ) = fields
    events: tuple[SpanEventView, ...] = ()
    if started:
        status_name, description = "UNSET", None
    else:
        status_name = _STATUS_NAMES[status.status_code]
        description = status.description
        if raw_events:
            events = tuple(
                _new_span_event(
                    name=record.name,
                    attributes=record.attributes,
                    timestamp_ns=record.timestamp_ns,
                    dropped_attributes_count=record.dropped_attributes_count,
                )
                for record in event_records
            )
    scope_name, scope_version, scope_attributes, scope_schema_url = _scope_fields(scope)
    return _new_span(
        name=name,
        attributes=dict(attributes) if attributes else {},
        trace_id=context.trace_id if context else 0,
        span_id=context.span_id if context else 0,
        parent_span_id=parent.span_id if parent is not None else None,
        start_time_ns=start_time or 0,
        end_time_ns=None if started else end_time,
        kind=_KIND_NAMES[kind],
        status=status_name,
        status_description=description,
        events=events,
        links=tuple((link.context.trace_id, link.context.span_id) for link in links)
        if links
        else (),
        link_attributes=tuple(dict(link.attributes or {}) for link in links) if links else (),
        # An empty TraceState (nearly every span) reads as "" without its 1-2 us to_header().
        trace_state=context.trace_state.to_header() if context and context.trace_state else "",
        flags=int(context.trace_flags) if context else 0,
        dropped_attributes_count=dropped[0],
        dropped_events_count=dropped[1],
        dropped_links_count=dropped[2],
        # Resource attributes are immutable: share them instead of copying per record.
        resource=resource.attributes if resource is not None else _EMPTY,
        schema_url=resource.schema_url if resource is not None else "",
        thread=thread,
        scope=scope_name,
        scope_version=scope_version,
        scope_attributes=scope_attributes,
        scope_schema_url=scope_schema_url,
    )


def _span_events(fields: tuple[Any, ...], thread: str | None) -> list[EventRecord]:
    """Return the ``SPAN_EVENT`` records of an ended span's compact fields."""
    trace_id, span_id, resource, scope, events = span_event_parts(fields)
    if resource is None:
        resource = _EMPTY
    records = []
    for name, attributes, timestamp, dropped in events:
        records.append(
            _new_event(
                name=name,
                attributes=attributes,
                timestamp_ns=timestamp,
                dropped_attributes_count=dropped,
                kind=_SPAN_EVENT,
                trace_id=trace_id,
                span_id=span_id,
                resource=resource,
                scope=scope,
                thread=thread,
            )
        )
    return records


def _scope_fields(scope: Any) -> tuple[str | None, str | None, Mapping[str, Any], str]:
    """Return ``(scope, scope_version, scope_attributes, scope_schema_url)`` of a record."""
    if scope is None:
        return None, None, {}, ""
    return (
        scope.name,
        scope.version or None,
        dict(scope.attributes) if scope.attributes else _EMPTY,
        scope.schema_url or "",
    )


def _log_record(item: Any, kind: RecordKind, thread: str | None) -> EventRecord:
    record = item.log_record
    event_name = getattr(record, "event_name", None)
    severity = record.severity_text or (
        record.severity_number.name if record.severity_number is not None else None
    )
    scope = item.instrumentation_scope
    resource = item.resource
    name = event_name or (str(record.body) if record.body is not None else "")
    scope_name, scope_version, scope_attributes, scope_schema_url = _scope_fields(scope)
    return _new_event(
        name=name,
        attributes=dict(record.attributes or {}),
        timestamp_ns=record.timestamp or record.observed_timestamp or 0,
        kind=kind,
        body=record.body,
        severity=severity,
        trace_id=record.trace_id or None,
        span_id=record.span_id or None,
        severity_number=record.severity_number.value if record.severity_number else None,
        observed_timestamp_ns=record.observed_timestamp or None,
        flags=int(record.trace_flags or 0),
        dropped_attributes_count=getattr(record, "dropped_attributes", 0),
        resource=resource.attributes if resource is not None else _EMPTY,
        schema_url=resource.schema_url if resource is not None else "",
        thread=thread,
        scope=scope_name,
        scope_version=scope_version,
        scope_attributes=scope_attributes,
        scope_schema_url=scope_schema_url,
    )


def _metric_point(item: Any, thread: str | None) -> MetricPoint:
    info, value, time_unix_nano, attributes = item
    return MetricPoint(
        name=info.name,
        attributes=attributes,
        value=value,
        timestamp_ns=time_unix_nano,
        instrument_kind=info.kind,
        unit=info.unit,
        thread=thread,
    )


def entry_records(
    entry: Entry, *, spans: bool = True
) -> list[SpanRecord | EventRecord | MetricPoint]:
    """Return the record views one entry stands for (built once, then cached in the entry).

    An ended span stands for its ``SpanRecord`` followed by one ``EventRecord`` (kind
    ``SPAN_EVENT``) per span event: span events become visible when their span ends. With
    ``spans=False`` span entries give only their span events, and an ended span's own record
    is not built for them (see :class:`SpanEventViews`).
    """
    kind = entry[0]
    item = entry[1]
    if type(item) is CachedViews:
        if spans or kind not in _SPAN_KINDS:
            return list(item)
        return list(item[1:])
    if spans or kind not in _SPAN_KINDS:
        return list(_build(entry, kind, item))
    # Only the span events: a wait for events (a woken test runs this before it returns).
    if kind is _SPAN_START:
        return []  # a span start has no span events
    if type(item) is SpanEventViews:
        return list(item[1])
    if type(item) is not tuple:  # not the compact fields of an ended span (a sink's record)
        return list(_build(entry, kind, item)[1:])
    events = _span_events(item, entry[3])
    if type(entry) is list:
        entry[1] = SpanEventViews((item, tuple(events)))
    return events  # type: ignore[return-value]


def _build(entry: Entry, kind: RecordKind, item: Any) -> CachedViews:
    thread = entry[3]
    cache = True
    if kind is _SPAN_START or kind is _SPAN_END:
        if isinstance(item, SpanRecord):
            views = CachedViews([item, *_events_of_record(item)] if item.ended else [item])
        elif type(item) is SpanEventViews:
            fields, events = item
            record = _span_record(fields, thread, started=False, event_records=events)
            views = CachedViews([record, *events])
        else:
            if type(item) is not tuple:  # an SDK span; still running if it has no end time
                item = compact_span(item)
                cache = item[9] is not None
            started = kind is _SPAN_START
            events = () if started or not item[4] else tuple(_span_events(item, thread))
            record = _span_record(item, thread, started=started, event_records=events)
            views = CachedViews([record, *events])
    elif isinstance(item, EventRecord | MetricPoint):
        views = CachedViews((item,))
    elif kind is RecordKind.METRIC:
        views = CachedViews((_metric_point(item, thread),))
    else:
        views = CachedViews((_log_record(item, kind, thread),))
    if cache and type(entry) is list:
        entry[1] = views
    return views


def _events_of_record(span: SpanRecord) -> list[EventRecord]:
    """Return the ``SPAN_EVENT`` records of a ``SpanRecord`` someone appended (the sink)."""
    return [
        _new_event(
            name=event.name,
            attributes=event.attributes,
            timestamp_ns=event.timestamp_ns,
            dropped_attributes_count=event.dropped_attributes_count,
            kind=_SPAN_EVENT,
            trace_id=span.trace_id,
            span_id=span.span_id,
            resource=span.resource,
            scope=span.scope,
            thread=span.thread,
        )
        for event in span.events
    ]
