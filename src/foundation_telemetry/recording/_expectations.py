"""The expectation context managers and the Collector.

Every expectation follows the same rules (trio's ``assert_checkpoints`` semantics): the deadline
starts at ``__enter__``; the block runs; ``__exit__`` waits, woken by the store, until the
expectation is met or the deadline passes; if the block raised, its exception passes through
unchanged and nothing is checked. They work with ``with`` and ``async with``; the async form
never blocks the event loop. Records from earlier tests never count (they are reported).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Final, NoReturn, Self, final

from ._failures import Report, TelemetryAssertionError, format_record
from ._matchers import Record, RecordMatcher
from ._source import TelemetrySource, resolve_timeout
from ._timeouts import check_timeout
from ._waits import BaseWait, caller_location, format_location
from ._watch import Waitable, Watch, run_async, run_sync

__all__ = [
    "AnyExpectation",
    "Collector",
    "EventExpectation",
    "Expectation",
    "RefuteExpectation",
    "SequenceExpectation",
]

_LATE_GRACE_FRACTION: Final = 0.25
_LATE_GRACE_MAX: Final = 0.1


def check_count(count: object) -> int:
    """Return *count*, or raise for anything but an int >= 1."""
    if isinstance(count, bool) or not isinstance(count, int):
        msg = f"`count` must be an int, got {count!r}."
        raise TypeError(msg)
    if count < 1:
        msg = f"`count` must be >= 1 (use refute_telemetry_event to expect none), got {count}."
        raise ValueError(msg)
    return count


class Expectation(Waitable):
    """Base of the context managers: deadline at enter, wait at exit, errors pass through.

    An expectation handed out by the query API is *tracked*: one that is never entered checked
    nothing, so the pytest fixture fails the test at teardown (elsewhere it warns when it is
    collected), and asking its truth value (``assert telemetry.expect_span(...)``) raises.
    """

    # Until track() there is nothing to report (see __del__).
    _call: str | None = None
    _reported = True
    _entered = True

    def __init__(self, source: TelemetrySource, timeout: float | None) -> None:
        self._source = source
        self.timeout = resolve_timeout(source, timeout)
        self._deadline = 0.0
        self._entered = False

    def track(self, call: str) -> Self:
        """Remember the user's call and line, and have the source report it if never entered."""
        self._call = call
        self._location = caller_location()
        self._reported = self._source._telemetry_track(self)
        return self

    def pending(self) -> str | None:
        """Return ``path:line: call`` while the expectation was never entered, else ``None``."""
        if self._call is None or self._entered:
            return None
        return f"{format_location(self._location)}: {self._call}"

    def __bool__(self) -> NoReturn:
        msg = (
            f"An expectation ({self._call or type(self).__name__}) is not a check by itself: "
            "use `with` / `async with` around the action that emits the telemetry."
        )
        raise TypeError(msg)

    def __del__(self) -> None:
        if self._entered or self._reported or self._call is None:
            return
        warnings.warn(
            f"{self._call} (created at {format_location(self._location)}) was never entered, "
            "so it checked nothing: use `with` / `async with` around the action.",
            ResourceWarning,
            stacklevel=2,
            source=self,
        )

    def _start(self) -> None:
        if self._entered:
            msg = f"{type(self).__name__} can be entered only once; create a new expectation."
            raise RuntimeError(msg)
        self._entered = True
        self.watch = Watch(self._source)
        self._deadline = time.monotonic() + self.timeout

    def late_grace(self) -> float:
        """Look a little longer after a timeout, to report near misses."""
        return min(self.timeout * _LATE_GRACE_FRACTION, _LATE_GRACE_MAX)

    def __enter__(self) -> Any:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True
        if exc_type is None:
            run_sync(self, self._deadline)

    async def __aenter__(self) -> Any:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True
        if exc_type is None:
            await run_async(self, self._deadline)


class _FirstRecord:
    """``.record``: the first matched record, once the block exited successfully."""

    records: list[Record]

    @property
    def record(self) -> Record:
        """The first matched record (after the block exited successfully)."""
        if not self.records:
            msg = "No record yet: `.record` is filled when the `with` block exits successfully."
            raise LookupError(msg)
        return self.records[0]


