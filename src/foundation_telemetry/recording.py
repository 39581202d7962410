"""Capture telemetry in the emitting thread and wake whoever waits for it: the Recorder.

A :class:`Recorder` hooks into the SDK pipeline *before* any batching: a span processor sees span
starts and ends, a log-record processor sees log records and log-based events, and an
exemplar-reservoir hook (:func:`metric_capture_options`) sees every metric measurement as it is
recorded. Everything lands in a :class:`RecordBuffer`, the record store shared with the embedded
OTLP sink, so one query and expectation API (``foundation_telemetry.testing``) serves both.

Store protocol (what ``foundation_telemetry.testing`` needs from a store, and what the sink uses):

* ``RecordBuffer.append(kind, item, scope=0, thread=None)`` adds one entry, thread-safely. *item*
  is either a record view from ``_records`` (``SpanRecord``, ``EventRecord``, ``MetricPoint``;
  what the sink appends) or a raw SDK object the Recorder captured (turned into a view lazily).
* Every entry gets the next sequence number; ``next_seq`` is the number the next entry will get.
  ``read(since)`` returns the entries from sequence *since* on, plus how many of them the ring
  already dropped (``capacity`` bounds it; ``overflowed`` counts all drops).
* ``add_waiter(w)`` / ``remove_waiter(w)``: ``w.wake()`` is called after each append, outside
  the buffer lock, from the appending thread. :class:`ThreadWaiter` and :class:`AsyncWaiter`
  are the two waiters: a blocked thread and a blocked asyncio task.
* :func:`entry_records` turns an entry into the record views it stands for.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, Protocol, TypeAlias
from weakref import WeakSet

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import (
    AlignedHistogramBucketExemplarReservoir,
    ExemplarFilter,
    ExemplarReservoir,
    SimpleFixedSizeExemplarReservoir,
)
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.trace import SpanKind, StatusCode

from . import _compat
from ._health import SkipReason, count_skip
from ._records import EventRecord, MetricPoint, RecordKind, SpanEventView, SpanRecord

__all__ = [
    "DEFAULT_CAPACITY",
    "AsyncWaiter",
    "Entry",
    "MetricTap",
    "RecordBuffer",
    "Recorder",
    "RecordingLogProcessor",
    "RecordingSpanProcessor",
    "ThreadWaiter",
    "Waiter",
    "create_recorder",
    "entry_records",
    "follow_configure",
    "metric_capture_options",
    "metric_tap",
    "notify_configured",
    "use_recorder_class",
]

DEFAULT_CAPACITY: Final = 50_000
"""How many entries a buffer keeps before the oldest are dropped (and counted)."""

_COMPONENT: Final = "recorder"

Entry: TypeAlias = "tuple[RecordKind, Any, int, str | None] | list[Any]"
"""One captured item: ``(kind, item, scope, thread_name)`` (a list while a span is running)."""


class Waiter(Protocol):
    """Something woken after each append (called from the appending thread, never locked).

    ``kinds`` limits the wake-ups to entries of those kinds (``None``: every entry), so a test
    waiting for a span end is not woken by span starts or metric measurements.
    """

    kinds: frozenset[RecordKind] | None

    def wake(self) -> None:
        """Note that new entries may have arrived; must be cheap and must not raise."""


class ThreadWaiter:
    """Blocks a thread until the next append: an ``Event`` cleared before each look."""

    __slots__ = ("_event", "kinds")

    def __init__(self, kinds: frozenset[RecordKind] | None = None) -> None:
        self._event = threading.Event()
        self.kinds = kinds

    def wake(self) -> None:
        """Release a blocked :meth:`wait`."""
        self._event.set()

    def arm(self) -> None:
        """Forget earlier wake-ups; call before looking at the buffer, then :meth:`wait`."""
        self._event.clear()

    def wait(self, timeout: float | None) -> bool:
        """Block until woken or *timeout* seconds passed; ``True`` when woken."""
        return self._event.wait(timeout)


class AsyncWaiter:
    """Wakes an asyncio task from any thread through ``loop.call_soon_threadsafe``."""

    __slots__ = ("_event", "_loop", "_scheduled", "kinds")

    def __init__(
        self,
        kinds: frozenset[RecordKind] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._scheduled = False
        self.kinds = kinds

    def wake(self) -> None:
        """Schedule the event to be set on the waiter's loop (coalesced)."""
        if self._scheduled:
            return
        self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._fire)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self._scheduled = False

    def _fire(self) -> None:
        self._scheduled = False
        self._event.set()

    def arm(self) -> None:
        """Forget earlier wake-ups; call before looking at the buffer, then :meth:`wait`."""
        self._event.clear()

    async def wait(self, timeout: float | None) -> bool:
        """Wait until woken or *timeout* seconds passed; ``True`` when woken."""
        try:
            async with asyncio.timeout(timeout):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


