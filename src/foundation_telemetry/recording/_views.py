"""Record views: what a captured entry reads as (``SpanRecord``, ``EventRecord``, ``MetricPoint``).

Built when a query or a waiting expectation first reads an entry, never on the hot path, and
then kept in the entry in place of what was captured (:class:`CachedViews`): every later query,
expectation, collector and failure report reads the same objects instead of rebuilding them.
A span that ended is captured as the flat tuple of ``_internals.compact_span``, not as the SDK
span object; a span that is still running is read from the live SDK span and never cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from opentelemetry.trace import SpanKind, StatusCode

from .._otel._internals import compact_span, plain_attributes
from ._buffer import Entry
from ._records import EventRecord, MetricPoint, RecordKind, SpanEventView, SpanRecord

__all__ = ["CachedViews", "entry_records"]

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_KIND_NAMES: Final = {kind: kind.name for kind in SpanKind}
_STATUS_NAMES: Final = {code: code.name for code in StatusCode}
_SPAN_KINDS: Final = (RecordKind.SPAN_START, RecordKind.SPAN_END)


class CachedViews(tuple):  # type: ignore[type-arg]
    """The record views of one entry, stored in the entry once built (see the module docstring)."""

    __slots__ = ()


def _span_record(fields: tuple[Any, ...], thread: str | None, *, started: bool) -> SpanRecord:
    # *fields* is a compact_span() tuple. Kept lean: a woken waiter builds one before it returns.
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
                SpanEventView(e.name, _plain_copy(e.attributes), e.timestamp) for e in raw_events
            )
    return SpanRecord(
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
        **_scope_fields(scope),
    )


def _scope_fields(scope: Any) -> dict[str, Any]:
    if scope is None:
        return {"scope": None}
    return {
        "scope": scope.name,
        "scope_version": scope.version or None,
        "scope_attributes": dict(scope.attributes) if scope.attributes else _EMPTY,
        "scope_schema_url": scope.schema_url or "",
    }


def _plain_copy(attributes: Any) -> dict[str, Any]:
    return dict(plain_attributes(attributes)) if attributes else {}


def _log_record(item: Any, kind: RecordKind, thread: str | None) -> EventRecord:
    record = item.log_record
    event_name = getattr(record, "event_name", None)
    severity = record.severity_text or (
        record.severity_number.name if record.severity_number is not None else None
    )
    scope = item.instrumentation_scope
    resource = item.resource
    name = event_name or (str(record.body) if record.body is not None else "")
    return EventRecord(
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
        **_scope_fields(scope),
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
    ``spans=False`` span entries give only their span events.
    """
    kind = entry[0]
    item = entry[1]
    if type(item) is not CachedViews:
        item = _build(entry, kind, item)
    if spans or kind not in _SPAN_KINDS:
        return list(item)
    return list(item[1:])


def _build(entry: Entry, kind: RecordKind, item: Any) -> CachedViews:
    thread = entry[3]
    cache = True
    if kind is RecordKind.SPAN_START or kind is RecordKind.SPAN_END:
        if isinstance(item, SpanRecord):
            views = CachedViews([item, *_span_events(item)] if item.ended else [item])
        else:
            if type(item) is not tuple:  # an SDK span; still running if it has no end time
                item = compact_span(item)
                cache = item[9] is not None
            record = _span_record(item, thread, started=kind is RecordKind.SPAN_START)
            views = CachedViews([record, *_span_events(record)])
    elif isinstance(item, EventRecord | MetricPoint):
        views = CachedViews((item,))
    elif kind is RecordKind.METRIC:
        views = CachedViews((_metric_point(item, thread),))
    else:
        views = CachedViews((_log_record(item, kind, thread),))
    if cache and type(entry) is list:
        entry[1] = views
    return views


def _span_events(span: SpanRecord) -> list[EventRecord]:
    return [
        EventRecord(
            name=event.name,
            attributes=event.attributes,
            timestamp_ns=event.timestamp_ns,
            kind=RecordKind.SPAN_EVENT,
            trace_id=span.trace_id,
            span_id=span.span_id,
            resource=span.resource,
            scope=span.scope,
            thread=span.thread,
        )
        for event in span.events
    ]
