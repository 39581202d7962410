"""OpenTelemetry instrumentation for tenacity: an event per attempt, a span per retried call.

:class:`TenacityInstrumentor` patches tenacity's decision step (``BaseRetrying.iter`` and its
asyncio twin), which every way of retrying goes through (``@retry``, ``Retrying()(fn)``,
``for attempt in Retrying()``, ``AsyncRetrying``), so the user's own ``before``/``after``/
``before_sleep``/``retry_error_callback`` keep working untouched. It emits
``foundation.retry.attempt_start``, ``attempt_success``, ``attempt_failure``, ``backoff`` (with
the delay) and ``exhausted``; counts attempts and calls by outcome; and records one span per
retried call with the attempt count. Calls made through ``__call__`` (the decorator and
``Retrying()(fn)``) get a *current* span, so work done in the attempts nests under it.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, final

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import Span, Status, StatusCode

from .. import taxonomy
from ..events import emit
from ._extras import missing_extra

try:
    from ._common import Patches, PatchingInstrumentor, error_type, guarded
except ImportError as error:  # opentelemetry-instrumentation, which the extra installs
    raise missing_extra(
        "tenacity", "TenacityInstrumentor", "opentelemetry-instrumentation", error
    ) from error

__all__ = ["REJECTED_RESULT", "TenacityInstrumentor"]

_INSTRUMENTS: Final = ("tenacity >= 8",)
_COMPONENT: Final = "instrumentation.tenacity"
_STATE_ATTR: Final = "_foundation_telemetry_retry_call"
_A = taxonomy.Attr

REJECTED_RESULT: Final = "rejected_result"
"""``error.type`` of an attempt that returned a value the ``retry`` predicate rejected."""


@dataclass(slots=True)
class _Call:
    """One retried call: its span and what has been reported about it so far."""

    name: str
    span: Span
    max_attempts: int | None
    context_token: object | None = None
    attempts: int = 0
    attempt_started: float = field(default_factory=time.monotonic)
    finished: bool = False


# The call a ``__call__`` wrapper opened, for the ``iter`` wrapper of the same retrying object.
_opened: contextvars.ContextVar[tuple[object, _Call] | None] = contextvars.ContextVar(
    "foundation_telemetry_retry_opened", default=None
)


class _RetryTelemetry:
    """Turns what tenacity decides at each step into events, metrics and spans."""

    def __init__(self, tracer: trace.Tracer, meter: metrics.Meter) -> None:
        # False once uninstrumented: a wrapper someone else stacked on ours may still call it.
        self.active = True
        self._tracer = tracer
        self._attempts = meter.create_counter(
            "foundation.retry.attempts",
            unit="{attempt}",
            description="Attempts made under a tenacity retry policy, by outcome.",
        )
        self._calls = meter.create_counter(
            "foundation.retry.calls",
            unit="{call}",
            description="Calls made under a tenacity retry policy, by final outcome.",
        )

    # --- the call (span) ---------------------------------------------------------------------

    def open_call(self, retrying: Any, fn: Any, *, current: bool) -> _Call:
        """Start the span of one retried call; make it current when *current* is true."""
        name = _retry_name(retrying, fn)
        max_attempts = _max_attempts(retrying)
        attributes: dict[str, Any] = {_A.RETRY_NAME: name}
        if max_attempts is not None:
            attributes["retry.max_attempts"] = max_attempts
        span = self._tracer.start_span(f"retry {name}", attributes=attributes)
        call = _Call(name=name, span=span, max_attempts=max_attempts)
        if current:
            call.context_token = otel_context.attach(trace.set_span_in_context(span))
        return call

    def close_call(self, call: _Call, outcome: str, attempts: int, error: str | None) -> None:
        """End the call's span once, with its attempt count and outcome."""
        if call.finished:
            return
        call.finished = True
        attributes: dict[str, Any] = {_A.RETRY_NAME: call.name, "retry.outcome": outcome}
        self._calls.add(1, attributes)
        call.span.set_attribute("retry.attempts", attempts)
        call.span.set_attribute("retry.outcome", outcome)
        if error is not None:
            call.span.set_attribute(_A.ERROR_TYPE, error)
            call.span.set_status(Status(StatusCode.ERROR, f"{outcome}: {error}"))
        call.span.end()

    @staticmethod
    def detach(call: _Call) -> None:
        """Undo the ``attach`` of a current call span (in the context that attached it)."""
        if call.context_token is not None:
            token, call.context_token = call.context_token, None
            otel_context.detach(token)  # type: ignore[arg-type]

    # --- one decision step -------------------------------------------------------------------

    def call_for(self, retrying: Any, retry_state: Any) -> _Call:
        """Return the call *retry_state* belongs to: opened by ``__call__`` or started here."""
        call: _Call | None = getattr(retry_state, _STATE_ATTR, None)
        if call is None:
            opened = _opened.get()
            if opened is not None and opened[0] is retrying and not opened[1].finished:
                call = opened[1]
            else:
                call = self.open_call(retrying, retry_state.fn, current=False)
            setattr(retry_state, _STATE_ATTR, call)
        return call

    @guarded(_COMPONENT)
    def before_step(self, retrying: Any, retry_state: Any) -> None:
        """Before tenacity decides: a step without an outcome starts an attempt."""
        if retry_state.outcome is not None:
            return
        call = self.call_for(retrying, retry_state)
        call.attempts = retry_state.attempt_number
        call.attempt_started = time.monotonic()
        metadata: dict[str, Any] = {
            _A.RETRY_NAME: call.name,
            _A.ATTEMPT: retry_state.attempt_number,
        }
        if call.max_attempts is not None:
            metadata[_A.MAX_ATTEMPTS] = call.max_attempts
        emit(taxonomy.RETRY_ATTEMPT_START, **metadata)

    @guarded(_COMPONENT)
    def after_step(self, retrying: Any, retry_state: Any, action: Any) -> None:
        """After tenacity decided normally: sleep and retry, or hand back a final result."""
        outcome = retry_state.outcome
        if outcome is None:
            return
        call = self.call_for(retrying, retry_state)
        if _is_sleep(action):
            self._attempt_failed(call, retry_state)
            emit(
                taxonomy.RETRY_BACKOFF,
                {_A.DELAY: float(action)},
                **{_A.RETRY_NAME: call.name, _A.ATTEMPT: retry_state.attempt_number},
            )
            return
        if retry_state.outcome.failed or _gave_up(retrying, retry_state):
            # ``retry_error_callback`` replaced the RetryError with a value of its own.
            error = self._attempt_failed(call, retry_state)
            self._exhausted(call, retry_state, error)
            return
        self._attempt_succeeded(call, retry_state)

    @guarded(_COMPONENT)
    def failed_step(self, retrying: Any, retry_state: Any, raised: BaseException) -> None:
        """After tenacity raised: the retries are exhausted or the failure is not retryable."""
        call = self.call_for(retrying, retry_state)
        if retry_state.outcome is None:
            # A ``before`` callback raised before the attempt ran.
            self.close_call(call, "failure", retry_state.attempt_number, error_type(raised))
            return
        error = self._attempt_failed(call, retry_state)
        if _is_retry_error(raised) or _gave_up(retrying, retry_state):
            self._exhausted(call, retry_state, error)
        else:
            self.close_call(call, "failure", retry_state.attempt_number, error)

    @guarded(_COMPONENT)
    def abandoned(self, call: _Call, raised: BaseException) -> None:
        """Close a call that left tenacity undecided (e.g. cancelled while sleeping)."""
        self.close_call(call, "abandoned", call.attempts, error_type(raised))

    # --- helpers -----------------------------------------------------------------------------

    def _attempt_failed(self, call: _Call, retry_state: Any) -> str:
        outcome = retry_state.outcome
        error = error_type(outcome.exception()) if outcome.failed else REJECTED_RESULT
        self._attempts.add(1, {_A.RETRY_NAME: call.name, "retry.outcome": "failure"})
        emit(
            taxonomy.RETRY_ATTEMPT_FAILURE,
            {_A.DURATION: _attempt_duration(call, retry_state)},
            **{
                _A.RETRY_NAME: call.name,
                _A.ATTEMPT: retry_state.attempt_number,
                _A.ERROR_TYPE: error,
            },
        )
        return error

    def _attempt_succeeded(self, call: _Call, retry_state: Any) -> None:
        self._attempts.add(1, {_A.RETRY_NAME: call.name, "retry.outcome": "success"})
        emit(
            taxonomy.RETRY_ATTEMPT_SUCCESS,
            {_A.DURATION: _attempt_duration(call, retry_state)},
            **{_A.RETRY_NAME: call.name, _A.ATTEMPT: retry_state.attempt_number},
        )
        self.close_call(call, "success", retry_state.attempt_number, None)

    def _exhausted(self, call: _Call, retry_state: Any, error: str) -> None:
        emit(
            taxonomy.RETRY_EXHAUSTED,
            **{
                _A.RETRY_NAME: call.name,
                _A.ATTEMPT: retry_state.attempt_number,
                _A.ERROR_TYPE: error,
            },
        )
        self.close_call(call, "exhausted", retry_state.attempt_number, error)


