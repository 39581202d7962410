"""``emit()``, ``span()`` and ``instrument()``: every operation emits events with one small API.

``emit(name, measurements, **metadata)`` sends an OpenTelemetry log-based event
(``LogRecord.event_name = name``) through the global logger provider, carrying measurements and
metadata as attributes plus the standard fields (timestamp, ``host.name``, ``process.pid``,
``correlation_id`` when one is set, and the current trace context), then runs the handlers
attached to that name in the emitting thread. ``span(name, **attributes)`` wraps a block or a
function in an OpenTelemetry span and emits ``<name>.start`` / ``<name>.stop`` /
``<name>.exception`` around it, like ``:telemetry.span``, recording the duration in a histogram.
Nothing here raises into the application: bad input is coerced or dropped and counted.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from types import TracebackType
from typing import Any, Final, ParamSpec, TypeVar, cast, final, overload

from opentelemetry import _logs, context, metrics, trace
from opentelemetry.context import get_current
from opentelemetry.metrics import Histogram
from opentelemetry.trace import Status, StatusCode

from . import _globals
from . import correlation as _correlation
from ._attributes import (
    INT64_MAX,
    INT64_MIN,
    MAX_STRING_LENGTH,
    coerce_attribute,
    coerce_attributes,
    coerce_name,
    error_message,
)
from ._health import SkipReason, count_skip
from .correlation import CORRELATION_KEY, correlation_id
from .handlers import _dispatch, _matching, _registry

__all__ = [
    "HOST_NAME",
    "PROCESS_PID",
    "SpanScope",
    "emit",
    "instrument",
    "span",
]

P = ParamSpec("P")
R = TypeVar("R")

HOST_NAME: Final = "host.name"
"""Standard field: the host the event was emitted on."""
PROCESS_PID: Final = "process.pid"
"""Standard field: the id of the emitting process."""

_SCOPE: Final = "foundation_telemetry"
_COMPONENT: Final = "events"
_INSTRUMENT_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,254}")

# Without our global proxies (a foreign global provider, or none yet) events go through the API's
# proxy logger; with them, emit() talks to the current delegate's logger directly, re-resolved
# when configure() rebinds (one identity check instead of two forwarding layers per event).
_fallback_logger = _logs.get_logger(_SCOPE)
_resolved: tuple[object, _logs.Logger] = (None, _fallback_logger)
_rebinding: Any = None
_tracer = trace.get_tracer(_SCOPE)
_meter = metrics.get_meter(_SCOPE)
_LogRecord = _logs.LogRecord
_time_ns = time.time_ns
_get_current = get_current


def _host_name() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return "unknown"


_host: str = _host_name()
_pid: int = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork)


def _find_rebinding() -> Any:
    """Return our global rebinding LoggerProvider once it is installed (it never changes)."""
    global _rebinding
    proxies = _globals.proxies()
    if proxies is not None:
        _rebinding = proxies.logger_provider
    return _rebinding


def _resolve_logger(provider: Any) -> _logs.Logger:
    global _resolved
    logger: _logs.Logger = provider.get_logger(_SCOPE)
    _resolved = (provider, logger)
    return logger


def emit(name: str, measurements: Mapping[str, Any] | None = None, **metadata: Any) -> None:
    """Emit the event *name* as an OpenTelemetry log-based event and run its handlers.

    Args:
        name: The event name, e.g. ``"foundation.retry.attempt_start"`` (a tuple of parts is
            joined with dots).
        measurements: Numbers describing the event (``{"duration": 0.2}``); become attributes.
        **metadata: Context of the event (``service_name="api"``); become attributes. Keys
            with dots are passed as ``**{"db.system": "postgresql"}``.

    Handlers receive *measurements* and *metadata* unchanged; the log record gets them
    coerced to what OpenTelemetry can carry (values it cannot carry are dropped and counted as
    ``SkipReason.INVALID_INPUT``). Never raises.

    .. versionadded:: 0.1.0
    """
    if type(name) is not str or not name:
        name = coerce_name(_COMPONENT, name)
    ctx = _get_current()
    attributes: dict[str, Any] = {}
    try:
        # The fast path of _attributes.coerce_attributes, inlined: emit() is the hottest call.
        if metadata:
            for key, value in metadata.items():
                kind = type(value)
                if (
                    (kind is str and len(value) <= MAX_STRING_LENGTH)
                    or (kind is float and value - value == 0.0)
                    or (kind is int and INT64_MIN <= value <= INT64_MAX)
                    or kind is bool
                ):
                    attributes[key] = value
                else:
                    coerce_attribute(_COMPONENT, name, key, value, attributes)
        if measurements:
            for key, value in measurements.items():
                kind = type(value)
                if type(key) is str and (
                    (kind is float and value - value == 0.0)
                    or (kind is int and INT64_MIN <= value <= INT64_MAX)
                ):
                    attributes[key] = value
                else:
                    coerce_attribute(_COMPONENT, name, key, value, attributes)
        attributes[HOST_NAME] = _host
        attributes[PROCESS_PID] = _pid
        cached = _correlation._last
        found = cached[1] if cached[0] is ctx else correlation_id(ctx)
        if found is not None:
            attributes[CORRELATION_KEY] = found
        rebinding = _rebinding or _find_rebinding()
        if rebinding is None:
            logger = _fallback_logger
        else:
            provider = rebinding.delegate
            resolved = _resolved
            logger = resolved[1] if resolved[0] is provider else _resolve_logger(provider)
        logger.emit(
            _LogRecord(timestamp=_time_ns(), context=ctx, event_name=name, attributes=attributes)
        )
    except Exception as error:  # noqa: BLE001 - emit never raises into the application
        count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=name, error=error)
    snapshot = _registry.snapshot
    if snapshot.handlers:
        matched = _matching(snapshot, name)
        if matched:
            _dispatch(matched, name, measurements if measurements is not None else {}, metadata)


# --- span() ----------------------------------------------------------------------------------

_histograms: dict[str, Histogram | None] = {}
_histograms_lock = threading.Lock()


def _duration_histogram(name: str) -> Histogram | None:
    found = _histograms.get(name, False)
    if found is not False:
        return cast("Histogram | None", found)
    metric_name = f"{name}.duration"
    histogram: Histogram | None = None
    if _INSTRUMENT_NAME.fullmatch(metric_name):
        histogram = _meter.create_histogram(
            metric_name, unit="s", description=f"Duration of {name} (from span())."
        )
    else:
        count_skip(_COMPONENT, SkipReason.INVALID_INPUT, item=f"no duration histogram for {name!r}")
    with _histograms_lock:
        if len(_histograms) < 4096:
            _histograms[name] = histogram
    return histogram


class _SpanRun:
    """One execution of a ``span()`` block: the span, its context token and start time."""

    __slots__ = ("_attributes", "_name", "_span", "_started", "_token")

    def __init__(self, name: str, attributes: dict[str, Any]) -> None:
        self._name = name
        self._attributes = attributes

    def start(self) -> trace.Span:
        name = self._name
        span_attributes: dict[str, Any] = {}
        coerce_attributes(_COMPONENT, name, self._attributes, span_attributes)
        found = correlation_id()
        if found is not None:
            span_attributes[CORRELATION_KEY] = found
        try:
            self._span = _tracer.start_span(name, attributes=span_attributes)
        except Exception as error:  # noqa: BLE001 - a broken span pipeline must not stop the block
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=name, error=error)
            self._span = trace.INVALID_SPAN
        self._token = context.attach(trace.set_span_in_context(self._span))
        self._started = time.perf_counter_ns()
        emit(f"{name}.start", None, **self._attributes)
        return self._span

    def finish(self, error: BaseException | None) -> None:
        duration = (time.perf_counter_ns() - self._started) / 1e9
        name = self._name
        try:
            metric_attributes: dict[str, str] | None = None
            if error is None:
                emit(f"{name}.stop", {"duration": duration}, **self._attributes)
            else:
                error_type = type(error).__qualname__
                message = error_message(error)
                metric_attributes = {"error.type": error_type}
                emit(
                    f"{name}.exception",
                    {"duration": duration},
                    **{
                        **self._attributes,
                        "exception.type": error_type,
                        "exception.message": message,
                        "error.type": error_type,
                    },
                )
                self._span.set_attribute("error.type", error_type)
                self._span.set_status(Status(StatusCode.ERROR, f"{error_type}: {message}"))
                self._span.record_exception(error)
            histogram = _duration_histogram(name)
            if histogram is not None:
                histogram.record(duration, metric_attributes)
        except Exception as failure:  # noqa: BLE001 - span() never raises into the application
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=name, error=failure)
        finally:
            context.detach(self._token)
            try:
                self._span.end()
            except Exception as failure:  # noqa: BLE001 - never replace the block's own outcome
                count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=name, error=failure)


@final
class SpanScope:
    """What :func:`span` returns: a context manager (sync and async) and a decorator.

    As a context manager it yields the OpenTelemetry span. One ``SpanScope`` may be entered
    again after it exits (and nested), but not from several threads at once; as a decorator every
    call gets its own span.
    """

    __slots__ = ("_attributes", "_name", "_runs")

    def __init__(self, name: str, attributes: dict[str, Any]) -> None:
        self._name = name
        self._attributes = attributes
        self._runs: list[_SpanRun] = []

    def __repr__(self) -> str:
        extra = "".join(f", {key}={value!r}" for key, value in self._attributes.items())
        return f"span({self._name!r}{extra})"

    def __enter__(self) -> trace.Span:
        run = _SpanRun(self._name, self._attributes)
        self._runs.append(run)
        return run.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._runs.pop().finish(exc)

    async def __aenter__(self) -> trace.Span:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._runs.pop().finish(exc)

    @overload
    def __call__(
        self, fn: Callable[P, Coroutine[Any, Any, R]]
    ) -> Callable[P, Coroutine[Any, Any, R]]: ...
    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]: ...
    def __call__(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        """Decorate *fn* (sync or async) so every call runs in its own span."""
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            msg = (
                f"span() cannot decorate the generator function {fn.__qualname__}: the span "
                "would end when the generator is created. Use `with span(...)` inside it."
            )
            raise TypeError(msg)
        name, attributes = self._name, self._attributes
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                run = _SpanRun(name, attributes)
                run.start()
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as error:
                    run.finish(error)
                    raise
                run.finish(None)
                return result

            return run_async

        @functools.wraps(fn)
        def run_sync(*args: P.args, **kwargs: P.kwargs) -> Any:
            run = _SpanRun(name, attributes)
            run.start()
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                run.finish(error)
                raise
            run.finish(None)
            return result

        return run_sync


def span(name: str, /, **attributes: Any) -> SpanScope:
    """Trace a block or a function: an OpenTelemetry span plus start/stop/exception events.

    Emits ``<name>.start`` on entry, ``<name>.stop`` (measurement ``duration`` in seconds) on a
    normal exit, or ``<name>.exception`` (with ``exception.type``, ``exception.message`` and
    ``error.type``) when the block raises; the exception is recorded on the span, which gets an
    error status, and is re-raised untouched. The duration also goes to the histogram
    ``<name>.duration`` (unit ``s``; attribute ``error.type`` on failures). *attributes* go on
    the span and on the three events.

    Usable as ``with span(...) as s:``, ``async with span(...)``, and ``@span(...)`` on sync and
    async functions.

    .. versionadded:: 0.1.0
    """
    if type(name) is not str or not name:
        name = coerce_name(_COMPONENT, name)
    return SpanScope(name, attributes)


@overload
def instrument(fn: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def instrument(
    name: str | None = None, /, **attributes: Any
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def instrument(name: Any = None, /, **attributes: Any) -> Any:
    """Decorate a function with :func:`span`, named ``module.qualname`` unless *name* is given.

    ``@instrument``, ``@instrument()`` and ``@instrument("checkout", tier="gold")`` all work.

    .. versionadded:: 0.1.0
    """
    if callable(name):
        return span(f"{name.__module__}.{name.__qualname__}")(name)
    if name is not None and not isinstance(name, str):
        msg = f"`instrument()` takes a span name (str) or a function, got {name!r}."
        raise TypeError(msg)

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        return span(name or f"{fn.__module__}.{fn.__qualname__}", **attributes)(fn)

    return decorate
