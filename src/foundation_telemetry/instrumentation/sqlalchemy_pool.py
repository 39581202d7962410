"""OpenTelemetry instrumentation for SQLAlchemy connection pools (semantic-convention metrics).

:class:`SQLAlchemyPoolInstrumentor` listens to SQLAlchemy's pool events (``connect``,
``checkout``, ``checkin``, ``close``, ``detach``) on every pool and wraps ``Pool.connect`` to see
the waiting that no event reports and to learn each connection's pool (the events pass only the
connection record). It records the ``db.client.connection.*`` metrics of the
OpenTelemetry database semantic conventions (``count`` by ``db.client.connection.state``
``idle``/``used``, ``max``, ``idle.max``, ``pending_requests``, ``timeouts``, ``create_time``,
``wait_time``, ``use_time``) and emits ``foundation.connection.pool_created``,
``connection_acquired``, ``connection_released``, ``connection_failed`` (timeouts and connect
errors) and ``pool_health`` when a pool becomes exhausted or recovers, plus
``foundation.resource.exhausted`` for each request that finds the pool full. A pool is announced
(``pool_created``) when it is first used.

The pool name (``db.client.connection.pool.name``) is the engine's ``pool_logging_name`` when
given, else ``<dialect>-<n>`` in the order pools are first seen.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, final

from opentelemetry import metrics

from .. import taxonomy
from ..events import emit
from ._extras import missing_extra

try:
    from ._common import Patches, PatchingInstrumentor, error_type, guarded
except ImportError as error:  # opentelemetry-instrumentation, which the extra installs
    raise missing_extra(
        "sqlalchemy", "SQLAlchemyPoolInstrumentor", "opentelemetry-instrumentation", error
    ) from error

__all__ = ["STATE", "SQLAlchemyPoolInstrumentor"]

_INSTRUMENTS: Final = ("sqlalchemy >= 2.0",)
_COMPONENT: Final = "instrumentation.sqlalchemy_pool"
_A = taxonomy.Attr
STATE: Final = "db.client.connection.state"
"""The attribute of ``db.client.connection.count`` whose values are ``idle`` and ``used``."""

# The bucket boundaries the semantic conventions advise for the db.client.connection.*_time
# histograms (the SDK default is made for milliseconds, not seconds).
_TIME_BUCKETS: Final = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)


@dataclass(slots=True)
class _PoolState:
    """What we know about one pool: its name, capacity and which connections are in which state."""

    name: str
    size: int | None
    capacity: int | None
    records: weakref.WeakKeyDictionary[Any, str] = field(default_factory=weakref.WeakKeyDictionary)
    checked_out_at: weakref.WeakKeyDictionary[Any, float] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    counts: dict[str, int] = field(default_factory=lambda: {"idle": 0, "used": 0})
    exhausted: bool = False
    pending: int = 0

    def count(self, state: str) -> int:
        return self.counts[state]


# The monotonic time the current Pool.connect() began, for the checkout event it leads to.
_request_started: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "foundation_telemetry_pool_request", default=None
)
# The pool whose connect() is running: the connect and checkout events it leads to are its own.
_connecting_pool: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "foundation_telemetry_connecting_pool", default=None
)


class _PoolTelemetry:
    """Pool event listeners and the ``Pool.connect`` hooks, turned into metrics and events."""

    def __init__(self, meter: metrics.Meter) -> None:
        # False once uninstrumented: a wrapper someone else stacked on ours may still call it.
        self.active = True
        # Re-entrant: SQLAlchemy checks in a connection that was never closed from the garbage
        # collector, which can interrupt this very thread inside one of our locked sections.
        self._lock = threading.RLock()
        self._pools: weakref.WeakKeyDictionary[Any, _PoolState] = weakref.WeakKeyDictionary()
        # Each connection record's pool, learned when it connects or is checked out inside that
        # pool's connect(): SQLAlchemy's events pass the record, and the record keeps its pool
        # only in a private slot.
        self._record_pools: weakref.WeakKeyDictionary[Any, _PoolState] = weakref.WeakKeyDictionary()
        # Pools collected since the last settle(); see state() for why this is a queue.
        self._collected: deque[_PoolState] = deque()
        self._numbers = itertools.count(1)
        self._count = meter.create_up_down_counter(
            "db.client.connection.count",
            unit="{connection}",
            description="The number of connections that are currently in the state described by the state attribute.",
        )
        self._max = meter.create_up_down_counter(
            "db.client.connection.max",
            unit="{connection}",
            description="The maximum number of open connections allowed.",
        )
        self._idle_max = meter.create_up_down_counter(
            "db.client.connection.idle.max",
            unit="{connection}",
            description="The maximum number of idle open connections allowed.",
        )
        self._pending = meter.create_up_down_counter(
            "db.client.connection.pending_requests",
            unit="{request}",
            description="The number of current pending requests for an open connection.",
        )
        self._timeouts = meter.create_counter(
            "db.client.connection.timeouts",
            unit="{timeout}",
            description="The number of connection timeouts that have occurred trying to obtain a connection from the pool.",
        )
        self._create_time = meter.create_histogram(
            "db.client.connection.create_time",
            unit="s",
            explicit_bucket_boundaries_advisory=_TIME_BUCKETS,
            description="The time it took to create a new connection.",
        )
        self._wait_time = meter.create_histogram(
            "db.client.connection.wait_time",
            unit="s",
            explicit_bucket_boundaries_advisory=_TIME_BUCKETS,
            description="The time it took to obtain an open connection from the pool.",
        )
        self._use_time = meter.create_histogram(
            "db.client.connection.use_time",
            unit="s",
            explicit_bucket_boundaries_advisory=_TIME_BUCKETS,
            description="The time between borrowing a connection and returning it to the pool.",
        )

    # --- pools -------------------------------------------------------------------------------

    def state(self, pool: Any) -> _PoolState:
        """Return the state of *pool*, registering and announcing it when first seen."""
        known = self._pools.get(pool)
        if known is not None:
            return known
        with self._lock:
            known = self._pools.get(pool)
            if known is not None:
                return known
            known = self._new_state(pool)
            self._pools[pool] = known
        attributes = {_A.POOL_NAME: known.name}
        if known.capacity is not None:
            self._max.add(known.capacity, attributes)
        if known.size is not None:
            self._idle_max.add(known.size, attributes)
        # Engine.dispose() replaces the pool; the old one's capacity leaves the totals with it.
        # The finalizer may run inside any code the garbage collector interrupts, including the
        # SDK's or our own locked sections, so it only queues (deque.append takes no lock) and
        # the next pool activity settles the books.
        weakref.finalize(pool, self._collected.append, known).atexit = False
        emit(
            taxonomy.CONNECTION_POOL_CREATED,
            None,
            **{
                _A.POOL_NAME: known.name,
                _A.POOL_SIZE: known.size if known.size is not None else -1,
            },
        )
        return known

    def _new_state(self, pool: Any) -> _PoolState:
        name = getattr(pool, "logging_name", None)  # set only when the engine was given one
        if not name:
            name = f"{_dialect_name(pool)}-{next(self._numbers)}"
        size = _size(pool)
        overflow = _max_overflow(pool)
        capacity = size + overflow if size is not None and overflow is not None else size
        if overflow is not None and overflow < 0:
            capacity = None  # unlimited overflow
        return _PoolState(name=str(name), size=size, capacity=capacity)

    def state_of_record(self, record: Any) -> _PoolState | None:
        """Return the state of *record*'s pool (``None`` for a record never seen connecting).

        A record belongs to one pool for life: the pool whose ``connect()`` was running when the
        record first appeared in a connect or checkout event.
        """
        known = self._record_pools.get(record)
        if known is None:
            pool = _connecting_pool.get()
            if pool is None:
                return None
            known = self.state(pool)
            self._record_pools[record] = known
        return known

    def settle(self) -> None:
        """Take the pools collected since the last call out of the totals."""
        while self._collected:
            self._forget(self._collected.popleft())

    @guarded(_COMPONENT)
    def _forget(self, known: _PoolState) -> None:
        """Take a garbage-collected pool's capacity and connections out of the totals."""
        attributes = {_A.POOL_NAME: known.name}
        if known.capacity is not None:
            self._max.add(-known.capacity, attributes)
        if known.size is not None:
            self._idle_max.add(-known.size, attributes)
        for state in ("idle", "used"):
            remaining = known.count(state)
            if remaining:
                self._count.add(-remaining, {**attributes, STATE: state})

    def _move(self, known: _PoolState, record: Any, to: str | None) -> None:
        """Move *record* to state *to* (None: no longer a pool connection), updating ``count``."""
        with self._lock:
            previous = known.records.get(record)
            if previous == to:
                return
            if to is None:
                known.records.pop(record, None)
            else:
                known.records[record] = to
                known.counts[to] += 1
            if previous is not None:
                known.counts[previous] -= 1
        if previous is not None:
            self._count.add(-1, {_A.POOL_NAME: known.name, STATE: previous})
        if to is not None:
            self._count.add(1, {_A.POOL_NAME: known.name, STATE: to})

    # --- pool events -------------------------------------------------------------------------

    @guarded(_COMPONENT)
    def on_connect(self, record: Any) -> None:
        """Count a newly opened DBAPI connection and the time it took to open."""
        known = self.state_of_record(record)
        if known is None:
            return
        started = getattr(record, "starttime", None)
        if isinstance(started, float | int) and started > 0:
            self._create_time.record(max(0.0, time.time() - started), {_A.POOL_NAME: known.name})
        self._move(known, record, "idle")

    @guarded(_COMPONENT)
    def on_checkout(self, record: Any) -> None:
        """Report a connection handed out, with the time the request waited."""
        known = self.state_of_record(record)
        if known is None:
            return
        now = time.monotonic()
        self._move(known, record, "used")
        known.checked_out_at[record] = now
        requested = _request_started.get()
        waited = max(0.0, now - requested) if requested is not None else 0.0
        if requested is not None:
            self._wait_time.record(waited, {_A.POOL_NAME: known.name})
        emit(
            taxonomy.CONNECTION_ACQUIRED,
            {_A.WAIT_TIME: waited},
            **{_A.POOL_NAME: known.name, _A.CONNECTIONS_USED: known.count("used")},
        )

    @guarded(_COMPONENT)
    def on_checkin(self, record: Any) -> None:
        """Report a connection back in the pool (after an invalidation it is already closed)."""
        known = self.state_of_record(record)
        if known is None:
            return  # checked out before the pool was instrumented: never counted
        if record in known.records:
            self._move(known, record, "idle")
        borrowed = known.checked_out_at.pop(record, None)
        if borrowed is not None:
            self._use_time.record(time.monotonic() - borrowed, {_A.POOL_NAME: known.name})
        used = known.count("used")
        emit(
            taxonomy.CONNECTION_RELEASED,
            None,
            **{_A.POOL_NAME: known.name, _A.CONNECTIONS_USED: used},
        )
        # Recovered once a connection comes back with nobody queueing for it; while requests
        # wait, each checkin is handed straight on and the pool stays exhausted.
        if known.exhausted and known.pending == 0:
            known.exhausted = False
            self._health(known, healthy=True)

    @guarded(_COMPONENT)
    def on_gone(self, record: Any) -> None:
        """Stop counting a connection that was closed or detached from the pool."""
        known = self.state_of_record(record)
        if known is not None:
            self._move(known, record, None)

    # --- Pool.connect ------------------------------------------------------------------------

    @guarded(_COMPONENT)
    def request_started(self, pool: Any) -> None:
        """Someone asked *pool* for a connection; report it if the pool is already full."""
        self.settle()
        known = self.state(pool)
        with self._lock:
            known.pending += 1
        self._pending.add(1, {_A.POOL_NAME: known.name})
        in_use = _checked_out(pool)
        if known.capacity is None or in_use is None or in_use < known.capacity:
            return
        emit(
            taxonomy.RESOURCE_EXHAUSTED,
            None,
            **{
                _A.RESOURCE_TYPE: "db.client.connection",
                _A.IN_USE: in_use,
                _A.CAPACITY: known.capacity,
                _A.POOL_NAME: known.name,
            },
        )
        if not known.exhausted:
            known.exhausted = True
            self._health(known, healthy=False)

    @guarded(_COMPONENT)
    def request_ended(self, pool: Any, error: BaseException | None) -> None:
        """Report the end of a request for a connection, failed with *error* when given."""
        known = self.state(pool)
        with self._lock:
            known.pending -= 1
        self._pending.add(-1, {_A.POOL_NAME: known.name})
        if error is None:
            return
        if _is_timeout(error):
            self._timeouts.add(1, {_A.POOL_NAME: known.name})
        emit(
            taxonomy.CONNECTION_FAILED,
            None,
            **{_A.POOL_NAME: known.name, _A.ERROR_TYPE: error_type(error)},
        )

    def _health(self, known: _PoolState, *, healthy: bool) -> None:
        emit(
            taxonomy.CONNECTION_POOL_HEALTH,
            None,
            **{
                _A.POOL_NAME: known.name,
                _A.HEALTHY: healthy,
                _A.POOL_SIZE: known.size if known.size is not None else -1,
                _A.CONNECTIONS_IDLE: known.count("idle"),
                _A.CONNECTIONS_USED: known.count("used"),
            },
        )

    # --- listeners (SQLAlchemy event signatures) ---------------------------------------------

    def listeners(self) -> dict[str, Callable[..., None]]:
        """One listener per pool event name, bound to this telemetry."""

        def connect(dbapi_connection: Any, record: Any) -> None:
            self.on_connect(record)

        def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
            self.on_checkout(record)

        def checkin(dbapi_connection: Any, record: Any) -> None:
            self.on_checkin(record)

        def gone(dbapi_connection: Any, record: Any) -> None:
            self.on_gone(record)

        return {
            "connect": connect,
            "checkout": checkout,
            "checkin": checkin,
            "close": gone,
            "detach": gone,
        }


