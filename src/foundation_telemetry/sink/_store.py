"""Records as JSON, and the optional SQLite file a sink run can be inspected from afterwards.

``record_to_json`` is the one JSON shape of a record: the query API answers with it, the SQLite
store keeps it (next to a few indexed columns for ``sqlite3`` users), and ``record_from_json``
turns it back into the same `SpanRecord` / `EventRecord` / `MetricPoint` view, so `read_store`
gives a finished run the query methods a live sink has.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..recording._records import EventRecord, MetricPoint, RecordKind, SpanEventView, SpanRecord
from ._decode import Record

__all__ = [
    "SqliteStore",
    "kind_of",
    "read_store",
    "record_from_json",
    "record_to_json",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    timestamp_ns INTEGER NOT NULL,
    trace_id TEXT,
    service TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind_name ON records (kind, name);
"""


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


def _hex(value: int | None, width: int) -> str | None:
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
    }
    if isinstance(record, SpanRecord):
        return {
            **common,
            "trace_id": _hex(record.trace_id, 32),
            "span_id": _hex(record.span_id, 16),
            "parent_span_id": _hex(record.parent_span_id, 16),
            "start_time_ns": record.start_time_ns,
            "end_time_ns": record.end_time_ns,
            "span_kind": record.kind,
            "status": record.status,
            "status_description": record.status_description,
            "events": [
                {"name": e.name, "attributes": _plain(e.attributes), "timestamp_ns": e.timestamp_ns}
                for e in record.events
            ],
            "links": [[_hex(t, 32), _hex(s, 16)] for t, s in record.links],
        }
    if isinstance(record, EventRecord):
        return {
            **common,
            "record_kind": record.kind.value,
            "timestamp_ns": record.timestamp_ns,
            "body": _plain(record.body),
            "severity": record.severity,
            "trace_id": _hex(record.trace_id, 32),
            "span_id": _hex(record.span_id, 16),
        }
    return {
        **common,
        "value": record.value,
        "count": record.count,
        "timestamp_ns": record.timestamp_ns,
        "instrument_kind": record.instrument_kind,
        "unit": record.unit,
        "temporality": record.temporality,
    }


def record_from_json(data: Mapping[str, Any]) -> Record:
    """Return the record view that *data* (from `record_to_json`) describes."""
    common: dict[str, Any] = {
        "name": data["name"],
        "attributes": _unplain(data["attributes"]),
        "resource": _unplain(data["resource"]),
        "scope": data["scope"],
    }
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
                SpanEventView(e["name"], _unplain(e["attributes"]), e["timestamp_ns"])
                for e in data["events"]
            ),
            links=tuple((int(t, 16), int(s, 16)) for t, s in data["links"]),
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
        )
    return MetricPoint(
        **common,
        value=data["value"],
        count=data["count"],
        timestamp_ns=data["timestamp_ns"],
        instrument_kind=data["instrument_kind"],
        unit=data["unit"],
        temporality=data["temporality"],
    )


class SqliteStore:
    """Append-only SQLite file of received records; safe to write from several threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def write(self, records: Sequence[Record]) -> None:
        """Append *records* in one transaction."""
        rows = [
            (
                kind_of(record),
                record.name,
                _timestamp(record),
                _hex(getattr(record, "trace_id", None), 32),
                _service(record.resource),
                json.dumps(record_to_json(record), separators=(",", ":")),
            )
            for record in records
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO records (kind, name, timestamp_ns, trace_id, service, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the file; later writes raise ``sqlite3.ProgrammingError``."""
        with self._lock:
            self._db.close()


def _timestamp(record: Record) -> int:
    if isinstance(record, SpanRecord):
        return record.start_time_ns
    return record.timestamp_ns


def _service(resource: Mapping[str, Any]) -> str | None:
    value = resource.get("service.name")
    return None if value is None else str(value)


def read_store(path: str | Path, kind: str | None = None) -> list[Record]:
    """Every record in the SQLite file at *path* (optionally one ``kind``), in arrival order.

    Raises:
        FileNotFoundError: there is no file at *path*.
        ValueError: *kind* is not ``"span"``, ``"event"``, ``"metric"`` or None.
    """
    if kind not in (None, "span", "event", "metric"):
        msg = f"`kind` must be 'span', 'event', 'metric' or None, got {kind!r}."
        raise ValueError(msg)
    file = Path(path)
    if not file.is_file():
        msg = f"no sink store at {file} (start the sink with store=... / --db first)"
        raise FileNotFoundError(msg)
    db = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        query = "SELECT body FROM records"
        params: Iterable[str] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            params = (kind,)
        rows = db.execute(query + " ORDER BY id", tuple(params)).fetchall()
    finally:
        db.close()
    return [record_from_json(json.loads(body)) for (body,) in rows]
