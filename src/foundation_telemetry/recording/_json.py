"""The one JSON shape of a record, shared by the sink's query API and store and the test reports.

``record_to_json`` gives hex ids (as in OTLP/JSON) and plain attribute values (bytes as
``{"bytes": base64}``); ``record_from_json`` turns that shape back into the same `SpanRecord` /
`EventRecord` / `MetricPoint` view.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ._matchers import Record
from ._records import EventRecord, MetricPoint, RecordKind, SpanEventView, SpanRecord

__all__ = ["hex_id", "kind_of", "record_from_json", "record_to_json"]


def kind_of(record: Record) -> str:
    """``"span"``, ``"event"`` or ``"metric"``: the record's family in the store and the API."""
    if isinstance(record, SpanRecord):
        return "span"
    if isinstance(record, EventRecord):
        return "event"
    return "metric"


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _unplain(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"bytes"}:
            return base64.b64decode(value["bytes"])
        return {key: _unplain(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(_unplain(item) for item in value)
    return value


def hex_id(value: int | None, width: int) -> str | None:
    """Return *value* as zero-padded lower-case hex of *width* digits (``None`` stays ``None``)."""
    return None if value is None else f"{value:0{width}x}"


def _int(value: str | None) -> int | None:
    return None if value is None else int(value, 16)


def record_to_json(record: Record) -> dict[str, Any]:
    """Return *record* as a JSON-ready dict: hex ids (as in OTLP/JSON), plain attribute values."""
    common = {
        "kind": kind_of(record),
        "name": record.name,
        "attributes": _plain(record.attributes),
        "resource": _plain(record.resource),
        "scope": record.scope,
        "scope_version": record.scope_version,
        "scope_attributes": _plain(record.scope_attributes),
        "schema_url": record.schema_url,
        "scope_schema_url": record.scope_schema_url,
    }
    if isinstance(record, SpanRecord):
        return {
            **common,
            "trace_id": hex_id(record.trace_id, 32),
            "span_id": hex_id(record.span_id, 16),
            "parent_span_id": hex_id(record.parent_span_id, 16),
            "start_time_ns": record.start_time_ns,
            "end_time_ns": record.end_time_ns,
            "span_kind": record.kind,
            "status": record.status,
            "status_description": record.status_description,
            "events": [
                {
                    "name": e.name,
                    "attributes": _plain(e.attributes),
                    "timestamp_ns": e.timestamp_ns,
                    "dropped_attributes_count": e.dropped_attributes_count,
                }
                for e in record.events
            ],
            "links": [[hex_id(t, 32), hex_id(s, 16)] for t, s in record.links],
            "link_attributes": [_plain(item) for item in record.link_attributes],
            "trace_state": record.trace_state,
            "flags": record.flags,
            "dropped_attributes_count": record.dropped_attributes_count,
            "dropped_events_count": record.dropped_events_count,
            "dropped_links_count": record.dropped_links_count,
        }
    if isinstance(record, EventRecord):
        return {
            **common,
            "record_kind": record.kind.value,
            "timestamp_ns": record.timestamp_ns,
            "body": _plain(record.body),
            "severity": record.severity,
            "severity_number": record.severity_number,
            "observed_timestamp_ns": record.observed_timestamp_ns,
            "flags": record.flags,
            "dropped_attributes_count": record.dropped_attributes_count,
            "trace_id": hex_id(record.trace_id, 32),
            "span_id": hex_id(record.span_id, 16),
        }
    return {
        **common,
        "value": record.value,
        "count": record.count,
        "timestamp_ns": record.timestamp_ns,
        "instrument_kind": record.instrument_kind,
        "unit": record.unit,
        "temporality": record.temporality,
        **{name: _plain(getattr(record, name)) for name in _POINT_DETAILS},
    }


# MetricPoint fields after ``temporality``, written and read under their own names.
_POINT_DETAILS = (
    "value_type",
    "description",
    "start_timestamp_ns",
    "flags",
    "bucket_counts",
    "explicit_bounds",
    "min",
    "max",
    "scale",
    "zero_count",
    "zero_threshold",
    "positive_offset",
    "positive_bucket_counts",
    "negative_offset",
    "negative_bucket_counts",
    "quantiles",
)
_OPTIONAL = ("scope_version", "schema_url", "scope_schema_url")


def record_from_json(data: Mapping[str, Any]) -> Record:
    """Return the record view that *data* (from `record_to_json`) describes.

    Fields newer than the document (a store written by an older version) keep their defaults.
    """
    common: dict[str, Any] = {
        "name": data["name"],
        "attributes": _unplain(data["attributes"]),
        "resource": _unplain(data["resource"]),
        "scope": data["scope"],
        **{name: data[name] for name in _OPTIONAL if name in data},
    }
    if "scope_attributes" in data:
        common["scope_attributes"] = _unplain(data["scope_attributes"])
    kind = data["kind"]
    if kind == "span":
        return SpanRecord(
            **common,
            trace_id=int(data["trace_id"], 16),
            span_id=int(data["span_id"], 16),
            parent_span_id=_int(data["parent_span_id"]),
            start_time_ns=data["start_time_ns"],
            end_time_ns=data["end_time_ns"],
            kind=data["span_kind"],
            status=data["status"],
            status_description=data["status_description"],
            events=tuple(
                SpanEventView(
                    e["name"],
                    _unplain(e["attributes"]),
                    e["timestamp_ns"],
                    e.get("dropped_attributes_count", 0),
                )
                for e in data["events"]
            ),
            links=tuple((int(t, 16), int(s, 16)) for t, s in data["links"]),
            link_attributes=tuple(_unplain(item) for item in data.get("link_attributes", ())),
            **_present(
                data,
                "trace_state",
                "flags",
                "dropped_attributes_count",
                "dropped_events_count",
                "dropped_links_count",
            ),
        )
    if kind == "event":
        return EventRecord(
            **common,
            timestamp_ns=data["timestamp_ns"],
            kind=RecordKind(data["record_kind"]),
            body=_unplain(data["body"]),
            severity=data["severity"],
            trace_id=_int(data["trace_id"]),
            span_id=_int(data["span_id"]),
            **_present(
                data,
                "severity_number",
                "observed_timestamp_ns",
                "flags",
                "dropped_attributes_count",
            ),
        )
    return MetricPoint(
        **common,
        value=data["value"],
        count=data["count"],
        timestamp_ns=data["timestamp_ns"],
        instrument_kind=data["instrument_kind"],
        unit=data["unit"],
        temporality=data["temporality"],
        **{name: _detail(data[name]) for name in _POINT_DETAILS if name in data},
    )


def _present(data: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: data[name] for name in names if name in data}


def _detail(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(tuple(item) if isinstance(item, list) else item for item in value)
    return value