def _dialect_name(pool: Any) -> str:
    """Return the name of the dialect the engine gave *pool* (``"pool"`` for a hand-built one)."""
    from sqlalchemy.engine import Dialect

    dialect = pool._dialect  # noqa: SLF001 - SQLAlchemy keeps the engine's dialect only here
    return str(dialect.name) if isinstance(dialect, Dialect) else "pool"


def _max_overflow(pool: Any) -> int | None:
    """Return a ``QueuePool``'s ``max_overflow`` (``None`` for pools without overflow)."""
    from sqlalchemy.pool import QueuePool

    if not isinstance(pool, QueuePool):
        return None
    return int(pool._max_overflow)  # noqa: SLF001 - QueuePool has no public getter for it


def _size(pool: Any) -> int | None:
    size = getattr(pool, "size", None)
    if callable(size):
        try:
            value = size()
        except Exception:  # noqa: BLE001 - pools without a fixed size (NullPool) raise here
            return None
        return value if isinstance(value, int) else None
    return None


def _checked_out(pool: Any) -> int | None:
    checked_out = getattr(pool, "checkedout", None)
    if not callable(checked_out):
        return None
    try:
        value = checked_out()
    except Exception:  # noqa: BLE001 - not every pool class can tell
        return None
    return value if isinstance(value, int) else None


