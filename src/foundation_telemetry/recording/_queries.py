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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar, cast, final

from . import _domain
from ._aggregates import Aggregate
from ._arguments import check_action, check_flag, check_parent, check_status, check_threshold
from ._expectations import (
    AnyExpectation,
    Collector,
    EventExpectation,
    RefuteExpectation,
    SequenceExpectation,
)
from ._matchers import (
    Record,
    RecordMatcher,
    article,
    is_ended_span,
    is_event,
    is_log,
    is_metric,
    merge_attributes,
    step_matchers,
)
from ._metric_wait import MetricThresholdWait, metric_matcher
from ._records import EventRecord, MetricPoint, SpanRecord
from ._snapshot import KINDS, snapshot_records
from ._source import TelemetrySource, resolve_timeout
from ._timeouts import check_timeout
from ._trace_shape import TraceExpectation
from ._views import entry_records
from ._waits import PredicateWait, Wait, describe_call

__all__ = ["Captured", "RecordQueries", "TelemetryQueries"]

T = TypeVar("T")

DEFAULT_POLL_INTERVAL: Final = 0.01
"""Seconds between two calls of a ``wait_for`` predicate."""


def _event_matcher(
    name: Any, attributes: Mapping[str, Any] | None, attrs: Mapping[str, Any]
) -> RecordMatcher:
    _require_name(name, "event")
    return RecordMatcher("event", is_event, name, merge_attributes(attributes, attrs))


