"""The implementation behind the public :mod:`foundation_telemetry.correlation` (documented there).

It lives in ``events`` because ``emit()`` stamps the current correlation id on every event, and
the public module re-exports it so ``events`` does not import a layer above it.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import Token
from types import TracebackType
from typing import Any, Final, ParamSpec, TypeVar, final

from opentelemetry import baggage, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context, attach, detach, get_current
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .. import _state
from .._otel._internals import BAGGAGE_KEY, current_context_getter
from ..defensive._policy import ContainsOwnFailures, contain
from ._attributes import coerce_attributes
from ._context import SyncAndAsyncContext

__all__ = [
    "CORRELATION_KEY",
    "CorrelationSpanProcessor",
    "Thread",
    "bind",
    "caused_by",
    "continued",
    "correlated",
    "correlation_id",
    "extract",
    "inject",
    "new_correlation_id",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

CORRELATION_KEY: Final = "correlation_id"
"""The baggage key and the span/event attribute that carry the correlation id."""

_PROPAGATOR: Final = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])

# The last context looked up and its id (``_state.events.correlation``): emit() asks for the id of
# the same context many times in a row, and a baggage lookup costs about 0.4 us.
_EVENTS: Final = _state.events

_current_context: Final = current_context_getter()


def new_correlation_id() -> str:
    """Return a fresh correlation id (32 lowercase hex characters)."""
    return uuid.uuid4().hex


def correlation_id(context: Context | None = None) -> str | None:
    """Return the correlation id in *context* (default: the current context), or ``None``.

    .. versionadded:: 0.1.0
    """
    ctx = get_current() if context is None else context
    cached = _EVENTS.correlation
    if cached[0] is ctx:
        return cached[1]
    value = baggage.get_baggage(CORRELATION_KEY, ctx)
    found = value if isinstance(value, str) and value else None
    _EVENTS.correlation = (ctx, found)
    return found


@final
class correlated(SyncAndAsyncContext[str]):
    """Run a block (``with`` or ``async with``) under a correlation id; generates one if absent.

    The id is stored in W3C baggage in the OpenTelemetry context, so it follows nested calls and
    asyncio tasks, threads started with :class:`Thread` or :func:`bind`, and processes reached
    through :func:`inject`/:func:`extract`. ``__enter__`` returns the id.

    Raises:
        TypeError: *correlation_id* is neither ``None`` nor a non-empty str.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_tokens", "correlation_id")

    def __init__(self, correlation_id: str | None = None) -> None:
        if correlation_id is None:
            correlation_id = new_correlation_id()
        elif not isinstance(correlation_id, str) or not correlation_id:
            msg = f"`correlation_id` must be a non-empty str or None, got {correlation_id!r}."
            raise TypeError(msg)
        self.correlation_id = correlation_id
        self._tokens: list[Token[Context]] = []

    def __enter__(self) -> str:
        self._tokens.append(attach(baggage.set_baggage(CORRELATION_KEY, self.correlation_id)))
        return self.correlation_id

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        detach(self._tokens.pop())


class StampsCorrelation(ContainsOwnFailures):
    """The ``on_start`` that stamps ``correlation_id``, for any span processor of ours.

    :class:`CorrelationSpanProcessor` is it alone; ``configure()`` also gives it to the batch
    processor of a pipeline with no other processor, so every span passes one processor fewer.
    """

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        """Set the attribute from the baggage of the context the span starts in."""
        try:
            context = _current_context() if parent_context is None else parent_context
            if BAGGAGE_KEY not in context:  # no baggage at all: the common case, one dict lookup
                return
            found = correlation_id(context)
            if found is not None:
                span.set_attribute(CORRELATION_KEY, found)
        except BaseException as error:
            if contain(self.component_name, error, item=CORRELATION_KEY):
                raise