class RecordBuffer:
    """A bounded, thread-safe ring of captured entries with sequence numbers and wake-ups.

    ``scope`` is the isolation token stamped on new entries that have no scoped parent; the
    pytest fixture advances it per test with :meth:`new_scope`.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            msg = f"`capacity` must be a positive int, got {capacity!r}."
            raise ValueError(msg)
        self.capacity: Final = capacity
        self._lock = threading.Lock()
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._appended = 0
        self._cleared = 0
        self._overflowed = 0
        self._waiters: tuple[Waiter, ...] = ()
        self.scope = 0

    @property
    def next_seq(self) -> int:
        """The sequence number the next appended entry gets."""
        return self._appended

    @property
    def overflowed(self) -> int:
        """How many entries the ring dropped because it was full."""
        return self._overflowed

    def append(
        self, kind: RecordKind, item: Any, scope: int = 0, thread: str | None = None
    ) -> None:
        """Add one entry and wake the waiters (outside the lock)."""
        self._store((kind, item, scope, thread))

    def _store(self, entry: Entry) -> None:
        lock = self._lock
        entries = self._entries
        lock.acquire()
        try:
            if len(entries) == self.capacity:
                self._overflowed += 1
            entries.append(entry)
            self._appended += 1
        finally:
            lock.release()
        waiters = self._waiters
        if waiters:
            kind = entry[0]
            for waiter in waiters:
                kinds = waiter.kinds
                if kinds is None or kind in kinds:
                    waiter.wake()

    def read(self, since: int = 0) -> tuple[int, list[Entry], int]:
        """Return ``(first_seq, entries, dropped)`` for the entries from sequence *since* on.

        *dropped* counts entries at or after *since* that are no longer in the buffer (the ring
        overflowed or :meth:`clear` discarded them).
        """
        with self._lock:
            first = self._appended - len(self._entries)
            start = max(since, first)
            wanted = self._appended - start
            if wanted <= 0:
                return start, [], max(0, first - since)
            tail = list(itertools.islice(reversed(self._entries), wanted))
        tail.reverse()
        return start, tail, max(0, first - since)

    def clear(self) -> None:
        """Drop every entry (sequence numbers keep counting)."""
        with self._lock:
            self._cleared += len(self._entries)
            self._entries.clear()

    def new_scope(self) -> int:
        """Start a new isolation scope, drop the old entries, and return the scope token."""
        self.clear()
        self.scope += 1
        return self.scope

    def add_waiter(self, waiter: Waiter) -> None:
        """Call ``waiter.wake()`` after every future append."""
        with self._lock:
            self._waiters = (*self._waiters, waiter)

    def remove_waiter(self, waiter: Waiter) -> None:
        """Stop waking *waiter* (no error if it was not added)."""
        with self._lock:
            self._waiters = tuple(w for w in self._waiters if w is not waiter)


class _ThreadNames:
    """The current thread's name, cached in a thread-local (cheap, and dies with the thread)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def current(self) -> str:
        try:
            return self._local.name  # type: ignore[no-any-return]
        except AttributeError:
            name: str = threading.current_thread().name
            self._local.name = name
            return name


