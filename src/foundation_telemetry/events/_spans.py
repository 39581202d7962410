"""``span()`` and ``instrument()``: an OpenTelemetry span plus start/stop/exception events.

``span(name, **attributes)`` wraps a block (``with``/``async with``) or a function (sync or async)
in a span and emits ``<name>.start`` / ``<name>.stop`` / ``<name>.exception`` around it, like
``:telemetry.span``, recording the duration in the histogram ``<name>.duration``;
``instrument()`` is the decorator form named after the function. A broken span or metric pipeline
is counted and never changes the block's outcome. Public names: :mod:`.events`.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Final, ParamSpec, TypeVar, cast, final, overload

from opentelemetry import context, metrics, trace
from opentelemetry.metrics import Histogram
from opentelemetry.trace import Status, StatusCode

from ..defensive._ledger import SkipReason, count_skip
from ._attributes import coerce_attributes, coerce_name, error_message
from ._context import SyncAndAsyncContext
from ._correlation import CORRELATION_KEY, correlation_id
from ._emit import _COMPONENT, _SCOPE, emit

__all__ = ["SpanScope", "instrument", "span"]

P = ParamSpec("P")
R = TypeVar("R")

_INSTRUMENT_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,254}")
_tracer = trace.get_tracer(_SCOPE)
_meter = metrics.get_meter(_SCOPE)

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
class SpanScope(SyncAndAsyncContext[trace.Span]):
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
