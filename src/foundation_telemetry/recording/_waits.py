"""The wait object: one type for every wait, blocking or awaited.

Every wait of the query API (``wait_for_metric_threshold``, ``wait_for_service_ready``, the
domain waits, ``wait_for``) returns a :class:`Wait` and blocks nothing itself: ``.wait()`` blocks
the calling thread until the result is there, ``await`` gets it without blocking the event loop.
A :class:`~foundation_telemetry.testing.Collector` is the same kind of object. A wait that is
never waited for would be a test that checks nothing, so it cannot go unnoticed: the pytest
fixture fails the test at teardown, elsewhere it warns (``ResourceWarning``) when it is
collected, and using the wait as if it were its result (``bool(w)``, ``w == 3``, ``w < 3``)
raises ``TypeError``.
"""

from __future__ import annotations

import abc
import inspect
import os
import time
import warnings
from collections.abc import Callable, Generator
from typing import Any, Final, Generic, NoReturn, TypeVar, final

from ._failures import Report, TelemetryAssertionError
from ._matchers import Record, describe_value
from ._records import RecordKind
from ._source import TelemetrySource
from ._timeouts import check_timeout
from ._watch import Waitable, Watch, run_async, run_sync

__all__ = [
    "BaseWait",
    "PredicateWait",
    "Wait",
    "caller_location",
    "describe_call",
    "format_location",
]

T = TypeVar("T")

_PACKAGE: Final = __name__.partition(".")[0]


def _ours(module: str) -> bool:
    return module == _PACKAGE or module.startswith(_PACKAGE + ".")


def caller_location() -> tuple[str, int]:
    """Return ``(path, line)`` of the innermost frame outside this package: the user's call."""
    frame = inspect.currentframe()
    try:
        while frame is not None and _ours(frame.f_globals.get("__name__", "")):
            frame = frame.f_back
        if frame is None:
            return "<unknown location>", 0
        return frame.f_code.co_filename, frame.f_lineno
    finally:
        del frame


def format_location(location: tuple[str, int]) -> str:
    """Return ``path:line``, the path relative to the working directory when it is below it."""
    path, line = location
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        relative = path
    return f"{path if relative.startswith('..') else relative}:{line}"


def describe_call(method: str, *args: Any, **kwargs: Any) -> str:
    """Return how a call reads in a message: ``wait_for_metric_threshold('m', 3, aggregate='p99')``.

    Keyword arguments that are ``None`` (left at their default) are left out; a function reads as
    its name.
    """
    parts = [_shown(arg) for arg in args]
    parts += [f"{key}={_shown(value)}" for key, value in kwargs.items() if value is not None]
    return f"{method}({', '.join(parts)})"


def _shown(value: Any) -> str:
    if inspect.isfunction(value) or inspect.ismethod(value):
        return str(value.__name__)
    return repr(value)


class BaseWait(Generic[T]):
    """What every wait offers: ``.wait()``, ``await``, and loud misuse (see the module docstring).

    Subclasses build the :class:`Waitable` that does the looking and say what the result is.
    """

    # Until __init__ has finished there is nothing to report (see __del__).
    _settled: bool = True

    def __init__(self, source: TelemetrySource, waitable: Waitable, call: str) -> None:
        self._waitable = waitable
        self._call = call
        self._location = caller_location()
        self._waited = False
        self._reported = source._telemetry_track(self)
        self._settled = False

    @abc.abstractmethod
    def _outcome(self) -> T:
        """Return the result once the waitable is satisfied (or raise what it means)."""

    def _begin(self, timeout: float | None) -> float:
        """Mark the wait as waited for and return its deadline."""
        self._waited = True
        self._settled = True
        if timeout is not None:
            self._waitable.timeout = check_timeout(timeout)
        return time.monotonic() + self._waitable.timeout

    def wait(self, timeout: float | None = None) -> T:
        """Block the calling thread until the wait is satisfied; return the result.

        *timeout* (seconds) replaces the one given to the call that created the wait; it starts
        now. Records that arrived before are not missed: they count at once.

        Raises:
            TelemetryAssertionError: not satisfied within the timeout.
        """
        __tracebackhide__ = True
        run_sync(self._waitable, self._begin(timeout))
        return self._outcome()

    async def wait_async(self, timeout: float | None = None) -> T:
        """Await the result without blocking the event loop (``await w`` with a *timeout*).

        Raises:
            TelemetryAssertionError: not satisfied within the timeout.
        """
        __tracebackhide__ = True
        deadline = self._begin(timeout)
        await run_async(self._waitable, deadline)
        return self._outcome()

    def __await__(self) -> Generator[Any, None, T]:
        return self.wait_async().__await__()

    @property
    def waited(self) -> bool:
        """Whether ``.wait()`` was called or the wait was awaited."""
        return self._waited

    def pending(self) -> str | None:
        """Return ``path:line: call`` while nobody waited for this wait, else ``None``."""
        return None if self._settled else f"{self._where}: {self._pending_label()}"

    @property
    def _where(self) -> str:
        return format_location(self._location)

    def _pending_label(self) -> str:
        return self._call

    def _misused(self, operation: str) -> NoReturn:
        msg = (
            f"{operation} on the wait returned by {self._call}: a wait is not its result; "
            "call .wait() or await it, and use the value it returns."
        )
        raise TypeError(msg)

    def __bool__(self) -> bool:
        self._misused("bool()")

    def __eq__(self, other: object) -> bool:
        self._misused("==")

    def __ne__(self, other: object) -> bool:
        self._misused("!=")

    def __lt__(self, other: object) -> bool:
        self._misused("<")

    def __le__(self, other: object) -> bool:
        self._misused("<=")

    def __gt__(self, other: object) -> bool:
        self._misused(">")

    def __ge__(self, other: object) -> bool:
        self._misused(">=")

    def __hash__(self) -> int:
        return id(self)

    def __del__(self) -> None:
        if self._settled or self._reported:
            return
        warnings.warn(
            f"{self._call} (created at {self._where}) was never waited for: "
            "call .wait() or await it.",
            ResourceWarning,
            stacklevel=2,
            source=self,
        )