_thread_names = _ThreadNames()


class RecordingSpanProcessor(SpanProcessor):
    """Capture span starts and ends into a :class:`RecordBuffer`; never raises.

    The hot path stores the SDK span object itself (no copy) and builds ``SpanRecord`` views only
    when a query or an expectation reads them.
    """

    def __init__(self, buffer: RecordBuffer) -> None:
        self._buffer = buffer
        # span_id -> the span's start entry, while the span runs: children and log records
        # inherit the isolation scope of the span they belong to.
        self._live: dict[int, list[Any]] = {}
        self._last_end: ReadableSpan | None = None

    def scope_of(self, span_id: int | None) -> int:
        """Return the scope of a running span, or the buffer's current scope."""
        if span_id:
            entry = self._live.get(span_id)
            if entry is not None:
                return entry[2]  # type: ignore[no-any-return]
        return self._buffer.scope

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        """Record the start (the scope comes from a running parent, else the current scope)."""
        try:
            parent = span.parent
            scope = self._buffer.scope
            if parent is not None:
                parent_entry = self._live.get(parent.span_id)
                if parent_entry is not None:
                    scope = parent_entry[2]
            entry = [RecordKind.SPAN_START, span, scope, _thread_names.current()]
            if self._live.setdefault(span.context.span_id, entry) is not entry:
                return  # this processor is registered twice on the provider
            self._buffer._store(entry)
        except Exception as error:  # noqa: BLE001 - never raise into the application
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item="span_start", error=error)

    def on_end(self, span: ReadableSpan) -> None:
        """Record the end; the start entry now points at the (smaller) ended span too."""
        try:
            if span is self._last_end:
                return  # this processor is registered twice on the provider
            self._last_end = span
            start = self._live.pop(span.context.span_id, None)
            if start is None:
                scope = self._buffer.scope
            else:
                start[1] = span  # release the live SDK span: keep one object per span
                scope = start[2]
            self._buffer._store((RecordKind.SPAN_END, span, scope, _thread_names.current()))
        except Exception as error:  # noqa: BLE001 - never raise into the application
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item="span_end", error=error)

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered outside the record buffer."""
        return True


class RecordingLogProcessor(_compat.LogRecordProcessor):
    """Capture log records and log-based events (``event_name``) into a buffer; never raises."""

    def __init__(self, buffer: RecordBuffer, spans: RecordingSpanProcessor) -> None:
        self._buffer = buffer
        self._spans = spans
        self._last: Any = None

    def on_emit(self, log_record: _compat.ReadWriteLogRecord) -> None:
        """Record the log record (an EVENT when it carries an ``event_name``)."""
        try:
            if log_record is self._last:
                return  # this processor is registered twice on the provider
            self._last = log_record
            record = log_record.log_record
            kind = RecordKind.EVENT if _compat.event_name_of(log_record) else RecordKind.LOG
            scope = self._spans.scope_of(record.span_id)
            self._buffer._store((kind, log_record, scope, _thread_names.current()))
        except Exception as error:  # noqa: BLE001 - never raise into the application
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item="log", error=error)

    def emit(self, log_record: _compat.ReadWriteLogRecord) -> None:
        """Older SDK spelling of :meth:`on_emit`."""
        self.on_emit(log_record)

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered outside the record buffer."""
        return True


# --- metrics -------------------------------------------------------------------------------


class _InstrumentInfo:
    __slots__ = ("kind", "name", "unit")

    def __init__(self, name: str, kind: str, unit: str) -> None:
        self.name = name
        self.kind = kind
        self.unit = unit


_UNKNOWN_INSTRUMENT: Final = _InstrumentInfo("<unknown instrument>", "unknown", "")


def _instrument_kind(instrument: object) -> str:
    """``Counter`` -> ``counter``, ``ObservableUpDownCounter`` -> ``observable_up_down_counter``."""
    name = type(instrument).__name__.lstrip("_")
    for prefix in ("Proxy",):
        name = name.removeprefix(prefix)
    out: list[str] = []
    for char in name:
        if char.isupper() and out:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