class _Matching(_FirstRecord, Expectation):
    """Collects records one matcher accepts; satisfied at *count* of them."""

    stop_early = True

    def __init__(
        self, source: TelemetrySource, matcher: RecordMatcher, count: int, timeout: float | None
    ) -> None:
        super().__init__(source, timeout)
        self.matcher = matcher
        self.matchers = [matcher]
        self.count = check_count(count)
        self.records: list[Record] = []
        self._late: list[Record] = []
        self._foreign: list[Record] = []

    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Keep matches; remember foreign and late ones for the report."""
        if not self.matcher.matches(record, self.watch.spans):
            return
        if foreign:
            self._foreign.append(record)
        elif late:
            self._late.append(record)
        else:
            self.records.append(record)

    def done(self) -> bool:
        """Return whether *count* records matched."""
        return len(self.records) >= self.count

    def error(self) -> TelemetryAssertionError | None:
        """Return ``None`` once *count* records matched (without building a report)."""
        if len(self.records) >= self.count:
            return None
        return super().error()

    def failure(self) -> Report | None:
        """Explain what was received instead."""
        if self.done():
            return None
        wanted = self.matcher.describe()
        if self.count == 1:
            headline = f"No {self.matcher.what} matched within {self.timeout:g}s: {wanted}"
        else:
            headline = (
                f"Expected {self.count} matching {self.matcher.what}s within {self.timeout:g}s, "
                f"got {len(self.records)}: {wanted}"
            )
        return self.watch.report(
            headline, matchers=[self.matcher], late=self._late, foreign_matches=self._foreign
        )


@final
class EventExpectation(_Matching):
    """``assert_telemetry_event`` / ``expect_span``: ``.record`` and ``.records`` after exit."""

    def __repr__(self) -> str:
        return f"<expect {self.count} x {self.matcher.describe()}>"


@final
class RefuteExpectation(Expectation):
    """``refute_telemetry_event``: fails as soon as a matching record arrives in the window."""

    stop_early = True

    def __init__(
        self, source: TelemetrySource, matcher: RecordMatcher, within: float | None
    ) -> None:
        if within is None:
            within = source._telemetry_refute_window()
        super().__init__(source, check_timeout(within, "within"))
        self.matcher = matcher
        self.matchers = [matcher]
        self.records: list[Record] = []
        self._foreign: list[Record] = []

    def late_grace(self) -> float:
        """Return 0: a refute has no late phase, it already watched the whole window."""
        return 0.0

    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Remember this test's matches (foreign ones only for the report)."""
        if self.matcher.matches(record, self.watch.spans):
            (self._foreign if foreign else self.records).append(record)

    def done(self) -> bool:
        """Stop at the first match: the refute has failed."""
        return bool(self.records)

    def failure(self) -> Report | None:
        """Show the offending record(s)."""
        if not self.records:
            return None
        headline = (
            f"Expected no {self.matcher.describe()} within {self.timeout:g}s, "
            f"but {len(self.records)} arrived:"
        )
        details = [f"- {_line(self.watch, r)}" for r in self.records]
        return self.watch.report(
            headline,
            look_back=False,
            details=details,
            matchers=[self.matcher],
            show_closest=False,
        )


def _line(watch: Watch, record: Record) -> str:
    return format_record(record, watch.begin_ns)


@final
class SequenceExpectation(Expectation):
    """``assert_telemetry_sequence``: events in this order, with gaps unless *strict*."""

    def __init__(
        self,
        source: TelemetrySource,
        matchers: Sequence[RecordMatcher],
        strict: bool,
        timeout: float | None,
    ) -> None:
        super().__init__(source, timeout)
        self.matchers = list(matchers)
        self.strict = strict
        self.records: list[Record] = []
        self._events: list[tuple[int, int, Record]] = []
        self._order = 0
        self._best = 0

    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Keep this test's candidate events (in the kind the steps look for)."""
        if foreign or late or not self.matchers[0].accepts(record):
            return
        self._order += 1
        stamp = getattr(record, "timestamp_ns", 0)
        self._events.append((stamp, self._order, record))

    def done(self) -> bool:
        """Re-run the match over the events seen so far, in time order."""
        events = [record for _, _, record in sorted(self._events, key=lambda e: (e[0], e[1]))]
        found = self._strict_match(events) if self.strict else self._gapped_match(events)
        if found is not None:
            self.records = found
            return True
        return False

    def _gapped_match(self, events: list[Record]) -> list[Record] | None:
        matched: list[Record] = []
        for record in events:
            if len(matched) < len(self.matchers) and self.matchers[len(matched)].matches(record):
                matched.append(record)
        self._best = max(self._best, len(matched))
        return matched if len(matched) == len(self.matchers) else None

    def _strict_match(self, events: list[Record]) -> list[Record] | None:
        steps = len(self.matchers)
        for start in range(len(events)):
            run = 0
            while (
                run < steps
                and start + run < len(events)
                and self.matchers[run].matches(events[start + run])
            ):
                run += 1
            self._best = max(self._best, run)
            if run == steps:
                return events[start : start + steps]
        return None

    def failure(self) -> Report | None:
        """Say how far the sequence got."""
        if self.records:
            return None
        mode = "strict sequence (no other events between steps)" if self.strict else "sequence"
        headline = (
            f"The {mode} was not seen within {self.timeout:g}s; "
            f"{self._best} of {len(self.matchers)} step(s) matched in order."
        )
        details = ["Expected, in order:"]
        for index, matcher in enumerate(self.matchers):
            mark = "x" if index < self._best else " "
            details.append(f"  [{mark}] {index + 1}. {matcher.describe()}")
        stuck = self.matchers[min(self._best, len(self.matchers) - 1)]
        return self.watch.report(headline, details=details, matchers=[stuck])