def _require_name(name: Any, what: str) -> None:
    if name is None or name == "":
        msg = (
            f"{article(what)} {what} name is required: an expectation with nothing to match "
            "would pass vacuously."
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


@final
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


class TelemetryQueries(RecordQueries, TelemetrySource):
    """Queries, expectations, collectors and waits over a record store (see the module docstring).

    Mixed into the ``Recorder``, the ``telemetry`` fixture and the ``Sink``; a host implements the
    :class:`~._source.TelemetrySource` hooks (at least ``_telemetry_buffer()``).
    """

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
        matcher = _event_matcher(name, attributes, attrs)
        call = describe_call(
            "attach_collector", name, count=None if count == 1 else count, attributes=attributes
        )
        return Collector(self, matcher, count, call)

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
        check_action(action)
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
        return EventExpectation(
            self, _event_matcher(name, attributes, attrs), count, timeout
        ).track(
            describe_call(
                "assert_telemetry_event",
                name,
                count=None if count == 1 else count,
                timeout=timeout,
                attributes=attributes,
                **attrs,
            )
        )

    def refute_telemetry_event(
        self,
        name: Any,
        *,
        within: float | None = None,
        attributes: Mapping[str, Any] | None = None,
        **attrs: Any,
    ) -> RefuteExpectation:
        """Expect no event named *name* from entering the block until *within* seconds later."""
        return RefuteExpectation(self, _event_matcher(name, attributes, attrs), within).track(
            describe_call(
                "refute_telemetry_event", name, within=within, attributes=attributes, **attrs
            )
        )

    def assert_telemetry_sequence(
        self, steps: Sequence[Any], *, strict: bool = False, timeout: float | None = None
    ) -> SequenceExpectation:
        """Expect events in this order (a step is a name or ``(name, attributes)``).

        Other events may come between steps unless *strict*. ``.records`` holds the matches.
        """
        check_flag(strict, "strict")
        return SequenceExpectation(self, step_matchers(steps), strict, timeout).track(
            describe_call(
                "assert_telemetry_sequence", steps, strict=strict or None, timeout=timeout
            )
        )

    def assert_telemetry_any(
        self, steps: Sequence[Any], *, timeout: float | None = None
    ) -> AnyExpectation:
        """Expect at least one of these events; ``.record`` and ``.index`` say which came."""
        return AnyExpectation(self, step_matchers(steps), timeout).track(
            describe_call("assert_telemetry_any", steps, timeout=timeout)
        )

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
        wanted = check_status(status)
        fields = {} if wanted is None else {"status": wanted}
        matcher = RecordMatcher(
            "span",
            is_ended_span,
            name,
            merge_attributes(attributes, attrs),
            fields,
            check_parent(parent),
        )
        return EventExpectation(self, matcher, count, timeout).track(
            describe_call(
                "expect_span",
                name,
                parent=parent,
                status=status,
                count=None if count == 1 else count,
                timeout=timeout,
                attributes=attributes,
                **attrs,
            )
        )

    def expect_trace(
        self, shape: Any, *, ordered: bool = False, timeout: float | None = None
    ) -> TraceExpectation:
        """Expect a span tree of this shape among the spans ended by the end of the block."""
        check_flag(ordered, "ordered")
        return TraceExpectation(self, shape, ordered, timeout).track(
            describe_call("expect_trace", shape, ordered=ordered or None, timeout=timeout)
        )

    @contextlib.contextmanager
    def capture_telemetry(self) -> Iterator[Captured]:
        """Yield a :class:`Captured` holding everything captured inside the block."""
        captured = Captured(self)
        try:
            yield captured
        finally:
            captured._close(self._telemetry_buffer().next_seq)

    # --- waits: each returns a Wait (``.wait()`` blocks, ``await`` awaits) ------------------

    def wait_for_metric_threshold(
        self,
        name: Any,
        threshold: Any,
        *,
        aggregate: str | Aggregate = "sum",
        attributes: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Wait[float]:
        """Wait until the metric's aggregate reaches *threshold*; the result is the aggregate.

        Measurements count from the start of the test (fixture) or of the recording, whatever
        the temporality. *aggregate* is any name in ``AGGREGATES`` (``sum``, ``count``,
        ``rate``, ``min``, ``max``, ``mean``, ``last``, ``ewma``, ``p50``, ``p90``, ``p99``),
        any percentile ``pNN``, or a callable over the points; it means what the
        TelemetryService means by it. A numeric threshold means ``>=``; anything else is a
        matcher on the value. The result is never ``None``: with no points the wait fails.

        Raises (from ``.wait()`` / ``await``):
            TelemetryAssertionError: not reached within *timeout*.
        """
        _require_name(name, "metric")
        wait = MetricThresholdWait(
            self,
            metric_matcher(name, merge_attributes(attributes, {})),
            check_threshold(threshold),
            aggregate,
            resolve_timeout(self, timeout),
        )
        call = describe_call(
            "wait_for_metric_threshold",
            name,
            threshold,
            aggregate=None if aggregate == "sum" else aggregate,
            attributes=attributes,
        )
        return Wait(self, wait, wait.reached, call)

    def wait_for_service_ready(
        self, name: str, timeout: float | None = None, *, status: Any = None
    ) -> Wait[EventRecord]:
        """Wait until service *name* is ready; the result is the event that said so.

        Ready means ``foundation.service.started``, or a ``foundation.service.health_check`` that
        is healthy (``healthy`` true, or a ``status`` such as ``"healthy"``, ``"ok"``, ``"up"``).
        With *status*, only a health check with that status counts (a str, ``re.Pattern``,
        callable, ... compared like any attribute matcher), e.g. ``status="degraded"``.
        """
        plan = _domain.service_ready(name, status)
        return self._domain_wait(plan, timeout, "wait_for_service_ready", name, status=status)

    def wait_for_process_restart(
        self, name: str, timeout: float | None = None
    ) -> Wait[EventRecord]:
        """Wait for ``foundation.service.restarted`` of the service or process *name*."""
        plan = _domain.process_restart(name)
        return self._domain_wait(plan, timeout, "wait_for_process_restart", name)

    def wait_for_agent_registration(
        self, agent_id: str, timeout: float | None = None
    ) -> Wait[EventRecord]:
        """Wait for ``foundation.agent.registered`` with ``agent.id`` *agent_id*."""
        plan = _domain.agent_registration(agent_id)
        return self._domain_wait(plan, timeout, "wait_for_agent_registration", agent_id)

    def wait_for_coordination_completion(
        self, session_id: str, timeout: float | None = None
    ) -> Wait[EventRecord]:
        """Wait for ``foundation.coordination.completed`` of *session_id*.

        Raises (from ``.wait()`` / ``await``):
            TelemetryAssertionError: ``foundation.coordination.failed`` arrived for the session
                first, or nothing within the timeout.
        """
        plan = _domain.coordination_completion(session_id)
        return self._domain_wait(plan, timeout, "wait_for_coordination_completion", session_id)

    def wait_for_resource_cleanup(
        self, resource_type: str, timeout: float | None = None
    ) -> Wait[EventRecord]:
        """Wait for ``foundation.resource.released`` of *resource_type* with ``in_use`` 0."""
        plan = _domain.resource_cleanup(resource_type)
        return self._domain_wait(plan, timeout, "wait_for_resource_cleanup", resource_type)

    def wait_for_connection_pool_ready(
        self, pool_id: str, timeout: float | None = None
    ) -> Wait[EventRecord]:
        """Wait for ``pool_created`` or a healthy ``pool_health`` of the pool named *pool_id*."""
        plan = _domain.connection_pool_ready(pool_id)
        return self._domain_wait(plan, timeout, "wait_for_connection_pool_ready", pool_id)

    def _domain_wait(
        self,
        plan: _domain.Plan,
        timeout: float | None,
        method: str,
        *args: Any,
        **kwargs: Any,
    ) -> Wait[EventRecord]:
        call = describe_call(method, *args, **kwargs, timeout=timeout)
        return _domain.domain_wait(self, plan, timeout, call)

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float | None = None,
        interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Wait[T]:
        """Wait until *predicate()* returns something truthy; the result is that value.

        It calls *predicate* every *interval* seconds: this is the documented polling fallback
        for systems that emit no telemetry; prefer an expectation whenever there is an event to
        wait for. ``await`` polls without blocking the event loop.

        Raises (from ``.wait()`` / ``await``):
            TelemetryAssertionError: still falsy (or raising) after *timeout* seconds.
        """
        if not callable(predicate):
            msg = f"`predicate` must be a callable taking no arguments, got {predicate!r}."
            raise TypeError(msg)
        wait = PredicateWait(
            self, predicate, resolve_timeout(self, timeout), check_timeout(interval, "interval")
        )
        call = describe_call("wait_for", predicate, timeout=timeout)
        return Wait(self, wait, lambda: cast(T, wait.value), call)
