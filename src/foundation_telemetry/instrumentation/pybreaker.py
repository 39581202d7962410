"""OpenTelemetry instrumentation for pybreaker: calls, failures, state changes and rejections.

:class:`PyBreakerInstrumentor` registers a ``pybreaker.CircuitBreakerListener`` on every circuit
breaker (those created later, and existing ones on their next call) and reports what it hears as
``foundation.circuit_breaker.call_start``, ``call_success``, ``call_failure`` and
``state_change`` (from/to). pybreaker refuses calls while open *before* any listener runs, so
``CircuitBreaker.call`` is also wrapped to report those as ``foundation.circuit_breaker.rejected``.
Metrics: ``foundation.circuit_breaker.state`` (a gauge, 1 for the breaker's current state and 0
for the others) and ``foundation.circuit_breaker.calls`` by outcome.
"""

from __future__ import annotations

import contextvars
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, final

from opentelemetry import metrics

from .. import taxonomy
from ..events import emit
from ._extras import missing_extra

try:
    from ._common import Patches, PatchingInstrumentor, error_type, guarded
except ImportError as error:  # opentelemetry-instrumentation, which the extra installs
    raise missing_extra(
        "pybreaker", "PyBreakerInstrumentor", "opentelemetry-instrumentation", error
    ) from error

__all__ = ["BREAKER_STATES", "UNNAMED", "PyBreakerInstrumentor"]

_INSTRUMENTS: Final = ("pybreaker >= 1.0",)
_COMPONENT: Final = "instrumentation.pybreaker"
_A = taxonomy.Attr

BREAKER_STATES: Final = ("closed", "open", "half-open")
"""The values of ``circuit_breaker.state``, ``from_state`` and ``to_state``."""

UNNAMED: Final = "unnamed"
"""``circuit_breaker.name`` of a breaker created without ``name=``."""


@dataclass(slots=True)
class _Active:
    """One ``CircuitBreaker.call`` in progress (innermost last); ``started``: it got through."""

    breaker: object
    started: bool = False


_active: contextvars.ContextVar[tuple[_Active, ...]] = contextvars.ContextVar(
    "foundation_telemetry_breaker_calls", default=()
)

# Start times of guarded calls by breaker id, innermost last. Kept apart from ``_active`` because
# with ``calling()`` the guarded block runs after ``call()`` has returned; the listener's
# ``success``/``failure`` still run in the same context, so they find their start here.
_starts: contextvars.ContextVar[tuple[tuple[int, float], ...]] = contextvars.ContextVar(
    "foundation_telemetry_breaker_starts", default=()
)
_MAX_STARTS: Final = 64


def _innermost(breaker: object) -> _Active | None:
    for frame in reversed(_active.get()):
        if frame.breaker is breaker:
            return frame
    return None


def _name(breaker: Any) -> str:
    return str(breaker.name) if breaker.name else UNNAMED


class _BreakerTelemetry:
    """Listener callbacks and call-wrapper hooks that become events and metrics."""

    def __init__(self, meter: metrics.Meter) -> None:
        self._state = meter.create_gauge(
            "foundation.circuit_breaker.state",
            unit="1",
            description="1 for the circuit breaker's current state, 0 for the other states.",
        )
        self._calls = meter.create_counter(
            "foundation.circuit_breaker.calls",
            unit="{call}",
            description="Calls through a circuit breaker, by outcome (success, failure, rejected).",
        )
        self.listener: Any = None
        # False once uninstrumented: a wrapper someone else stacked on ours may still call it.
        self.active = True
        self._registered: weakref.WeakSet[Any] = weakref.WeakSet()

    # --- registration ------------------------------------------------------------------------

    @guarded(_COMPONENT)
    def register(self, breaker: Any) -> None:
        """Listen to *breaker* (once) and publish its current state."""
        if breaker in self._registered:
            return
        self._registered.add(breaker)
        breaker.add_listener(self.listener)
        self._publish_state(breaker, breaker.current_state)

    def unregister_all(self) -> None:
        """Remove our listener from every breaker it was added to."""
        for breaker in list(self._registered):
            if self.listener in breaker.listeners:
                breaker.remove_listener(self.listener)
        self._registered = weakref.WeakSet()

    def is_registered(self, breaker: Any) -> bool:
        """Whether *breaker* already has our listener."""
        return breaker in self._registered

    # --- listener callbacks ------------------------------------------------------------------

    @guarded(_COMPONENT)
    def before_call(self, breaker: Any) -> None:
        """Report a call that passed the breaker and is about to run."""
        frame = _innermost(breaker)
        if frame is not None:
            frame.started = True
        _starts.set((*_starts.get()[-_MAX_STARTS + 1 :], (id(breaker), time.monotonic())))
        emit(
            taxonomy.CIRCUIT_BREAKER_CALL_START,
            **{_A.BREAKER_NAME: _name(breaker), _A.BREAKER_STATE: breaker.current_state},
        )

    @guarded(_COMPONENT)
    def success(self, breaker: Any) -> None:
        """Report that the guarded call returned (or raised an excluded exception)."""
        name = _name(breaker)
        self._calls.add(1, {_A.BREAKER_NAME: name, "circuit_breaker.outcome": "success"})
        emit(
            taxonomy.CIRCUIT_BREAKER_CALL_SUCCESS,
            _duration(breaker),
            **{_A.BREAKER_NAME: name, _A.BREAKER_STATE: breaker.current_state},
        )

    @guarded(_COMPONENT)
    def failure(self, breaker: Any, error: BaseException) -> None:
        """Report that the guarded call raised an error the breaker counts."""
        name = _name(breaker)
        self._calls.add(1, {_A.BREAKER_NAME: name, "circuit_breaker.outcome": "failure"})
        emit(
            taxonomy.CIRCUIT_BREAKER_CALL_FAILURE,
            _duration(breaker),
            **{
                _A.BREAKER_NAME: name,
                _A.BREAKER_STATE: breaker.current_state,
                _A.ERROR_TYPE: error_type(error),
                _A.FAILURE_COUNT: breaker.fail_counter,
            },
        )

    @guarded(_COMPONENT)
    def state_change(self, breaker: Any, old: Any, new: Any) -> None:
        """Report a move from *old* to *new* (``old`` is None for a fresh breaker)."""
        from_state = old.name if old is not None else "none"
        emit(
            taxonomy.CIRCUIT_BREAKER_STATE_CHANGE,
            **{_A.BREAKER_NAME: _name(breaker), _A.FROM_STATE: from_state, _A.TO_STATE: new.name},
        )
        self._publish_state(breaker, new.name)

    # --- the call wrapper --------------------------------------------------------------------

    @guarded(_COMPONENT)
    def rejected(self, breaker: Any) -> None:
        """Report a call the breaker refused without running it."""
        name = _name(breaker)
        self._calls.add(1, {_A.BREAKER_NAME: name, "circuit_breaker.outcome": "rejected"})
        emit(
            taxonomy.CIRCUIT_BREAKER_REJECTED,
            **{_A.BREAKER_NAME: name, _A.BREAKER_STATE: breaker.current_state},
        )

    def _publish_state(self, breaker: Any, current: str) -> None:
        name = _name(breaker)
        for state in BREAKER_STATES:
            self._state.set(
                1 if state == current else 0, {_A.BREAKER_NAME: name, _A.BREAKER_STATE: state}
            )