@final
class CorrelationSpanProcessor(StampsCorrelation, SpanProcessor):
    """Stamp ``correlation_id`` on every span started while one is set (``on_start``).

    Add it to a ``TracerProvider`` (``configure(span_processors=[...])``) so spans from any
    instrumentation, not only ``span()``, carry the id.

    .. versionadded:: 0.1.0
    """

    component_name = "CorrelationSpanProcessor"

    def on_end(self, span: ReadableSpan) -> None:
        """Nothing to do at the end of a span."""

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return True


def bind(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Return *fn* wrapped to run in the OpenTelemetry context current at ``bind`` time.

    Use it for executors and callbacks: ``pool.submit(bind(work), item)``. The wrapper may run in
    many threads at once.

    .. versionadded:: 0.1.0
    """
    captured = get_current()

    @functools.wraps(fn)
    def run_in_context(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        token = attach(captured)
        try:
            return fn(*args, **kwargs)
        finally:
            detach(token)

    return run_in_context


class Thread(threading.Thread):
    """A ``threading.Thread`` that runs in the OpenTelemetry context of the code that created it.

    Spans started in the thread are children of the creator's current span, and its correlation
    id and other baggage apply.

    .. versionadded:: 0.1.0
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._otel_context = get_current()

    def run(self) -> None:
        """Run the target inside the captured context."""
        token = attach(self._otel_context)
        try:
            super().run()
        finally:
            detach(token)


def inject(
    carrier: MutableMapping[str, str] | None = None, *, context: Context | None = None
) -> MutableMapping[str, str]:
    """Write the trace context and baggage (with the correlation id) into *carrier*; return it.

    Uses W3C ``traceparent``/``tracestate`` and ``baggage`` whatever ``OTEL_PROPAGATORS`` says,
    so correlation crosses processes even when the global propagators leave baggage out.

    .. versionadded:: 0.1.0
    """
    target: MutableMapping[str, str] = {} if carrier is None else carrier
    _PROPAGATOR.inject(target, context=context)
    return target


def extract(carrier: Mapping[str, str], *, context: Context | None = None) -> Context:
    """Return a context holding the trace context and baggage read from *carrier*.

    .. versionadded:: 0.1.0
    """
    if not isinstance(carrier, Mapping):
        msg = f"`carrier` must be a mapping of header names to values, got {carrier!r}."
        raise TypeError(msg)
    return _PROPAGATOR.extract(carrier, context=context)


@contextmanager
def continued(carrier: Mapping[str, str]) -> Iterator[str | None]:
    """Run a block in the context another process :func:`inject`-ed; yields its correlation id.

    .. versionadded:: 0.1.0
    """
    token = attach(extract(carrier))
    try:
        yield correlation_id()
    finally:
        detach(token)


def caused_by(
    cause: trace.Span | trace.SpanContext | Context | Mapping[str, str],
    **attributes: Any,
) -> trace.Link | None:
    """Link the current span to *cause*: a span, a span context, a context or a carrier dict.

    Causality that is not parenthood (a message consumed from a queue, a retry of an earlier
    request) becomes a span link. Returns the link, or ``None`` when there is no recording span
    or *cause* carries no valid span context (an uninstrumented message is not an error).

    Raises:
        TypeError: *cause* is none of the accepted types.

    .. versionadded:: 0.1.0
    """
    span_context = _span_context_of(cause)
    current = trace.get_current_span()
    if not span_context.is_valid or not current.is_recording():
        return None
    link_attributes: dict[str, Any] = {}
    coerce_attributes("correlation.caused_by", "link", attributes, link_attributes)
    current.add_link(span_context, link_attributes or None)
    return trace.Link(span_context, link_attributes or None)


def _span_context_of(cause: object) -> trace.SpanContext:
    if isinstance(cause, trace.SpanContext):
        return cause
    if isinstance(cause, trace.Span):
        return cause.get_span_context()
    if isinstance(cause, Context):
        return trace.get_current_span(cause).get_span_context()
    if isinstance(cause, Mapping):
        return trace.get_current_span(extract(cause)).get_span_context()
    msg = (
        "`caused_by()` takes a span, a SpanContext, a Context or an injected carrier dict, "
        f"got {cause!r}."
    )
    raise TypeError(msg)
