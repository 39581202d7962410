"""Log records to the bytes of an ``ExportLogsServiceRequest``, as the stock ``encode_logs`` writes.

Field for field the stock ``_encode_log``: times, severity, the body (always present, empty for
``None``), attributes, dropped count, trace flags, trace and span ids (absent when zero) and the
event name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ._envelope import encode_envelope, group
from ._wire import Unsupported, encode_attributes, encode_value, field_str, fixed64, frame, varint

__all__ = ["encode_logs"]

_UINT32_LIMIT: Final = 1 << 32


def _time(tag: bytes, value: int | None) -> bytes:
    return tag + fixed64(value) if value else b""


def _log(item: Any) -> bytes:
    record = item.log_record
    severity = getattr(record.severity_number, "value", None)
    flags = int(record.trace_flags)
    dropped = item.dropped_attributes
    if not (0 <= flags < _UINT32_LIMIT and 0 <= dropped < _UINT32_LIMIT):
        raise Unsupported((flags, dropped))
    trace_id = record.trace_id
    span_id = record.span_id
    return frame(
        b"\x12",
        b"".join(
            (
                _time(b"\x09", record.timestamp),
                b"\x10" + varint(severity) if severity else b"",
                field_str(b"\x1a", record.severity_text),
                frame(b"\x2a", encode_value(record.body)),
                encode_attributes(b"\x32", record.attributes),
                b"\x38" + varint(dropped) if dropped else b"",
                b"\x45" + flags.to_bytes(4, "little") if flags else b"",
                b"" if trace_id == 0 else b"\x4a\x10" + trace_id.to_bytes(16, "big"),
                b"" if span_id == 0 else b"\x52\x08" + span_id.to_bytes(8, "big"),
                _time(b"\x59", record.observed_timestamp),
                field_str(b"\x62", record.event_name),
            )
        ),
    )


def _scope_of(item: Any) -> Any:
    return item.instrumentation_scope or None


def encode_logs(batch: Sequence[Any]) -> bytes:
    """Encode *batch* as a serialised ``ExportLogsServiceRequest``; raises :class:`Unsupported`."""
    return encode_envelope(group(batch, _log, _scope_of))