def _retry_name(retrying: Any, fn: Any) -> str:
    """Name a retry: the policy's ``name=`` if given, else the function's qualified name."""
    # tenacity 9.1+ names a policy with ``name=`` and returns it from ``str()`` ("<unknown>" when
    # unset); older releases have no name, and their ``str()`` is the "<Retrying object ...>" repr.
    name = str(retrying)
    if name and not name.startswith("<"):
        return name
    if fn is not None:
        qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
        if qualname:
            module = getattr(fn, "__module__", None)
            return f"{module}.{qualname}" if module else str(qualname)
        return repr(fn)
    return "<unknown>"


def _max_attempts(retrying: Any) -> int | None:
    """Return the attempt limit when the stop condition is a plain ``stop_after_attempt``."""
    limit = getattr(getattr(retrying, "stop", None), "max_attempt_number", None)
    return limit if isinstance(limit, int) else None


def _attempt_duration(call: _Call, retry_state: Any) -> float:
    ended = retry_state.outcome_timestamp
    return max(0.0, (ended if ended is not None else time.monotonic()) - call.attempt_started)


def _gave_up(retrying: Any, retry_state: Any) -> bool:
    """Whether the step just decided found the outcome retryable but the stop condition met."""
    iter_state = getattr(retrying, "iter_state", None)
    if iter_state is not None:
        return bool(getattr(iter_state, "stop_run_result", False))
    # Older tenacity releases keep no record of the decision. The step did not sleep, so if the
    # outcome was retryable it must have stopped; retry predicates are pure in practice.
    if retry_state.outcome is None:
        return False
    try:
        return bool(retrying.retry(retry_state))
    except Exception:  # noqa: BLE001 - a predicate that fails now cannot be asked
        return False


