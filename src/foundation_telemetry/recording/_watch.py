"""The waiting engine every expectation, collector and wait runs on: a cursor plus wake-ups.

A :class:`Watch` remembers where in the store an expectation began and hands out, on each look,
the records appended since the previous look, split into this test's records and *foreign* ones
(telemetry that belongs to an earlier test). One loop, :func:`_looks`, drives a :class:`Waitable`
until it is satisfied or its deadline passes, and keeps looking for a short grace period after a
failure so the message can show what arrived just too late. The loop never blocks itself: it
yields how long to wait, and :func:`run_sync` blocks the thread on a :class:`ThreadWaiter` while
:func:`run_async` awaits an :class:`AsyncWaiter`; both are woken by the store after each append,
never by a sleep.
"""

from __future__ import annotations

import abc
import time
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from typing import Final

from ._buffer import AsyncWaiter, Entry, ThreadWaiter
from ._failures import Report, TelemetryAssertionError
from ._matchers import (
    Record,
    RecordMatcher,
    exact_names,
    kinds_for,
    needs_span_records,
)
from ._records import RecordKind, SpanRecord
from ._source import TelemetrySource
from ._timeline import KEEP_RECEIVED, timeline_of
from ._views import entry_records

__all__ = ["Waitable", "Watch", "run_async", "run_sync"]

_LOOK_BACK: Final = 2_000


class Watch:
    """A cursor over a store, starting now (or at sequence *since*).

    Entries of kinds the expectation cannot match are kept raw (for the failure report) and
    only turned into records if a report needs them.
    """

    def __init__(self, source: TelemetrySource, since: int | None = None) -> None:
        self.buffer = source._telemetry_buffer()
        self.scope = source._telemetry_scope()
        self.cursor = self.buffer.next_seq if since is None else since
        self.start = self.cursor
        self.began = "the expectation began"
        self.origin = min(source._telemetry_origin(), self.start)
        self.begin_ns = time.time_ns()
        self.received: deque[Entry] = deque(maxlen=KEEP_RECEIVED)
        self.received_total = 0
        self.foreign_total = 0
        self.dropped = 0
        self.spans: dict[int, SpanRecord] = {}
        self._source = source
        self._names: list[str] | None = None
        self._seed: Iterator[tuple[Record, bool]] | None = None

    @classmethod
    def from_origin(cls, source: TelemetrySource, matchers: Sequence[RecordMatcher]) -> Watch:
        """Return a watch reading from the source's origin (the start of the test).

        When every matcher looks for an exact name (and none for span records), its first look
        starts from the source's :class:`~._timeline.Timeline` instead of re-reading the test.
        """
        watch = cls(source, since=source._telemetry_origin())
        if not needs_span_records(matchers):
            watch._names = exact_names(matchers)
        return watch

    def _fast_forward(self, kinds: frozenset[RecordKind] | None) -> None:
        names, self._names = self._names, None
        if names is None or self.cursor != self.start:
            return
        timeline = timeline_of(self.buffer, self._source, self.scope, self.start)
        if timeline is None:
            return
        with timeline.lock:
            timeline.advance()
            self.received = timeline.received.copy()
            self.received_total = timeline.received_total
            self.foreign_total = timeline.foreign_total
            self.cursor = timeline.cursor
            self._seed = timeline.postings(names, kinds)

    def poll(
        self, kinds: frozenset[RecordKind] | None = None, spans: bool = True
    ) -> Iterator[tuple[Record, bool]]:
        """Yield the records of *kinds* appended since the last look, each with ``foreign``.

        The cursor moves past each entry as it is handed out, so a caller that stops early (its
        expectation is met) never converts the rest. ``spans=False`` skips building span
        records for callers that only look at span events.
        """
        if self._names is not None and not spans:
            self._fast_forward(kinds)
        if self._seed is not None:
            for record, foreign in self._seed:
                yield record, foreign
            self._seed = None
        first, entries, dropped = self.buffer.read(self.cursor)
        self.dropped += dropped
        self.cursor = first  # past the dropped entries: the next look must not count them again
        scope = self.scope
        for offset, entry in enumerate(entries):
            self.cursor = first + offset + 1
            foreign = scope is not None and entry[2] != scope
            if foreign:
                self.foreign_total += 1
            else:
                self.received.append(entry)
                self.received_total += 1
            if kinds is not None and entry[0] not in kinds:
                continue
            for record in entry_records(entry, spans=spans):
                if not foreign and isinstance(record, SpanRecord):
                    self.spans[record.span_id] = record
                yield record, foreign

    def earlier(self, matchers: Sequence[RecordMatcher]) -> list[Record]:
        """Return this view's records matching any of *matchers* from before the watch began.

        Read back to the source's origin (the start of the test), at most ``_LOOK_BACK``
        entries: the seed of the usual mistake, an action run before the expectation attached.
        """
        if not matchers or self.start <= self.origin:
            return []
        first, entries, _ = self.buffer.read(max(self.origin, self.start - _LOOK_BACK))
        found: list[Record] = []
        for offset, entry in enumerate(entries):
            if first + offset >= self.start:
                break
            if self.scope is not None and entry[2] != self.scope:
                continue
            found += [
                record
                for record in entry_records(entry)
                if any(matcher.matches(record) for matcher in matchers)
            ]
        return found

    def report(self, headline: str, look_back: bool = True, **fields: object) -> Report:
        """Start a failure report with what this watch saw.

        With *look_back*, matches from before the watch began are reported as the likely cause.
        """
        records = [record for entry in self.received for record in entry_records(entry)]
        spans = {r.span_id: r for r in records if isinstance(r, SpanRecord) and not r.ended}
        spans.update({r.span_id: r for r in records if isinstance(r, SpanRecord) and r.ended})
        spans.update(self.spans)
        # A span that also ended is listed once, at its end.
        received = [
            record
            for record in records
            if not (
                isinstance(record, SpanRecord)
                and not record.ended
                and spans.get(record.span_id, record).ended
            )
        ]
        hidden = self.received_total - len(self.received)
        return Report(
            headline=headline,
            begin_ns=self.begin_ns,
            received=received,
            received_total=len(received) + hidden,
            spans=spans,
            foreign_total=self.foreign_total,
            dropped=self.dropped,
            capacity=self.buffer.capacity,
            before=self.earlier(fields.get("matchers", ())) if look_back else (),  # type: ignore[arg-type]
            began=self.began,
            **fields,  # type: ignore[arg-type]
        )


