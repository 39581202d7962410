"""`Sink`: the embedded OTLP receiver a test, the demo or the CLI runs in-process.

It owns the two front ends (gRPC and HTTP), the transport-neutral `Ingest`, the fault plan, the
bounded in-memory store and the optional SQLite file, and the lifecycle: start, stop, and outages
that close and re-open the listeners on the same ports while keeping what was received.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, final
from urllib.parse import quote

from ..recording._buffer import RecordBuffer
from ..recording._queries import TelemetryQueries
from ..recording._records import EventRecord, RecordKind, SpanRecord
from ..recording._timeouts import default_timeout
from ._decode import Record, Signal
from ._faults import Faults
from ._grpc import GrpcReceiver
from ._http import HttpLimits, HttpReceiver
from ._ingest import Ingest, SinkStats
from ._query_api import answer
from ._store import SqliteStore
from ._ui import ui_routes

__all__ = ["Sink"]

_logger = logging.getLogger("foundation_telemetry.sink")

_DEFAULT_MAX_ITEMS = 100_000
_MAX_ALERTS: Final = 1000
_TIMEOUT_FACTOR = 5
_DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024


@final
class Sink(TelemetryQueries):
    """An OTLP/gRPC and OTLP/HTTP receiver on 127.0.0.1 that keeps what it receives.

    Use it as a context manager or call `start()` / `stop()`. Ports default to 0 (the system
    picks free ones); `grpc_endpoint` and `http_endpoint` are valid once `start()` returns and
    are what an OTLP exporter or ``configure(exporter="otlp", endpoint=...)`` takes. Calls after
    `stop()` warn and do nothing.

    Received spans, log records, events and metric data points are kept as the same record
    views the in-process Recorder produces, in the same kind of store, so the whole query and
    expectation API of ``foundation_telemetry.testing`` works on what really crossed the wire:
    ``spans()``, ``events()``, ``logs()``, ``metric_points()``, ``expect_span()``,
    ``assert_telemetry_event()``, ``attach_collector()``, ``wait_for_metric_threshold()``, ...
    Exported metrics arrive as data points: a cumulative sum is the running total (use
    ``aggregate="last"``), a histogram point carries ``count`` and its ``sum`` as ``value``.
    Expectations without a ``timeout`` wait five times the testing default (10 s unscaled),
    because exports are batched first.

    Args:
        host: the address to listen on; loopback by default.
        grpc_port: the OTLP/gRPC port (0: any free port).
        http_port: the OTLP/HTTP and query API port (0: any free port).
        max_items: how many records to keep in memory (a ring shared in design with the
            Recorder); older ones are evicted and counted in `overflow`.
        max_request_bytes: bodies over this size are refused (413 / RESOURCE_EXHAUSTED).
        token: when set, both transports require ``authorization: Bearer <token>``.
        store: a path for an SQLite file that keeps every received record (see `read_store`).
        http_limits: the HTTP server's timeouts and limits (`HttpLimits`; the defaults suit
            tests and development).
        ui: serve the web viewer on the HTTP port (`ui_url`): traces, logs and events, metrics
            and health, live as they arrive.

    Raises:
        ValueError: a port, size or limit is out of range.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        grpc_port: int = 0,
        http_port: int = 0,
        *,
        max_items: int = _DEFAULT_MAX_ITEMS,
        max_request_bytes: int = _DEFAULT_MAX_REQUEST_BYTES,
        token: str | None = None,
        store: str | Path | None = None,
        http_limits: HttpLimits | None = None,
        ui: bool = False,
    ) -> None:
        for name, port in (("grpc_port", grpc_port), ("http_port", http_port)):
            if not 0 <= port <= 65535:
                msg = f"`{name}` must be between 0 and 65535 (0 picks a free port), got {port!r}."
                raise ValueError(msg)
        if max_items < 1:
            msg = f"`max_items` must be >= 1, got {max_items!r}."
            raise ValueError(msg)
        if max_request_bytes < 1:
            msg = f"`max_request_bytes` must be >= 1, got {max_request_bytes!r}."
            raise ValueError(msg)
        if token is not None and not token.strip():
            msg = "`token` must be a non-empty string or None."
            raise ValueError(msg)
        if not isinstance(ui, bool):
            msg = f"`ui` must be True or False, got {ui!r}."
            raise TypeError(msg)
        self._ui = ui
        self._token = token
        self._alerts: collections.deque[dict[str, Any]] = collections.deque(maxlen=_MAX_ALERTS)
        self._host = host
        self._ports = [grpc_port, http_port]
        self._max_request_bytes = max_request_bytes
        self._http_limits = http_limits or HttpLimits()
        self._store_path = None if store is None else Path(store)
        self._buffer = RecordBuffer(max_items)
        self._listeners: tuple[Callable[[Sequence[Record]], None], ...] = ()
        self._sqlite: SqliteStore | None = None
        self._store_errors = 0
        self.faults = Faults()
        self._ingest = Ingest(token=token, faults=self.faults, deliver=self._deliver)
        self._lock = threading.RLock()
        self._grpc: GrpcReceiver | None = None
        self._http: HttpReceiver | None = None
        self._state = "new"

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> Sink:
        """Open the store and start listening; returns the sink for chaining."""
        with self._lock:
            if self._state != "new":
                self._warn("start")
                return self
            if self._store_path is not None:
                self._sqlite = SqliteStore(self._store_path)
            try:
                self._listen()
            except BaseException:
                if self._sqlite is not None:
                    self._sqlite.close()
                raise
            self._state = "running"
        return self

    def stop(self) -> None:
        """Stop listening (in-flight requests are cut off) and close the store. Idempotent."""
        with self._lock:
            if self._state == "stopped":
                return
            self._close_listeners()
            if self._sqlite is not None:
                self._sqlite.close()
            self._state = "stopped"

    def restart(self) -> None:
        """Close both listeners and open them again on the same ports; records are kept."""
        if self._state != "running":
            self._warn("restart")
            return
        with self.offline():
            pass

    @contextlib.contextmanager
    def offline(self) -> Iterator[None]:
        """Inside the block the sink does not listen at all (connections are refused and cut).

        On exit it listens again on the same ports, keeping what it had received.
        """
        with self._lock:
            running = self._state == "running"
            if running:
                self._close_listeners()
                self._state = "offline"
            else:
                self._warn("offline", stacklevel=4)
        if not running:
            yield
            return
        try:
            yield
        finally:
            with self._lock:
                if self._state == "offline":
                    self._listen()
                    self._state = "running"

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _listen(self) -> None:
        grpc = GrpcReceiver(
            self._ingest, self._host, self._ports[0], max_request_bytes=self._max_request_bytes
        )
        try:
            http = HttpReceiver(
                self._ingest,
                self._host,
                self._ports[1],
                query=lambda path, query: answer(self, path, query),
                max_request_bytes=self._max_request_bytes,
                limits=self._http_limits,
                extra_routes=ui_routes(self, self._buffer) if self._ui else (),
            )
        except BaseException:
            grpc.stop()
            raise
        self._grpc, self._http = grpc, http
        self._ports = [grpc.port, http.port]

    def _close_listeners(self) -> None:
        for receiver in (self._grpc, self._http):
            if receiver is not None:
                receiver.stop()
        self._grpc = self._http = None

    def _warn(self, call: str, stacklevel: int = 3) -> None:
        warnings.warn(
            f"Sink.{call}() called on a sink that is {self._state}; ignoring the call",
            RuntimeWarning,
            stacklevel=stacklevel,
        )

    # addresses -------------------------------------------------------------------------------

    @property
    def grpc_port(self) -> int:
        """The gRPC port (0 until `start()` returned)."""
        return self._ports[0] if self._state != "new" else 0

    @property
    def http_port(self) -> int:
        """The HTTP port (0 until `start()` returned)."""
        return self._ports[1] if self._state != "new" else 0

    @property
    def grpc_endpoint(self) -> str:
        """``http://host:port`` for an OTLP/gRPC exporter (``insecure=True``)."""
        return self._endpoint(self.grpc_port)

    @property
    def http_endpoint(self) -> str:
        """``http://host:port``, the OTLP/HTTP base URL (``/v1/traces`` etc. are appended)."""
        return self._endpoint(self.http_port)

    @property
    def has_ui(self) -> bool:
        """Whether the sink serves the web viewer (``Sink(ui=True)``)."""
        return self._ui

    @property
    def ui_url(self) -> str:
        """The viewer's address (``Sink(ui=True)``); with a token it carries it once, to log in."""
        if not self._ui:
            msg = "the sink has no viewer: create it with Sink(ui=True) (or `sink --ui`)"
            raise RuntimeError(msg)
        url = self._endpoint(self.http_port) + "/ui/"
        return url if self._token is None else f"{url}?token={quote(self._token)}"

    def show_alerts(self, service: Any) -> None:
        """Show the alerts of *service* (a ``TelemetryService``) on the viewer's Health page."""
        add_notifier = getattr(service, "add_notifier", None)
        if not callable(add_notifier):
            msg = f"show_alerts() takes a TelemetryService, got {service!r}."
            raise TypeError(msg)

        def keep(alert: Any) -> None:
            self._alerts.append(
                {
                    "time_ns": time.time_ns(),
                    "state": alert.reason,
                    "rule": alert.rule,
                    "value": alert.value,
                    "severity": alert.severity,
                }
            )

        add_notifier(keep)

    def ui_health(self) -> dict[str, Any]:
        """Return what the viewer's Health page shows: stats, the fault mode and the alerts."""
        return {
            "stats": {**dataclasses.asdict(self.stats), "evicted": self.overflow},
            "faults": self.faults.describe(),
            "alerts": list(self._alerts),
        }

    def _endpoint(self, port: int) -> str:
        if self._state == "new":
            msg = "the sink has no endpoint before start() (use it as a context manager)"
            raise RuntimeError(msg)
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{port}"

    # what arrived ----------------------------------------------------------------------------

    def _deliver(self, signal: Signal, records: Sequence[Record]) -> None:
        if not records:
            return
        buffer = self._buffer
        for record in records:
            buffer.append(_kind(record), record, buffer.scope)
        if self._sqlite is not None:
            try:
                self._sqlite.write(records)
            except sqlite3.Error as error:  # e.g. a request still in flight when stop() closed it
                self._store_failed(error)
        for listener in self._listeners:
            try:
                listener(records)
            except Exception:  # a subscriber must not break receiving
                _logger.warning("a sink subscriber raised; it stays subscribed", exc_info=True)

    def _store_failed(self, error: sqlite3.Error) -> None:
        with self._lock:
            self._store_errors += 1
            first = self._store_errors == 1
        if first and self._state == "running":
            _logger.warning("the sink could not write to %s: %s", self._store_path, error)

    @property
    def store_errors(self) -> int:
        """How many batches could not be written to the SQLite file (memory still has them)."""
        return self._store_errors

    def _telemetry_buffer(self) -> RecordBuffer:
        return self._buffer

    def _telemetry_timeout(self) -> float:
        # Exported telemetry waits for a batch (the SDK's default schedule delay is 5 s) before
        # it can arrive, so sink expectations default to five times the testing default. A
        # passing expectation returns as soon as the export lands; only failures wait longer.
        return default_timeout() * _TIMEOUT_FACTOR

    def clear(self) -> None:
        """Forget the records kept in memory (the SQLite file and `stats` are unchanged)."""
        self._buffer.clear()

    def subscribe(self, listener: Callable[[Sequence[Record]], None]) -> Callable[[], None]:
        """Call *listener* with each batch of records as it arrives; returns the unsubscriber.

        The listener runs on the receiving thread and must not block.
        """
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners = tuple(item for item in self._listeners if item is not listener)

        return unsubscribe

    @property
    def overflow(self) -> int:
        """How many records were evicted from memory to stay within ``max_items``."""
        return self._buffer.overflowed

    @property
    def stats(self) -> SinkStats:
        """Counts of requests, accepted and rejected items, and refused requests."""
        return self._ingest.stats

    def __repr__(self) -> str:
        if self._state == "new":
            return "Sink(state='new')"
        return (
            f"Sink(state={self._state!r}, grpc={self.grpc_endpoint!r}, http={self.http_endpoint!r})"
        )


def _kind(record: Record) -> RecordKind:
    if isinstance(record, SpanRecord):
        return RecordKind.SPAN_END
    if isinstance(record, EventRecord):
        return record.kind
    return RecordKind.METRIC