class MetricTap:
    """Receives every measurement offered to the capture reservoirs and hands it to recorders.

    One process-wide tap (:func:`metric_tap`) feeds every subscribed :class:`Recorder`, whatever
    MeterProvider the measurement was recorded on, as long as that provider was built with
    :func:`metric_capture_options`.
    """

    def __init__(self) -> None:
        self._subscribers: tuple[tuple[RecordBuffer, RecordingSpanProcessor], ...] = ()
        self._lock = threading.Lock()
        self._last = threading.local()

    @property
    def active(self) -> bool:
        """Whether any recorder listens."""
        return bool(self._subscribers)

    def subscribe(self, buffer: RecordBuffer, spans: RecordingSpanProcessor) -> None:
        """Start feeding *buffer* (idempotent)."""
        with self._lock:
            if all(b is not buffer for b, _ in self._subscribers):
                self._subscribers = (*self._subscribers, (buffer, spans))

    def unsubscribe(self, buffer: RecordBuffer) -> None:
        """Stop feeding *buffer*."""
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s[0] is not buffer)

    def offer(
        self,
        info: _InstrumentInfo,
        value: float,
        time_unix_nano: int,
        attributes: Mapping[str, Any] | None,
        context: Context | None,
    ) -> None:
        """Record one measurement (once, even when several readers or views offer it)."""
        subscribers = self._subscribers
        if not subscribers:
            return
        last = self._last
        key = (info.name, time_unix_nano)
        if getattr(last, "key", None) == key:
            return  # the same measurement offered by another reader's or view's storage
        last.key = key
        span_id = trace.get_current_span(context).get_span_context().span_id
        item = (info, value, time_unix_nano, dict(attributes) if attributes else {})
        thread = _thread_names.current()
        for buffer, spans in subscribers:
            buffer._store((RecordKind.METRIC, item, spans.scope_of(span_id), thread))


_TAP: Final = MetricTap()


def metric_tap() -> MetricTap:
    """Return the process-wide tap the capture reservoirs report to."""
    return _TAP


class _CaptureReservoir(ExemplarReservoir):
    """Reports each offered measurement to the tap, then keeps the SDK's exemplar behaviour."""

    def __init__(self, inner: ExemplarReservoir, info: _InstrumentInfo, tap: MetricTap) -> None:
        self._inner = inner
        self._info = info
        self._tap = tap

    def offer(
        self,
        value: float,
        time_unix_nano: int,
        attributes: Any,
        context: Context,
    ) -> None:
        """Report the measurement; forward it to the default reservoir when traced-sampled."""
        try:
            self._tap.offer(self._info, value, time_unix_nano, attributes, context)
        except Exception as error:  # noqa: BLE001 - never raise into the application
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=self._info.name, error=error)
        # Our filter samples everything so offer() runs per measurement; the SDK's default
        # (trace-based) filter decides what becomes an exemplar, exactly as without us.
        if trace.get_current_span(context).get_span_context().trace_flags.sampled:
            self._inner.offer(value, time_unix_nano, attributes, context)

    def collect(self, point_attributes: Any) -> list[Any]:
        """Return the default reservoir's exemplars."""
        return self._inner.collect(point_attributes)


class _CaptureFilter(ExemplarFilter):
    """Lets every measurement reach the reservoir while a recorder listens (else trace-based)."""

    def __init__(self, tap: MetricTap) -> None:
        self._tap = tap

    def should_sample(
        self, value: float, time_unix_nano: int, attributes: Any, context: Context
    ) -> bool:
        """Sample while recording; otherwise only measurements inside a sampled span."""
        if self._tap.active:
            return True
        return bool(trace.get_current_span(context).get_span_context().trace_flags.sampled)


