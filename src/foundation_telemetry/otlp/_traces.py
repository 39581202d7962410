"""Spans to the bytes of an ``ExportTraceServiceRequest``, as the stock ``encode_spans`` writes them.

Field for field the stock ``_encode_span``: ids, trace state, parent, name, kind, times,
attributes, events, links (without their trace state, as the stock encoder), status, dropped
counts and the ``SpanFlags`` that say whether the parent (or a link's context) is remote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from opentelemetry.trace import SpanKind

from .._otel._internals import span_attributes
from ._envelope import encode_envelope, group
from ._wire import Unsupported, encode_attributes, field_str, fixed64, frame, varint

__all__ = ["encode_spans"]

_UINT32_LIMIT: Final = 1 << 32
_KINDS: Final = {kind: b"\x30" + varint(kind.value + 1) for kind in SpanKind}
# fixed32 field 16 (tag 0x85 0x01): HAS_IS_REMOTE (0x100), plus IS_REMOTE (0x200).
_SPAN_FLAGS: Final = (b"\x85\x01\x00\x01\x00\x00", b"\x85\x01\x00\x03\x00\x00")
_LINK_FLAGS: Final = (b"\x35\x00\x01\x00\x00", b"\x35\x00\x03\x00\x00")


def _count(tag: bytes, value: int) -> bytes:
    if not value:
        return b""
    if not 0 < value < _UINT32_LIMIT:
        raise Unsupported(value)
    return tag + varint(value)


def _time(tag: bytes, value: int | None) -> bytes:
    return tag + fixed64(value) if value else b""


def _trace_state(trace_state: Any) -> bytes:
    if not trace_state:
        return b""
    text = ",".join([f"{key}={value}" for key, value in trace_state.items()])
    return field_str(b"\x1a", text)


def _event(event: Any) -> bytes:
    return (
        _time(b"\x09", event.timestamp)
        + field_str(b"\x12", event.name)
        + encode_attributes(b"\x1a", event.attributes)
        + _count(b"\x20", event.dropped_attributes)
    )


def _link(link: Any) -> bytes:
    context = link.context
    trace_id: int = context.trace_id
    span_id: int = context.span_id
    return (
        b"\x0a\x10"
        + trace_id.to_bytes(16, "big")
        + b"\x12\x08"
        + span_id.to_bytes(8, "big")
        + encode_attributes(b"\x22", link.attributes)
        + _count(b"\x28", link.dropped_attributes)
        + _LINK_FLAGS[bool(context.is_remote)]
    )


def _status(status: Any) -> bytes:
    if status is None:
        return b""
    code = status.status_code.value
    body = field_str(b"\x12", status.description) + (b"\x18" + varint(code) if code else b"")
    return frame(b"\x7a", body)


def _span(span: Any) -> bytes:
    context = span.get_span_context()
    parent = span.parent
    kind = _KINDS.get(span.kind)
    if kind is None:
        raise Unsupported(span.kind)
    parts = [
        b"\x0a\x10",
        context.trace_id.to_bytes(16, "big"),
        b"\x12\x08",
        context.span_id.to_bytes(8, "big"),
        _trace_state(context.trace_state),
    ]
    if parent:
        parts.append(b"\x22\x08" + parent.span_id.to_bytes(8, "big"))
    parts += (
        field_str(b"\x2a", span.name),
        kind,
        _time(b"\x39", span.start_time),
        _time(b"\x41", span.end_time),
        encode_attributes(b"\x4a", span_attributes(span)),
        _count(b"\x50", span.dropped_attributes),
    )
    events = span.events
    if events:
        parts += [frame(b"\x5a", _event(event)) for event in events]
    parts.append(_count(b"\x60", span.dropped_events))
    links = span.links
    if links:
        parts += [frame(b"\x6a", _link(link)) for link in links]
    parts += (
        _count(b"\x70", span.dropped_links),
        _status(span.status),
        _SPAN_FLAGS[bool(parent and parent.is_remote)],
    )
    return b"".join(parts)


def _scope_of(span: Any) -> Any:
    return span.instrumentation_scope or None


def encode_spans(spans: Sequence[Any]) -> bytes:
    """Encode *spans* as a serialised ``ExportTraceServiceRequest``; raises :class:`Unsupported`."""
    return encode_envelope(group(spans, _span, _scope_of), b"\x12")