def _is_sleep(action: Any) -> bool:
    import tenacity

    return isinstance(action, tenacity.DoSleep)


def _is_retry_error(raised: BaseException) -> bool:
    import tenacity

    return isinstance(raised, tenacity.RetryError)


@final
class TenacityInstrumentor(PatchingInstrumentor[_RetryTelemetry]):
    """Instrument every tenacity retry policy (sync and asyncio) in the process.

    ``instrument(tracer_provider=None, meter_provider=None)`` patches tenacity;
    ``uninstrument()`` restores it. Both are safe to call twice. Applied automatically by
    ``opentelemetry-instrument`` when tenacity >= 8 is installed (entry point
    ``foundation_tenacity``).

    .. versionadded:: 0.1.0
    """

    requirements = _INSTRUMENTS

    def _apply(self, patches: Patches, **kwargs: Any) -> _RetryTelemetry:
        import tenacity

        telemetry = _RetryTelemetry(self._tracer(kwargs), self._meter(kwargs))
        patches.install(
            tenacity.BaseRetrying, "iter", lambda original: _sync_step(original, telemetry)
        )
        patches.install(
            tenacity.Retrying, "__call__", lambda original: _sync_call(original, telemetry)
        )
        async_retrying = getattr(tenacity, "AsyncRetrying", None)
        if async_retrying is not None:
            if _defines_coroutine(async_retrying, "iter"):
                patches.install(
                    async_retrying, "iter", lambda original: _async_step(original, telemetry)
                )
            patches.install(
                async_retrying, "__call__", lambda original: _async_call(original, telemetry)
            )
        return telemetry


def _defines_coroutine(owner: type, name: str) -> bool:
    import inspect

    return inspect.iscoroutinefunction(owner.__dict__.get(name))


def _sync_step(original: Callable[..., Any], telemetry: _RetryTelemetry) -> Callable[..., Any]:
    def iter(self: Any, retry_state: Any) -> Any:
        if not telemetry.active:
            return original(self, retry_state)
        telemetry.before_step(self, retry_state)
        try:
            action = original(self, retry_state)
        except BaseException as raised:
            telemetry.failed_step(self, retry_state, raised)
            raise
        telemetry.after_step(self, retry_state, action)
        return action

    return iter


def _async_step(original: Callable[..., Any], telemetry: _RetryTelemetry) -> Callable[..., Any]:
    async def iter(self: Any, retry_state: Any) -> Any:
        if not telemetry.active:
            return await original(self, retry_state)
        telemetry.before_step(self, retry_state)
        try:
            action = await original(self, retry_state)
        except BaseException as raised:
            telemetry.failed_step(self, retry_state, raised)
            raise
        telemetry.after_step(self, retry_state, action)
        return action

    return iter


def _open(telemetry: _RetryTelemetry, retrying: Any, fn: Any) -> _Call | None:
    if not telemetry.active or not getattr(retrying, "enabled", True):
        return None
    try:
        return telemetry.open_call(retrying, fn, current=True)
    except Exception:  # noqa: BLE001 - never fail the retried call because of telemetry
        return None


def _sync_call(original: Callable[..., Any], telemetry: _RetryTelemetry) -> Callable[..., Any]:
    def __call__(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        call = _open(telemetry, self, fn)
        if call is None:
            return original(self, fn, *args, **kwargs)
        token = _opened.set((self, call))
        try:
            return original(self, fn, *args, **kwargs)
        except BaseException as raised:
            telemetry.abandoned(call, raised)
            raise
        finally:
            _opened.reset(token)
            telemetry.detach(call)

    return __call__


def _async_call(original: Callable[..., Any], telemetry: _RetryTelemetry) -> Callable[..., Any]:
    async def __call__(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        call = _open(telemetry, self, fn)
        if call is None:
            return await original(self, fn, *args, **kwargs)
        token = _opened.set((self, call))
        try:
            return await original(self, fn, *args, **kwargs)
        except BaseException as raised:
            telemetry.abandoned(call, raised)
            raise
        finally:
            _opened.reset(token)
            telemetry.detach(call)

    return __call__
