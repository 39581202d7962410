"""The sink's small JSON query API, served on its HTTP port next to the OTLP endpoints.

``GET /api/spans``, ``/api/events`` (log records, events and span events), ``/api/logs`` (log
records, with or without an event name) and ``/api/metrics`` answer ``{"count": N, "items": [...]}``
with records in `record_to_json` shape, oldest first. Filters (all optional, combined with AND):
``name`` (exact, or a glob with ``*``), ``service`` (resource ``service.name``), ``trace_id``
(hex), ``since_ns`` (records at or after), ``attr.<key>=<value>`` (attribute equals, compared as
text) and ``limit`` (the newest N, default 1000).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol
from urllib.parse import parse_qs

from ..recording._matchers import is_log
from ..recording._records import EventRecord, MetricPoint, SpanRecord
from ._decode import Record
from ._store import record_to_json

__all__ = ["RecordSource", "answer"]

_DEFAULT_LIMIT = 1000


class RecordSource(Protocol):
    """Whatever holds the records the API reads (the sink)."""

    def records(self) -> Sequence[Record]:
        """Every record still kept, oldest first."""
        ...


class _BadQuery(ValueError):
    pass


_FAMILIES: Final[Mapping[str, Callable[[Record], bool]]] = {
    "/api/spans": lambda record: isinstance(record, SpanRecord),
    "/api/events": lambda record: isinstance(record, EventRecord),
    "/api/logs": is_log,
    "/api/metrics": lambda record: isinstance(record, MetricPoint),
}


def answer(source: RecordSource, path: str, query: str) -> tuple[int, dict[str, Any]]:
    """Return the status code and JSON document for ``GET path?query``."""
    family = _FAMILIES.get(path.rstrip("/"))
    if family is None:
        return 404, {"error": f"unknown path {path!r}; use one of {sorted(_FAMILIES)}"}
    try:
        keep, limit = _filters(parse_qs(query, keep_blank_values=True))
    except _BadQuery as error:
        return 400, {"error": str(error)}
    matched = [r for r in source.records() if family(r) and keep(r)]
    items = [record_to_json(record) for record in matched[-limit:]] if limit else []
    return 200, {"count": len(items), "matched": len(matched), "items": items}


Check = Callable[[Record], bool]


def _filters(params: Mapping[str, list[str]]) -> tuple[Check, int]:
    checks: list[Check] = []
    limit = _DEFAULT_LIMIT
    for key, values in params.items():
        value = values[-1]
        if key == "limit":
            limit = _number(key, value, 10)
        else:
            checks.append(_check(key, value))
    return (lambda record: all(check(record) for check in checks)), limit


def _check(key: str, value: str) -> Check:
    if key == "name":
        if "*" in value or "?" in value:
            return lambda r: fnmatch.fnmatchcase(r.name, value)
        return lambda r: r.name == value
    if key == "service":
        return lambda r: str(r.resource.get("service.name")) == value
    if key == "trace_id":
        wanted = _number(key, value, 16)
        return lambda r: getattr(r, "trace_id", None) == wanted
    if key == "since_ns":
        since = _number(key, value, 10)
        return lambda r: _time(r) >= since
    if key.startswith("attr."):
        attr = key.removeprefix("attr.")
        return lambda r: attr in r.attributes and str(r.attributes[attr]) == value
    msg = f"unknown filter {key!r}; use name, service, trace_id, since_ns, limit or attr.<key>"
    raise _BadQuery(msg)


def _number(key: str, value: str, base: int) -> int:
    try:
        number = int(value, base)
    except ValueError:
        kind = "a hex" if base == 16 else "an integer"
        msg = f"{key} must be {kind} number, got {value!r}"
        raise _BadQuery(msg) from None
    if number < 0:
        msg = f"{key} must be >= 0, got {value!r}"
        raise _BadQuery(msg)
    return number


def _time(record: Record) -> int:
    return record.start_time_ns if isinstance(record, SpanRecord) else record.timestamp_ns