class Waitable(abc.ABC):
    """Something that consumes records until it is satisfied, then judges the outcome.

    ``timeout`` is the number of seconds the current wait allows (failure messages quote it);
    ``matchers`` are what it looks for, which decides which entries wake it up.
    """

    watch: Watch
    timeout: float
    matchers: Sequence[RecordMatcher] = ()

    @abc.abstractmethod
    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Consume one record (``late`` once the deadline has passed)."""

    @abc.abstractmethod
    def done(self) -> bool:
        """Return whether waiting can stop early."""

    @abc.abstractmethod
    def failure(self) -> Report | None:
        """Return the failure report, or ``None`` when the expectation is met."""

    def error(self) -> TelemetryAssertionError | None:
        """Return the error to raise once the wait is over, or ``None`` when it succeeded."""
        report = self.failure()
        return None if report is None else TelemetryAssertionError(report.render(), report)

    def late_grace(self) -> float:
        """Return how long to keep looking after a failure, for the late-arrival hint."""
        return 0.0

    def next_look(self, remaining: float) -> float:
        """Return how long to wait for a wake-up before looking again (at most *remaining*)."""
        return remaining

    def kinds(self) -> frozenset[RecordKind] | None:
        """Return the entry kinds this waitable can use (``None``: all); others never wake it."""
        return kinds_for(self.matchers) if self.matchers else None

    def needs_spans(self) -> bool:
        """Return whether this waitable looks at span records (else only at span events)."""
        return needs_span_records(self.matchers) if self.matchers else True

    def _filters(self) -> tuple[frozenset[RecordKind] | None, bool]:
        try:
            return self._filter_memo  # type: ignore[has-type,no-any-return]
        except AttributeError:
            self._filter_memo = (self.kinds(), self.needs_spans())
            return self._filter_memo

    stop_early: bool = False
    """Whether :meth:`done` is cheap enough to ask after every record (then the rest of a
    backlog is never converted once the expectation is met)."""

    def step(self, late: bool = False) -> bool:
        """Feed everything new (or until done, see ``stop_early``); return :meth:`done`."""
        try:
            kinds, spans = self._filter_memo
        except AttributeError:
            kinds, spans = self._filters()
        if self.stop_early and not late:
            for record, foreign in self.watch.poll(kinds, spans):
                self.feed(record, foreign, late)
                if self.done():
                    return True
            return self.done()
        for record, foreign in self.watch.poll(kinds, spans):
            self.feed(record, foreign, late)
        return self.done()


_ArmedWaiter = ThreadWaiter | AsyncWaiter


def _looks(
    waitable: Waitable, deadline: float, waiter: _ArmedWaiter
) -> Generator[float, None, None]:
    """Look until *waitable* is done or *deadline* passes; yield the seconds to wait in between.

    The caller waits on *waiter* (armed here before each look, so a wake-up between the look and
    the wait is never lost) for at most the yielded time, then resumes the generator.
    """
    while True:
        waiter.arm()
        if waitable.step():
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        yield waitable.next_look(remaining)
    grace = waitable.late_grace()
    if grace <= 0:
        return
    late_deadline = time.monotonic() + grace
    while True:
        waiter.arm()
        waitable.step(late=True)
        remaining = late_deadline - time.monotonic()
        if remaining <= 0:
            return
        yield remaining


def _raise_if_failed(waitable: Waitable) -> None:
    __tracebackhide__ = True
    error = waitable.error()
    if error is not None:
        raise error


def run_sync(waitable: Waitable, deadline: float) -> None:
    """Block the calling thread until *waitable* is done or ``time.monotonic()`` >= *deadline*.

    Raises:
        TelemetryAssertionError: the waitable failed.
    """
    __tracebackhide__ = True
    buffer = waitable.watch.buffer
    waiter = ThreadWaiter(waitable._filters()[0])
    buffer.add_waiter(waiter)
    try:
        for seconds in _looks(waitable, deadline, waiter):
            waiter.wait(seconds)
    finally:
        buffer.remove_waiter(waiter)
    error = waitable.error()
    if error is not None:
        raise error


async def run_async(waitable: Waitable, deadline: float) -> None:
    """Await until *waitable* is done or ``time.monotonic()`` >= *deadline* (loop stays free).

    Raises:
        TelemetryAssertionError: the waitable failed.
    """
    __tracebackhide__ = True
    buffer = waitable.watch.buffer
    try:
        waiter = AsyncWaiter(waitable._filters()[0])
    except RuntimeError:
        msg = (
            "`async with` expectations and `await` waits need a running asyncio event loop "
            "(under anyio, its asyncio backend); elsewhere use the blocking form."
        )
        raise TypeError(msg) from None
    buffer.add_waiter(waiter)
    try:
        for seconds in _looks(waitable, deadline, waiter):
            await waiter.wait(seconds)
    finally:
        buffer.remove_waiter(waiter)
    _raise_if_failed(waitable)
