"""Captured records as plain, normalized dicts that compare with ``==`` across runs.

Trace and span ids are renumbered 1, 2, 3 in order of appearance; host names, process ids,
thread ids and source paths become stable placeholders; timestamps are left out unless asked for
(then relative to the first record, in nanoseconds). Spans carry their events, so span events are
not listed twice. The result is meant for ``assert telemetry.snapshot() == [...]`` or
inline-snapshot, where a readable diff shows only real differences.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ._matchers import Record
from ._records import EventRecord, MetricPoint, RecordKind, SpanRecord

__all__ = ["KINDS", "snapshot_records"]

KINDS: Final = ("span", "event", "log", "metric")

_PLACEHOLDERS: Final = {
    "host.name": "<host>",
    "process.pid": "<pid>",
    "thread.id": "<thread.id>",
    "service.instance.id": "<service.instance.id>",
}
_PATH_KEYS: Final = frozenset({"code.filepath", "code.file.path"})


class _Ids:
    def __init__(self) -> None:
        self._numbers: dict[int, int] = {}

    def __call__(self, raw: int | None) -> int | None:
        if raw is None or raw == 0:
            return None
        return self._numbers.setdefault(raw, len(self._numbers) + 1)


def _attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in _PLACEHOLDERS:
            out[key] = _PLACEHOLDERS[key]
        elif key in _PATH_KEYS and isinstance(value, str):
            out[key] = os.path.basename(value)
        elif isinstance(value, tuple):
            out[key] = list(value)
        else:
            out[key] = value
    return out


def _kind(record: Record) -> str | None:
    if isinstance(record, SpanRecord):
        return "span" if record.ended else None
    if isinstance(record, MetricPoint):
        return "metric"
    if record.kind is RecordKind.SPAN_EVENT:
        return None  # listed inside its span
    return "log" if record.kind is RecordKind.LOG else "event"


def snapshot_records(
    records: Iterable[Record],
    *,
    kinds: Iterable[str] = KINDS,
    timestamps: bool = False,
    resource: bool = False,
) -> list[dict[str, Any]]:
    """Return *records* as normalized dicts (see the module docstring).

    Raises:
        ValueError: *kinds* names something other than span, event, log or metric.
    """
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        msg = f"`kinds` may contain {', '.join(KINDS)}; got {sorted(unknown)}."
        raise ValueError(msg)
    traces, spans = _Ids(), _Ids()
    selected = [(kind, r) for r in records if (kind := _kind(r)) is not None and kind in wanted]
    origin = min((_time(r) for _, r in selected), default=0)
    out = []
    for kind, record in selected:
        item: dict[str, Any] = {"kind": kind, "name": record.name}
        if isinstance(record, SpanRecord):
            item["trace_id"] = traces(record.trace_id)
            item["span_id"] = spans(record.span_id)
            item["parent_id"] = spans(record.parent_span_id)
            item["status"] = record.status
            item["attributes"] = _attributes(record.attributes)
            item["events"] = [
                {"name": e.name, "attributes": _attributes(e.attributes)} for e in record.events
            ]
            if timestamps:
                item["start_ns"] = record.start_time_ns - origin
                item["end_ns"] = (record.end_time_ns or 0) - origin
        elif isinstance(record, EventRecord):
            item["attributes"] = _attributes(record.attributes)
            item["trace_id"] = traces(record.trace_id)
            item["span_id"] = spans(record.span_id)
            if kind == "log":
                item["body"] = record.body
                item["severity"] = record.severity
            if timestamps:
                item["timestamp_ns"] = record.timestamp_ns - origin
        else:
            item["instrument"] = record.instrument_kind
            item["unit"] = record.unit
            item["value"] = record.value
            item["attributes"] = _attributes(record.attributes)
            if timestamps:
                item["timestamp_ns"] = record.timestamp_ns - origin
        if resource:
            item["resource"] = _attributes(record.resource)
        out.append(item)
    return out


def _time(record: Record) -> int:
    if isinstance(record, SpanRecord):
        return record.start_time_ns
    return record.timestamp_ns