def _find_instrument() -> _InstrumentInfo:
    """Identify the instrument whose aggregation is being built.

    The SDK calls a View's ``exemplar_reservoir_factory`` from the aggregation's
    ``_create_aggregation(instrument, ...)``, once per instrument and attribute set, and passes no
    instrument to the reservoir; the instrument is that caller's ``instrument`` argument.
    """
    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            break
        instrument = frame.f_locals.get("instrument")
        name = getattr(instrument, "name", None)
        if isinstance(name, str):
            return _InstrumentInfo(
                name, _instrument_kind(instrument), str(getattr(instrument, "unit", "") or "")
            )
        frame = frame.f_back  # type: ignore[assignment]
    count_skip(_COMPONENT, SkipReason.CONTRACT_VIOLATION, item="metric instrument unknown")
    return _UNKNOWN_INSTRUMENT


def _reservoir_factory(tap: MetricTap) -> Callable[[type[Any]], Callable[..., ExemplarReservoir]]:
    def factory(aggregation_type: type[Any]) -> Callable[..., ExemplarReservoir]:
        info = _find_instrument()
        inner: Callable[..., ExemplarReservoir]
        if "ExplicitBucketHistogram" in aggregation_type.__name__:
            inner = AlignedHistogramBucketExemplarReservoir
        else:
            inner = SimpleFixedSizeExemplarReservoir

        def build(**kwargs: Any) -> ExemplarReservoir:
            return _CaptureReservoir(inner(**kwargs), info, tap)

        return build

    return factory


def metric_capture_options(recorder: Recorder | None = None) -> dict[str, Any]:
    """``MeterProvider`` keyword arguments that report every measurement to recorders.

    Pass them to any SDK ``MeterProvider`` (``configure()`` does): ``MeterProvider(
    metric_readers=[...], **metric_capture_options())``. A catch-all View carries the capture
    reservoir, and the exemplar filter lets every measurement reach it while a recorder listens
    (exemplars themselves stay trace-based, as with the SDK default). Measurements go to every
    recorder subscribed to the process-wide tap; *recorder*, when given, is subscribed now. The
    provider needs at least one metric reader: without one the SDK aggregates nothing and offers
    nothing. Views of your own that match an instrument create a second stream next to the
    catch-all one.
    """
    if recorder is not None:
        _TAP.subscribe(recorder.buffer, recorder.span_processor)
    factory = _reservoir_factory(_TAP)
    return {
        "views": [View(instrument_name="*", exemplar_reservoir_factory=factory)],
        "exemplar_filter": _CaptureFilter(_TAP),
    }


# --- record views --------------------------------------------------------------------------


_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_KIND_NAMES: Final = {kind: kind.name for kind in SpanKind}
_STATUS_NAMES: Final = {code: code.name for code in StatusCode}


def _span_record(span: ReadableSpan, thread: str | None, *, started: bool) -> SpanRecord:
    # Built when a query or a waiting expectation reads the entry, not on the hot path; kept
    # lean because a woken waiter builds one before it can return.
    context = span.context
    parent = span.parent
    attributes = span.attributes
    scope = span.instrumentation_scope
    resource = span.resource
    events: tuple[SpanEventView, ...] = ()
    if started:
        status, description = "UNSET", None
    else:
        status = _STATUS_NAMES[span.status.status_code]
        description = span.status.description
        raw_events = span.events
        events = (
            tuple(
                SpanEventView(e.name, dict(e.attributes) if e.attributes else {}, e.timestamp)
                for e in raw_events
            )
            if raw_events
            else ()
        )
    links = span.links
    return SpanRecord(
        name=span.name,
        attributes=dict(attributes) if attributes else {},
        trace_id=context.trace_id if context else 0,
        span_id=context.span_id if context else 0,
        parent_span_id=parent.span_id if parent is not None else None,
        start_time_ns=span.start_time or 0,
        end_time_ns=None if started else span.end_time,
        kind=_KIND_NAMES[span.kind],
        status=status,
        status_description=description,
        events=events,
        links=tuple((link.context.trace_id, link.context.span_id) for link in links)
        if links
        else (),
        # Resource attributes are immutable: share them instead of copying per record.
        resource=resource.attributes if resource is not None else _EMPTY,
        scope=scope.name if scope is not None else None,
        thread=thread,
    )