@final
class Wait(BaseWait[T]):
    """A wait for something the telemetry will show: ``.wait()`` blocks, ``await`` awaits.

    Returned by ``wait_for_metric_threshold``, ``wait_for_service_ready``, the domain waits
    (``wait_for_agent_registration`` ...) and ``wait_for``. Creating it waits for nothing:

    .. code-block:: python

        value = telemetry.wait_for_metric_threshold("http.requests", 3).wait()
        record = await telemetry.wait_for_service_ready("orders")

    A wait created and never waited for fails the test at teardown (the ``telemetry`` fixture)
    or warns when collected (a ``Recorder`` or ``Sink`` used directly); comparing it or asking
    its truth value raises ``TypeError``.
    """

    def __init__(
        self, source: TelemetrySource, waitable: Waitable, outcome: Callable[[], T], call: str
    ) -> None:
        self._result_of = outcome
        super().__init__(source, waitable, call)

    def _outcome(self) -> T:
        return self._result_of()

    def __repr__(self) -> str:
        state = "waited" if self._waited else "not waited for"
        return f"<Wait {self._call} at {self._where}, {state}>"


class PredicateWait(Waitable):
    """``wait_for(predicate)``: call *predicate* every *interval* seconds until it is truthy.

    The documented polling fallback for systems that emit no telemetry: no record ever wakes
    it, it looks again when the interval has passed (on the same loop as every other wait, so
    the ``await`` form polls without blocking the event loop).
    """

    def __init__(
        self,
        source: TelemetrySource,
        predicate: Callable[[], object],
        timeout: float,
        interval: float,
    ) -> None:
        self.watch = Watch(source)
        self.predicate = predicate
        self.timeout = timeout
        self.interval = interval
        self.calls = 0
        self.value: object = None
        self._error: Exception | None = None

    def kinds(self) -> frozenset[RecordKind] | None:
        """Return no kind: records never wake a polling wait."""
        return frozenset()

    def next_look(self, remaining: float) -> float:
        """Look again after *interval* seconds (or when the deadline comes)."""
        return min(self.interval, remaining)

    def step(self, late: bool = False) -> bool:
        """Call the predicate once; an exception counts as falsy (and is reported)."""
        self.calls += 1
        try:
            self.value, self._error = self.predicate(), None
        except Exception as error:  # noqa: BLE001 - reported in the failure
            self.value, self._error = None, error
        return self.done()

    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Ignore records: the predicate is the only thing this wait looks at."""

    def done(self) -> bool:
        """Return whether the last call returned something truthy."""
        return self._error is None and bool(self.value)

    def failure(self) -> Report | None:
        """Return ``None``: this wait has no record report (see :meth:`error`)."""
        return None

    def error(self) -> TelemetryAssertionError | None:
        """Say how often the predicate was called and what its last call did."""
        if self.done():
            return None
        last = f"raised {self._error!r}" if self._error is not None else f"returned {self.value!r}"
        name = describe_value(self.predicate)
        msg = (
            f"wait_for({name}) gave up after {self.timeout:g}s and {self.calls} call(s); "
            f"the last call {last}."
        )
        return TelemetryAssertionError(msg)