def _is_timeout(error: BaseException) -> bool:
    from sqlalchemy import exc

    return isinstance(error, exc.TimeoutError)


def _wrap_connect(original: Callable[..., Any], telemetry: _PoolTelemetry) -> Callable[..., Any]:
    def connect(self: Any) -> Any:
        if not telemetry.active:
            return original(self)
        token = _request_started.set(time.monotonic())
        pool_token = _connecting_pool.set(self)
        telemetry.request_started(self)
        try:
            connection = original(self)
        except BaseException as error:
            telemetry.request_ended(self, error)
            raise
        finally:
            _connecting_pool.reset(pool_token)
            _request_started.reset(token)
        telemetry.request_ended(self, None)
        return connection

    return connect


@final
class SQLAlchemyPoolInstrumentor(PatchingInstrumentor[_PoolTelemetry]):
    """Instrument every SQLAlchemy connection pool in the process.

    ``instrument(meter_provider=None)`` adds pool event listeners and wraps ``Pool.connect``;
    ``uninstrument()`` removes both. Both are safe to call twice. Applied automatically by
    ``opentelemetry-instrument`` when SQLAlchemy >= 2.0 is installed (entry point
    ``foundation_sqlalchemy_pool``).

    .. versionadded:: 0.1.0
    """

    requirements = _INSTRUMENTS
    _listeners: dict[str, Callable[..., None]] | None = None

    def _apply(self, patches: Patches, **kwargs: Any) -> _PoolTelemetry:
        from sqlalchemy import event
        from sqlalchemy.pool import Pool

        telemetry = _PoolTelemetry(self._meter(kwargs))
        patches.install(Pool, "connect", lambda original: _wrap_connect(original, telemetry))
        self._listeners = telemetry.listeners()
        for name, listener in self._listeners.items():
            event.listen(Pool, name, listener)
        return telemetry

    def _release(self, telemetry: _PoolTelemetry) -> None:
        from sqlalchemy import event
        from sqlalchemy.pool import Pool

        listeners, self._listeners = self._listeners or {}, None
        for name, listener in listeners.items():
            if event.contains(Pool, name, listener):
                event.remove(Pool, name, listener)