def _log_record(item: Any, kind: RecordKind, thread: str | None) -> EventRecord:
    record = item.log_record
    event_name = getattr(record, "event_name", None)
    severity = record.severity_text or (
        record.severity_number.name if record.severity_number is not None else None
    )
    scope = item.instrumentation_scope
    resource = item.resource
    name = event_name or (str(record.body) if record.body is not None else "")
    return EventRecord(
        name=name,
        attributes=dict(record.attributes or {}),
        timestamp_ns=record.timestamp or record.observed_timestamp or 0,
        kind=kind,
        body=record.body,
        severity=severity,
        trace_id=record.trace_id or None,
        span_id=record.span_id or None,
        resource=resource.attributes if resource is not None else _EMPTY,
        scope=scope.name if scope is not None else None,
        thread=thread,
    )


def _metric_point(item: Any, thread: str | None) -> MetricPoint:
    info, value, time_unix_nano, attributes = item
    return MetricPoint(
        name=info.name,
        attributes=attributes,
        value=value,
        timestamp_ns=time_unix_nano,
        instrument_kind=info.kind,
        unit=info.unit,
        thread=thread,
    )


def entry_records(
    entry: Entry, *, spans: bool = True
) -> list[SpanRecord | EventRecord | MetricPoint]:
    """Return the record views one entry stands for.

    An ended span stands for its ``SpanRecord`` followed by one ``EventRecord`` (kind
    ``SPAN_EVENT``) per span event: span events become visible when their span ends. With
    ``spans=False`` span entries give only their span events (cheaper for event waits).
    """
    kind, item, _scope, thread = entry
    if not spans and kind in (RecordKind.SPAN_START, RecordKind.SPAN_END):
        if kind is RecordKind.SPAN_START:
            return []
        if isinstance(item, SpanRecord):
            return list(_span_events(item))
        return list(_raw_span_events(item, thread))
    if isinstance(item, SpanRecord | EventRecord | MetricPoint):
        if isinstance(item, SpanRecord) and kind is RecordKind.SPAN_END:
            return [item, *_span_events(item)]
        return [item]
    if kind is RecordKind.SPAN_END:
        record = _span_record(item, thread, started=False)
        return [record, *_span_events(record)]
    if kind is RecordKind.SPAN_START:
        return [_span_record(item, thread, started=True)]
    if kind is RecordKind.METRIC:
        return [_metric_point(item, thread)]
    return [_log_record(item, kind, thread)]


def _span_events(span: SpanRecord) -> list[EventRecord]:
    return [
        EventRecord(
            name=event.name,
            attributes=event.attributes,
            timestamp_ns=event.timestamp_ns,
            kind=RecordKind.SPAN_EVENT,
            trace_id=span.trace_id,
            span_id=span.span_id,
            resource=span.resource,
            scope=span.scope,
            thread=span.thread,
        )
        for event in span.events
    ]


def _raw_span_events(span: ReadableSpan, thread: str | None) -> list[EventRecord]:
    events = span.events
    if not events:
        return []
    context = span.context
    scope = span.instrumentation_scope
    resource = span.resource
    trace_id = context.trace_id if context else 0
    span_id = context.span_id if context else 0
    return [
        EventRecord(
            name=event.name,
            attributes=dict(event.attributes) if event.attributes else {},
            timestamp_ns=event.timestamp,
            kind=RecordKind.SPAN_EVENT,
            trace_id=trace_id,
            span_id=span_id,
            resource=resource.attributes if resource is not None else _EMPTY,
            scope=scope.name if scope is not None else None,
            thread=thread,
        )
        for event in events
    ]


# --- the recorder --------------------------------------------------------------------------


