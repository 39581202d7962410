"""The query and expectation API, written once for any record store.

:class:`TelemetryQueries` is a mixin: a class that can hand out a
:class:`~foundation_telemetry.recording.RecordBuffer` (``_telemetry_buffer()``) gets every query
(``spans()``, ``events()``, ``logs()``, ``metric_points()``), every expectation
(``assert_telemetry_event`` and friends) and the waits. The testing ``Recorder``, the pytest
``telemetry`` fixture and the embedded OTLP sink all use it, so an assertion reads the same
whether the telemetry was captured in process or really crossed the wire.

To serve it from another store, subclass and implement ``_telemetry_buffer()``; optionally
override ``_telemetry_scope()`` (an isolation token; records with another scope are foreign),
``_telemetry_origin()`` (the sequence number queries start from) and ``_telemetry_timeout()``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar

from .. import taxonomy
from ._buffer import RecordBuffer
from ._domain import DomainWaits
from ._expectations import (
    AnyExpectation,
    Collector,
    EventExpectation,
    RefuteExpectation,
    SequenceExpectation,
    resolve_timeout,
)
from ._failures import TelemetryAssertionError
from ._matchers import (
    Record,
    RecordMatcher,
    is_ended_span,
    is_event,
    is_log,
    is_metric,
    merge_attributes,
    step_matchers,
)
from ._metric_wait import Aggregate, MetricThresholdWait, check_aggregate, metric_matcher
from ._records import EventRecord, MetricPoint, SpanRecord
from ._snapshot import KINDS, snapshot_records
from ._timeouts import check_timeout, default_refute_window, default_timeout
from ._trace_shape import TraceExpectation
from ._views import entry_records
from ._watch import Watch, run_async, run_sync

__all__ = ["Captured", "RecordQueries", "TelemetryQueries"]

T = TypeVar("T")

DEFAULT_POLL_INTERVAL: Final = 0.01
"""Seconds between two calls of a ``wait_for`` predicate."""

_HEALTHY_STATUSES: Final = frozenset({"healthy", "ok", "up", "serving"})


def _event_matcher(
    name: Any, attributes: Mapping[str, Any] | None, attrs: Mapping[str, Any]
) -> RecordMatcher:
    _require_name(name, "event")
    return RecordMatcher("event", is_event, name, merge_attributes(attributes, attrs))


def _require_name(name: Any, what: str) -> None:
    if name is None or name == "":
        msg = (
            f"A {what} name is required: an expectation with nothing to match would pass vacuously."
        )
        raise ValueError(msg)


class RecordQueries:
    """The read queries over some list of records (``records()``), shared by every reader."""

    def records(self) -> list[Record]:
        """Return every record in view, oldest first."""
        raise NotImplementedError

    def _select(
        self,
        what: str,
        accepts: Callable[[Record], bool],
        name: Any,
        attributes: Mapping[str, Any] | None,
        attrs: Mapping[str, Any],
    ) -> list[Any]:
        matcher = RecordMatcher(what, accepts, name, merge_attributes(attributes, attrs))
        return [record for record in self.records() if matcher.matches(record)]

    def spans(
        self, name: Any = None, *, attributes: Mapping[str, Any] | None = None, **attrs: Any
    ) -> list[SpanRecord]:
        """Return the ended spans, optionally by name (exact, glob, regex) and attribute subset."""
        return self._select("span", is_ended_span, name, attributes, attrs)

    def events(
        self, name: Any = None, *, attributes: Mapping[str, Any] | None = None, **attrs: Any
    ) -> list[EventRecord]:
        """Return log-based events and span events, optionally by name and attribute subset."""
        return self._select("event", is_event, name, attributes, attrs)

    def logs(
        self, name: Any = None, *, attributes: Mapping[str, Any] | None = None, **attrs: Any
    ) -> list[EventRecord]:
        """Return log records (with or without an event name), optionally filtered."""
        return self._select("log", is_log, name, attributes, attrs)

    def metric_points(
        self, name: Any = None, *, attributes: Mapping[str, Any] | None = None, **attrs: Any
    ) -> list[MetricPoint]:
        """Return metric measurements (Recorder) or exported data points (sink), filtered."""
        return self._select("metric", is_metric, name, attributes, attrs)

    def snapshot(
        self, *, kinds: Iterable[str] = KINDS, timestamps: bool = False, resource: bool = False
    ) -> list[dict[str, Any]]:
        """Return the records as plain, normalized dicts for ``==`` or inline-snapshot.

        Trace/span ids are renumbered in order of appearance, host/pid/paths are stable
        placeholders; timestamps (relative, ns) and resources are included only when asked.
        """
        return snapshot_records(
            self.records(), kinds=kinds, timestamps=timestamps, resource=resource
        )


class Captured(RecordQueries):
    """What ``capture_telemetry()`` yields: the records captured inside the block."""

    def __init__(self, source: TelemetryQueries) -> None:
        self._source = source
        self._start = source._telemetry_buffer().next_seq
        self._end: int | None = None

    def _close(self, end: int) -> None:
        self._end = end

    def records(self) -> list[Record]:
        """Return every record captured inside the block (so far, while it runs)."""
        return self._source._records_between(self._start, self._end)


class TelemetryQueries(RecordQueries, DomainWaits):
    """Queries, expectations and waits over a record store (see the module docstring)."""

    # --- the store hooks ---------------------------------------------------------------------

    def _telemetry_buffer(self) -> RecordBuffer:
        raise NotImplementedError

    def _telemetry_scope(self) -> int | None:
        return None

    def _telemetry_origin(self) -> int:
        return 0

    def _telemetry_timeout(self) -> float:
        return default_timeout()

    def _telemetry_refute_window(self) -> float:
        return default_refute_window()

    def _records_between(self, start: int, end: int | None = None) -> list[Record]:
        buffer = self._telemetry_buffer()
        first, entries, _ = buffer.read(start)
        scope = self._telemetry_scope()
        out: list[Record] = []
        for offset, entry in enumerate(entries):
            if end is not None and first + offset >= end:
                break
            if scope is None or entry[2] == scope:
                out.extend(entry_records(entry))
        return out

    # --- queries -----------------------------------------------------------------------------

    def records(self) -> list[Record]:
        """Every record captured (in this test, for the fixture), oldest first."""
        return self._records_between(self._telemetry_origin())

    # --- collectors and expectations ---------------------------------------------------------

    def attach_collector(
        self,
        name: Any,
        *,
        count: int = 1,
        attributes: Mapping[str, Any] | None = None,
        **attrs: Any,
    ) -> Collector:
        """Start collecting events named *name* now; wait for them later with ``wait()``."""
        return Collector(self, _event_matcher(name, attributes, attrs), count)

    def collect_event(
        self,
        name: Any,
        action: Callable[[], object],
        *,
        timeout: float | None = None,
        attributes: Mapping[str, Any] | None = None,
        **attrs: Any,
    ) -> EventRecord:
        """Attach a collector, run *action()*, wait for the event and return it."""
        __tracebackhide__ = True
        collector = self.attach_collector(name, attributes=attributes, **attrs)
        with collector:
            action()
            return collector.wait(timeout)  # type: ignore[no-any-return]

    def assert_telemetry_event(
        self,
        name: Any,
        *,
        count: int = 1,
        timeout: float | None = None,
        attributes: Mapping[str, Any] | None = None,
        **attrs: Any,
    ) -> EventExpectation:
        """Expect *count* events named *name* (with these attributes) by the end of the block.

        The deadline starts when the block is entered. The yielded object's ``.record`` (first
        match) and ``.records`` are filled on exit.
        """
        return EventExpectation(self, _event_matcher(name, attributes, attrs), count, timeout)

    def refute_telemetry_event(
        self,
        name: Any,
        *,
        within: float | None = None,
        attributes: Mapping[str, Any] | None = None,
        **attrs: Any,
    ) -> RefuteExpectation:
        """Expect no event named *name* from entering the block until *within* seconds later."""
        return RefuteExpectation(self, _event_matcher(name, attributes, attrs), within)

    def assert_telemetry_sequence(
        self, steps: Sequence[Any], *, strict: bool = False, timeout: float | None = None
    ) -> SequenceExpectation:
        """Expect events in this order (a step is a name or ``(name, attributes)``).

        Other events may come between steps unless *strict*. ``.records`` holds the matches.
        """
        return SequenceExpectation(self, step_matchers(steps), strict, timeout)

    def assert_telemetry_any(
        self, steps: Sequence[Any], *, timeout: float | None = None
    ) -> AnyExpectation:
        """Expect at least one of these events; ``.record`` and ``.index`` say which came."""
        return AnyExpectation(self, step_matchers(steps), timeout)

    def expect_span(
        self,
        name: Any,
        *,
        attributes: Mapping[str, Any] | None = None,
        parent: Any = None,
        status: Any = None,
        count: int = 1,
        timeout: float | None = None,
        **attrs: Any,
    ) -> EventExpectation:
        """Expect a span named *name* to end by the end of the block.

        *parent* is the parent span's name (glob or matcher), a ``SpanRecord`` or ``ROOT``;
        *status* is ``"OK"``, ``"ERROR"``, ``"UNSET"`` or a matcher.
        """
        _require_name(name, "span")
        fields = (
            {}
            if status is None
            else {"status": status.upper() if isinstance(status, str) else status}
        )
        matcher = RecordMatcher(
            "span", is_ended_span, name, merge_attributes(attributes, attrs), fields, parent
        )
        return EventExpectation(self, matcher, count, timeout)

    def expect_trace(
        self, shape: Any, *, ordered: bool = False, timeout: float | None = None
    ) -> TraceExpectation:
        """Expect a span tree of this shape among the spans ended by the end of the block."""
        return TraceExpectation(self, shape, ordered, timeout)

    @contextlib.contextmanager
    def capture_telemetry(self) -> Iterator[Captured]:
        """Yield a :class:`Captured` holding everything captured inside the block."""
        captured = Captured(self)
        try:
            yield captured
        finally:
            captured._close(self._telemetry_buffer().next_seq)

    # --- waits -------------------------------------------------------------------------------

    def _metric_wait(
        self,
        name: Any,
        threshold: Any,
        aggregate: str | Aggregate,
        attributes: Mapping[str, Any] | None,
        timeout: float | None,
    ) -> MetricThresholdWait:
        _require_name(name, "metric")
        return MetricThresholdWait(
            self,
            metric_matcher(name, dict(attributes or {})),
            threshold,
            check_aggregate(aggregate),
            resolve_timeout(self, timeout),
        )

    def wait_for_metric_threshold(
        self,
        name: Any,
        threshold: Any,
        *,
        aggregate: str | Aggregate = "sum",
        attributes: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> float:
        """Block until the metric's aggregate reaches *threshold*; return the aggregate.

        Measurements count from the start of the test (fixture) or of the recording, whatever
        the temporality. *aggregate* is sum, count, last, min, max, mean or a callable over the
        points. A numeric threshold means ``>=``; anything else is a matcher on the value.

        Raises:
            TelemetryAssertionError: not reached within *timeout*; never returns ``None``.
        """
        __tracebackhide__ = True
        wait = self._metric_wait(name, threshold, aggregate, attributes, timeout)
        run_sync(wait, wait.deadline)
        assert wait.value is not None
        return wait.value

    async def wait_for_metric_threshold_async(
        self,
        name: Any,
        threshold: Any,
        *,
        aggregate: str | Aggregate = "sum",
        attributes: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> float:
        """Await :meth:`wait_for_metric_threshold` without blocking the event loop."""
        __tracebackhide__ = True
        wait = self._metric_wait(name, threshold, aggregate, attributes, timeout)
        await run_async(wait, wait.deadline)
        assert wait.value is not None
        return wait.value

    def _service_ready(self, name: str, timeout: float | None) -> AnyExpectation:
        if not isinstance(name, str) or not name:
            msg = f"`name` must be the service name (a non-empty str), got {name!r}."
            raise ValueError(msg)
        service = {taxonomy.Attr.SERVICE_NAME: name}
        started = RecordMatcher("event", is_event, taxonomy.SERVICE_STARTED, service)
        healthy = RecordMatcher(
            "event",
            is_event,
            taxonomy.SERVICE_HEALTH_CHECK,
            {**service, taxonomy.Attr.HEALTHY: True},
        )
        status = RecordMatcher(
            "event",
            is_event,
            taxonomy.SERVICE_HEALTH_CHECK,
            {**service, taxonomy.Attr.STATUS: _healthy_status},
        )
        expectation = AnyExpectation(self, [started, healthy, status], timeout)
        return expectation

    def wait_for_service_ready(self, name: str, timeout: float | None = None) -> EventRecord:
        """Block until service *name* emitted ``foundation.service.started`` or a healthy check.

        Events since the start of the test (fixture) or recording count, so calling it after
        the service started is fine.
        """
        __tracebackhide__ = True
        expectation = self._service_ready(name, timeout)
        _start_at(expectation, self._telemetry_origin())
        run_sync(expectation, expectation._deadline)
        return expectation.record  # type: ignore[return-value]

    async def wait_for_service_ready_async(
        self, name: str, timeout: float | None = None
    ) -> EventRecord:
        """Await :meth:`wait_for_service_ready` without blocking the event loop."""
        __tracebackhide__ = True
        expectation = self._service_ready(name, timeout)
        _start_at(expectation, self._telemetry_origin())
        await run_async(expectation, expectation._deadline)
        return expectation.record  # type: ignore[return-value]

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float | None = None,
        interval: float = DEFAULT_POLL_INTERVAL,
    ) -> T:
        """Call *predicate* every *interval* seconds until it returns something truthy; return it.

        This is the documented polling fallback for systems that emit no telemetry; prefer an
        expectation whenever there is an event to wait for.

        Raises:
            TelemetryAssertionError: still falsy (or raising) after *timeout* seconds.
        """
        __tracebackhide__ = True
        seconds = resolve_timeout(self, timeout)
        check_timeout(interval, "interval")
        deadline = time.monotonic() + seconds
        calls = 0
        while True:
            calls += 1
            error: Exception | None = None
            try:
                value = predicate()
            except Exception as caught:  # noqa: BLE001 - reported in the failure
                error, value = caught, None
            if error is None and value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                last = f"raised {error!r}" if error is not None else f"returned {value!r}"
                name = getattr(predicate, "__qualname__", repr(predicate))
                msg = f"wait_for({name}) gave up after {seconds:g}s and {calls} call(s); the last call {last}."
                raise TelemetryAssertionError(msg)
            time.sleep(min(interval, remaining))  # allow-sleep: polling is this helper's job


def _healthy_status(value: Any) -> bool:
    return isinstance(value, str) and value.lower() in _HEALTHY_STATUSES


def _start_at(expectation: AnyExpectation, since: int) -> None:
    expectation._start()
    expectation.watch = Watch(expectation._source, since=since)
