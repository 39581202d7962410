"""Records as JSON, and the optional SQLite file a sink run can be inspected from afterwards.

``record_to_json`` is the one JSON shape of a record: the query API answers with it, the SQLite
store keeps it (next to a few indexed columns for ``sqlite3`` users), and ``record_from_json``
turns it back into the same `SpanRecord` / `EventRecord` / `MetricPoint` view, so `read_store`
gives a finished run the query methods a live sink has.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..recording._json import hex_id, kind_of, record_from_json, record_to_json
from ..recording._records import EventRecord, RecordKind, SpanRecord
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
                _column_kind(record),
                record.name,
                _timestamp(record),
                hex_id(getattr(record, "trace_id", None), 32),
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


def _column_kind(record: Record) -> str:
    """Return the ``kind`` column: ``log`` for a plain log record (no event name)."""
    if isinstance(record, EventRecord) and record.kind is RecordKind.LOG:
        return "log"
    return kind_of(record)


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
        ValueError: *kind* is not ``"span"``, ``"event"``, ``"log"``, ``"metric"`` or None.

    ``kind="log"`` gives the plain log records (no event name), ``"event"`` the log-based and
    span events.
    """
    if kind not in (None, "span", "event", "log", "metric"):
        msg = f"`kind` must be 'span', 'event', 'log', 'metric' or None, got {kind!r}."
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