class Recorder:
    """Captures spans, span events, logs, events and metric measurements into one buffer.

    Attach it to providers with :meth:`attach`; query and wait on it with the API in
    ``foundation_telemetry.testing`` (whose ``Recorder`` is this class plus that API).

    Args:
        capacity: entries kept before the oldest are dropped (drops are counted and reported).
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.buffer = RecordBuffer(capacity)
        self.span_processor = RecordingSpanProcessor(self.buffer)
        self.log_processor = RecordingLogProcessor(self.buffer, self.span_processor)
        self._providers: WeakSet[Any] = WeakSet()
        self._lock = threading.Lock()

    def attach(
        self,
        telemetry: Any = None,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        logger_provider: Any = None,
    ) -> None:
        """Capture from these SDK providers (each at most once; ``None`` is skipped).

        *telemetry* is anything with ``tracer_provider`` / ``meter_provider`` /
        ``logger_provider`` attributes (a ``Telemetry``); explicit keywords win. Spans and logs
        are captured from any SDK ``TracerProvider``/``LoggerProvider`` (this adds the capture
        processors). Measurements are captured from every ``MeterProvider`` built with
        :func:`metric_capture_options`; passing any *meter_provider* subscribes this recorder.
        """
        if telemetry is not None:
            tracer_provider = tracer_provider or getattr(telemetry, "tracer_provider", None)
            meter_provider = meter_provider or getattr(telemetry, "meter_provider", None)
            logger_provider = logger_provider or getattr(telemetry, "logger_provider", None)
        if tracer_provider is not None and not isinstance(tracer_provider, TracerProvider):
            msg = f"`tracer_provider` must be an SDK TracerProvider, got {tracer_provider!r}."
            raise TypeError(msg)
        if logger_provider is not None and not isinstance(logger_provider, _compat.LoggerProvider):
            msg = f"`logger_provider` must be an SDK LoggerProvider, got {logger_provider!r}."
            raise TypeError(msg)
        with self._lock:
            if tracer_provider is not None and self._adopt(tracer_provider):
                tracer_provider.add_span_processor(self.span_processor)
            if logger_provider is not None and self._adopt(logger_provider):
                logger_provider.add_log_record_processor(self.log_processor)
            if meter_provider is not None:
                _TAP.subscribe(self.buffer, self.span_processor)

    def _adopt(self, provider: Any) -> bool:
        if provider in self._providers:
            return False
        self._providers.add(provider)
        return True

    def attached_to(self, provider: Any) -> bool:
        """Whether :meth:`attach` already hooked into *provider*."""
        return provider in self._providers

    def detach_metrics(self) -> None:
        """Stop receiving metric measurements."""
        _TAP.unsubscribe(self.buffer)


_recorder_class: type[Recorder] = Recorder


def use_recorder_class(cls: type[Recorder]) -> None:
    """Make :func:`create_recorder` build *cls*.

    ``foundation_telemetry.testing`` registers its ``Recorder`` (which adds the query and
    expectation API) when it is imported.
    """
    global _recorder_class
    if not (isinstance(cls, type) and issubclass(cls, Recorder)):
        msg = f"`cls` must be a subclass of recording.Recorder, got {cls!r}."
        raise TypeError(msg)
    _recorder_class = cls


def create_recorder(capacity: int = DEFAULT_CAPACITY) -> Recorder:
    """Build a recorder, with the query and expectation API when available.

    That is the testing ``Recorder`` once ``foundation_telemetry.testing`` was imported (the
    pytest plugin imports it), else the core capture-only one.
    """
    return _recorder_class(capacity)


_session_recorders: WeakSet[Recorder] = WeakSet()


def follow_configure(recorder: Recorder) -> None:
    """Have *recorder* attach to the providers of every later ``configure()`` (the fixture's)."""
    _session_recorders.add(recorder)


def notify_configured(telemetry: Any) -> None:
    """Attach the recorders registered with :func:`follow_configure` to new providers.

    ``configure()`` calls this with the ``Telemetry`` it built; it never raises.
    """
    for recorder in list(_session_recorders):
        try:
            recorder.attach(telemetry)
        except Exception as error:  # noqa: BLE001 - configure() must not fail for a recorder
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item="attach", error=error)