def _duration(breaker: object) -> dict[str, float] | None:
    """Take the innermost start time of *breaker*'s calls off the stack; measure from it."""
    starts = _starts.get()
    key = id(breaker)
    for index in range(len(starts) - 1, -1, -1):
        if starts[index][0] == key:
            _starts.set(starts[:index] + starts[index + 1 :])
            return {_A.DURATION: time.monotonic() - starts[index][1]}
    return None


def _make_listener(telemetry: _BreakerTelemetry) -> Any:
    import pybreaker

    class FoundationListener(pybreaker.CircuitBreakerListener):
        """Forwards pybreaker's listener callbacks to foundation-telemetry."""

        def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
            telemetry.before_call(cb)

        def success(self, cb: Any) -> None:
            telemetry.success(cb)

        def failure(self, cb: Any, exc: BaseException) -> None:
            telemetry.failure(cb, exc)

        def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
            telemetry.state_change(cb, old_state, new_state)

    return FoundationListener()


def _wrap_init(original: Callable[..., Any], telemetry: _BreakerTelemetry) -> Callable[..., Any]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if telemetry.active:
            telemetry.register(self)

    return __init__


def _wrap_call(original: Callable[..., Any], telemetry: _BreakerTelemetry) -> Callable[..., Any]:
    import pybreaker

    def call(self: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        if not telemetry.active:
            return original(self, func, *args, **kwargs)
        if not telemetry.is_registered(self):
            telemetry.register(self)
        if _innermost(self) is not None:
            # Re-entered from the open state's half-open trial: the outer frame reports it.
            return original(self, func, *args, **kwargs)
        frame = _Active(self)
        token = _active.set((*_active.get(), frame))
        try:
            return original(self, func, *args, **kwargs)
        except pybreaker.CircuitBreakerError:
            if not frame.started:
                telemetry.rejected(self)
            raise
        finally:
            _active.reset(token)

    return call


@final
class PyBreakerInstrumentor(PatchingInstrumentor[_BreakerTelemetry]):
    """Instrument every pybreaker ``CircuitBreaker`` in the process.

    ``instrument(meter_provider=None)`` starts listening; ``uninstrument()`` removes the listener
    from every breaker and restores pybreaker. Both are safe to call twice. Applied automatically
    by ``opentelemetry-instrument`` when pybreaker >= 1.0 is installed (entry point
    ``foundation_pybreaker``).

    Rejections are seen for calls made through ``call()``, the decorator and ``calling()``;
    Tornado's ``call_async`` reports calls but not rejections.

    .. versionadded:: 0.1.0
    """

    requirements = _INSTRUMENTS

    def _apply(self, patches: Patches, **kwargs: Any) -> _BreakerTelemetry:
        import pybreaker

        telemetry = _BreakerTelemetry(self._meter(kwargs))
        telemetry.listener = _make_listener(telemetry)
        patches.install(
            pybreaker.CircuitBreaker, "__init__", lambda original: _wrap_init(original, telemetry)
        )
        patches.install(
            pybreaker.CircuitBreaker, "call", lambda original: _wrap_call(original, telemetry)
        )
        return telemetry

    def _release(self, telemetry: _BreakerTelemetry) -> None:
        telemetry.unregister_all()
