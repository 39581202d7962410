"""Spans to the bytes of an ``ExportTraceServiceRequest``, as the stock ``encode_spans`` writes them.

Field for field the stock ``_encode_span``: ids, trace state, parent, name, kind, times,
attributes, events, links (without their trace state, as the stock encoder), status, dropped
counts and the ``SpanFlags`` that say whether the parent (or a link's context) is remote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.span import DEFAULT_TRACE_STATE

from .._otel._internals import span_fields
from ._envelope import encode_envelope, group
from ._wire import (
    Unsupported,
    encode_attributes,
    encode_plain_attributes,
    field_str,
    frame,
    name_field,
    varint,
)

__all__ = ["encode_spans"]

_UINT32_LIMIT: Final = 1 << 32
_KINDS: Final = {kind: b"\x30" + varint(kind.value + 1) for kind in SpanKind}
_INTERNAL: Final = SpanKind.INTERNAL
_UNSET: Final = StatusCode.UNSET
_EMPTY_TRACE_STATE: Final = DEFAULT_TRACE_STATE
# fixed32 field 16 (tag 0x85 0x01): HAS_IS_REMOTE (0x100), plus IS_REMOTE (0x200).
_SPAN_FLAGS: Final = (b"\x85\x01\x00\x01\x00\x00", b"\x85\x01\x00\x03\x00\x00")
_LINK_FLAGS: Final = (b"\x35\x00\x01\x00\x00", b"\x35\x00\x03\x00\x00")


def _count(tag: bytes, value: int) -> bytes:
    if not 0 < value < _UINT32_LIMIT:
        raise Unsupported(value)
    return tag + varint(value)


def _trace_state(trace_state: Any) -> bytes:
    text = ",".join([f"{key}={value}" for key, value in trace_state.items()])
    return field_str(b"\x1a", text)


def _event(event: Any) -> bytes:
    timestamp = event.timestamp
    dropped = event.dropped_attributes
    return frame(
        b"\x5a",
        (b"\x09" + timestamp.to_bytes(8, "little") if timestamp else b"")
        + name_field(b"\x12", event.name)
        + encode_attributes(b"\x1a", event.attributes)
        + (_count(b"\x20", dropped) if dropped else b""),
    )


def _link(link: Any) -> bytes:
    context = link.context
    trace_id: int = context.trace_id
    span_id: int = context.span_id
    dropped = link.dropped_attributes
    return frame(
        b"\x6a",
        b"\x0a\x10"
        + trace_id.to_bytes(16, "big")
        + b"\x12\x08"
        + span_id.to_bytes(8, "big")
        + encode_attributes(b"\x22", link.attributes)
        + (_count(b"\x28", dropped) if dropped else b"")
        + _LINK_FLAGS[bool(context.is_remote)],
    )


def _status(status: Any) -> bytes:
    if status is None:
        return b""
    code = status.status_code
    description = status.description
    if code is _UNSET and not description:
        return b"\x7a\x00"
    value = code.value
    body = field_str(b"\x12", description) + (b"\x18" + varint(value) if value else b"")
    return frame(b"\x7a", body)


def _kind(kind: Any) -> bytes:
    if kind is _INTERNAL:
        return b"\x30\x01"
    encoded = _KINDS.get(kind)
    if encoded is None:
        raise Unsupported(kind)
    return encoded


def _span(span: Any) -> bytes:
    context = span.get_span_context()
    parent = span.parent
    trace_state = context.trace_state
    start = span.start_time
    end = span.end_time
    parts = [
        b"\x0a\x10",
        context.trace_id.to_bytes(16, "big"),
        b"\x12\x08",
        context.span_id.to_bytes(8, "big"),
    ]
    if trace_state is not None and trace_state is not _EMPTY_TRACE_STATE and len(trace_state):
        parts.append(_trace_state(trace_state))
    if parent:
        parts.append(b"\x22\x08" + parent.span_id.to_bytes(8, "big"))
    parts += (
        name_field(b"\x2a", span.name),
        _kind(span.kind),
        b"\x39" + start.to_bytes(8, "little") if start else b"",
        b"\x41" + end.to_bytes(8, "little") if end else b"",
    )
    attributes, events, links, dropped_attributes, dropped_events, dropped_links = span_fields(span)
    if attributes:
        parts.append(encode_plain_attributes(b"\x4a", attributes))
    if dropped_attributes:
        parts.append(_count(b"\x50", dropped_attributes))
    if events:
        parts += [_event(event) for event in events]
    if dropped_events:
        parts.append(_count(b"\x60", dropped_events))
    if links:
        parts += [_link(link) for link in links]
    if dropped_links:
        parts.append(_count(b"\x70", dropped_links))
    parts.append(_status(span.status))
    parts.append(_SPAN_FLAGS[bool(parent and parent.is_remote)])
    return frame(b"\x12", b"".join(parts))


def _scope_of(span: Any) -> Any:
    return span.instrumentation_scope or None


def encode_spans(spans: Sequence[Any]) -> bytes:
    """Encode *spans* as a serialised ``ExportTraceServiceRequest``; raises :class:`Unsupported`."""
    return encode_envelope(group(spans, _span, _scope_of))