@final
class AnyExpectation(_FirstRecord, Expectation):
    """``assert_telemetry_any``: the first record matching any step; ``.index`` says which."""

    stop_early = True

    def __init__(
        self, source: TelemetrySource, matchers: Sequence[RecordMatcher], timeout: float | None
    ) -> None:
        super().__init__(source, timeout)
        self.matchers = list(matchers)
        self.records: list[Record] = []
        self.index: int | None = None
        self._late: list[Record] = []
        self._foreign: list[Record] = []

    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Keep the first match; note foreign and late ones."""
        for index, matcher in enumerate(self.matchers):
            if matcher.matches(record, self.watch.spans):
                if foreign:
                    self._foreign.append(record)
                elif late:
                    self._late.append(record)
                elif self.index is None:
                    self.index = index
                    self.records.append(record)
                return

    def done(self) -> bool:
        """Return whether any step matched."""
        return self.index is not None

    def failure(self) -> Report | None:
        """List the alternatives and what came instead."""
        if self.done():
            return None
        headline = f"None of {len(self.matchers)} alternatives matched within {self.timeout:g}s:"
        details = [f"- {matcher.describe()}" for matcher in self.matchers]
        return self.watch.report(
            headline,
            details=details,
            matchers=self.matchers,
            late=self._late,
            foreign_matches=self._foreign,
        )


@final
class Collector(BaseWait[Any]):
    """Collects matching records from the moment it is attached; wait for them later.

    ``wait()`` (or ``await collector``; ``await collector.wait_async(timeout)`` with a timeout)
    returns the record, or the list of records when ``count > 1``. The timeout starts when the
    wait does. A collector nobody waited for (or detached) fails the test at teardown. Leaving a
    ``with collector:`` block detaches it.
    """

    def __init__(
        self, source: TelemetrySource, matcher: RecordMatcher, count: int, call: str
    ) -> None:
        self._matching = _Matching(source, matcher, count, None)
        self._matching.watch = Watch(source)
        self._matching.watch.began = "the collector was attached"
        self._detached = False
        super().__init__(source, self._matching, call)

    @property
    def matcher(self) -> RecordMatcher:
        """What the collector matches."""
        return self._matching.matcher

    @property
    def count(self) -> int:
        """How many records ``wait()`` waits for."""
        return self._matching.count

    @property
    def records(self) -> list[Record]:
        """The records collected so far (filled as ``wait()`` looks)."""
        return self._matching.records

    def _begin(self, timeout: float | None) -> float:
        if self._detached:
            msg = "This collector was detached; attach a new one with attach_collector()."
            raise RuntimeError(msg)
        return super()._begin(timeout)

    def _outcome(self) -> Any:
        matching = self._matching
        records = matching.records
        return records[0] if matching.count == 1 else list(records[: matching.count])

    def _pending_label(self) -> str:
        return f"{self._call} ({len(self.records)}/{self.count} collected)"

    @property
    def detached(self) -> bool:
        """Whether :meth:`detach` was called."""
        return self._detached

    def detach(self) -> None:
        """Stop collecting; later ``wait`` calls raise, and teardown no longer asks for a wait."""
        self._detached = True
        self._settled = True

    def __enter__(self) -> Collector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.detach()

    async def __aenter__(self) -> Collector:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.detach()

    def __repr__(self) -> str:
        state = "detached" if self._detached else f"{len(self.records)}/{self.count} collected"
        return f"<Collector {self.matcher.describe()} ({state})>"
