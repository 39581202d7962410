"""Record views: what a captured entry reads as (``SpanRecord``, ``EventRecord``, ``MetricPoint``).

Built when a query or a waiting expectation reads an entry, never on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from ._buffer import Entry
from ._records import EventRecord, MetricPoint, RecordKind, SpanEventView, SpanRecord

__all__ = ["entry_records"]

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_KIND_NAMES: Final = {kind: kind.name for kind in SpanKind}
_STATUS_NAMES: Final = {code: code.name for code in StatusCode}


def _span_record(span: ReadableSpan, thread: str | None, *, started: bool) -> SpanRecord:
    # Built when a query or a waiting expectation reads the entry, not on the hot path; kept
    # lean because a woken waiter builds one before it can return.
    context = span.context
    parent = span.parent
    attributes = span.attributes
    scope = span.instrumentation_scope
    resource = span.resource
    events: tuple[SpanEventView, ...] = ()
    if started:
        status, description = "UNSET", None
    else:
        status = _STATUS_NAMES[span.status.status_code]
        description = span.status.description
        raw_events = span.events
        events = (
            tuple(
                SpanEventView(e.name, dict(e.attributes) if e.attributes else {}, e.timestamp)
                for e in raw_events
            )
            if raw_events
            else ()
        )
    links = span.links
    return SpanRecord(
        name=span.name,
        attributes=dict(attributes) if attributes else {},
        trace_id=context.trace_id if context else 0,
        span_id=context.span_id if context else 0,
        parent_span_id=parent.span_id if parent is not None else None,
        start_time_ns=span.start_time or 0,
        end_time_ns=None if started else span.end_time,
        kind=_KIND_NAMES[span.kind],
        status=status,
        status_description=description,
        events=events,
        links=tuple((link.context.trace_id, link.context.span_id) for link in links)
        if links
        else (),
        link_attributes=tuple(dict(link.attributes or {}) for link in links) if links else (),
        trace_state=context.trace_state.to_header() if context else "",
        flags=int(context.trace_flags) if context else 0,
        dropped_attributes_count=0 if started else span.dropped_attributes,
        dropped_events_count=0 if started else span.dropped_events,
        dropped_links_count=span.dropped_links,
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
    """Return the record views one entry stands for.

    An ended span stands for its ``SpanRecord`` followed by one ``EventRecord`` (kind
    ``SPAN_EVENT``) per span event: span events become visible when their span ends. With
    ``spans=False`` span entries give only their span events (cheaper for event waits).
    """
    kind, item, _scope, thread = entry
    if not spans and kind in (RecordKind.SPAN_START, RecordKind.SPAN_END):
        if kind is RecordKind.SPAN_START:
            return []
        if isinstance(item, SpanRecord):
            return list(_span_events(item))
        return list(_raw_span_events(item, thread))
    if isinstance(item, SpanRecord | EventRecord | MetricPoint):
        if isinstance(item, SpanRecord) and kind is RecordKind.SPAN_END:
            return [item, *_span_events(item)]
        return [item]
    if kind is RecordKind.SPAN_END:
        record = _span_record(item, thread, started=False)
        return [record, *_span_events(record)]
    if kind is RecordKind.SPAN_START:
        return [_span_record(item, thread, started=True)]
    if kind is RecordKind.METRIC:
        return [_metric_point(item, thread)]
    return [_log_record(item, kind, thread)]


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


def _raw_span_events(span: ReadableSpan, thread: str | None) -> list[EventRecord]:
    events = span.events
    if not events:
        return []
    context = span.context
    scope = span.instrumentation_scope
    resource = span.resource
    trace_id = context.trace_id if context else 0
    span_id = context.span_id if context else 0
    return [
        EventRecord(
            name=event.name,
            attributes=dict(event.attributes) if event.attributes else {},
            timestamp_ns=event.timestamp,
            kind=RecordKind.SPAN_EVENT,
            trace_id=trace_id,
            span_id=span_id,
            resource=resource.attributes if resource is not None else _EMPTY,
            scope=scope.name if scope is not None else None,
            thread=thread,
        )
        for event in events
    ]
