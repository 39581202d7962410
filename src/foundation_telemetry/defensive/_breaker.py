"""The backend-down breaker of every exporter wrapper: skip at once while one probe retries.

After an export fails because the backend is unavailable (connection refused, gRPC
``UNAVAILABLE``, HTTP 503, a ``FAILURE`` result, an export that timed out), the breaker opens:
further exports are skipped at once and counted as ``BACKEND_UNAVAILABLE``, so a span ended
under a ``SimpleSpanProcessor`` with the collector down costs microseconds, not the exporter's
retry schedule. After a back-off (0.5 s, doubling to 30 s), or at once when a flush asks for
delivery, one export at a time goes through as a probe (``half_open``); its success closes the breaker, its failure opens it again for longer.
Each move (but those during the exporter's own shutdown) is reported to the listeners (``events`` emits ``foundation.telemetry.exporter.
state_change`` with ``component``, ``from_state`` and ``to_state``, like the pybreaker
instrumentation's ``foundation.circuit_breaker.state_change``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Final

from opentelemetry import context as otel_context

from .. import _state
from .._otel import _internals

__all__ = [
    "CLOSED",
    "FIRST_BACKOFF",
    "HALF_OPEN",
    "MAX_BACKOFF",
    "OPEN",
    "Breaker",
    "add_breaker_listener",
    "clock",
    "remove_breaker_listener",
]

CLOSED: Final = "closed"
OPEN: Final = "open"
HALF_OPEN: Final = "half_open"
FIRST_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 30.0

#: The clock the back-off is measured on (a test may replace it with a fake one).
clock: Callable[[], float] = time.monotonic

_LEDGER: Final = _state.ledger  # its ``breaker_listeners`` field
_SUPPRESS_KEY: Final = _internals.SUPPRESS_INSTRUMENTATION_KEY


def add_breaker_listener(listener: Callable[[str, str, str], None]) -> None:
    """Call *listener(component, from_state, to_state)* on every breaker move."""
    with _LEDGER.lock:
        _LEDGER.breaker_listeners = (*_LEDGER.breaker_listeners, listener)


def remove_breaker_listener(listener: Callable[[str, str, str], None]) -> None:
    """Stop calling *listener*."""
    with _LEDGER.lock:
        _LEDGER.breaker_listeners = tuple(
            known for known in _LEDGER.breaker_listeners if known is not listener
        )


def _notify(component: str, old: str, new: str) -> None:
    listeners = _LEDGER.breaker_listeners
    if not listeners:
        return
    # The move often happens inside an export that suppresses instrumentation; the event about
    # it must not be suppressed with it.
    token = otel_context.attach(otel_context.set_value(_SUPPRESS_KEY, False))
    try:
        for listener in listeners:
            with contextlib.suppress(Exception):  # a listener never breaks an export
                listener(component, old, new)
    finally:
        otel_context.detach(token)


class Breaker:
    """One exporter's breaker; :meth:`admit` before an export, :meth:`record` after it."""

    __slots__ = ("_backoff", "_component", "_lock", "_probe_at", "_probing", "quiet", "state")

    def __init__(self, component: str) -> None:
        self._component = component
        self._lock = threading.Lock()
        self.state = CLOSED
        self._backoff = FIRST_BACKOFF
        self._probe_at = 0.0
        self._probing = False
        self.quiet = False
        """Set once the exporter is shutting down: its last moves are not reported."""

    def reinit_after_fork(self) -> None:
        """Forget the parent's lock and probe (the child's backend may be another story)."""
        self._lock = threading.Lock()
        self._probing = False

    def admit(self) -> bool:
        """Whether an export may run now: always when closed, one probe at a time when open."""
        if self.state == CLOSED:
            return True
        with self._lock:
            if self._probing or clock() < self._probe_at:
                return False
            self._probing = True
        self._move(HALF_OPEN)
        return True

    def probe_now(self) -> None:
        """Let the next export probe at once (an explicit flush asks for delivery now)."""
        with self._lock:
            self._probe_at = 0.0

    def record(self, *, available: bool) -> None:
        """Record how an admitted export went: the backend answered, or it was unavailable."""
        if available:
            if self.state == CLOSED:
                return
            with self._lock:
                self._probing = False
                self._backoff = FIRST_BACKOFF
            self._move(CLOSED)
            return
        with self._lock:
            was_probe = self._probing
            self._probing = False
            if was_probe:
                self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            self._probe_at = clock() + self._backoff
        self._move(OPEN)

    def _move(self, new: str) -> None:
        old, self.state = self.state, new
        if old != new and not self.quiet:
            _notify(self._component, old, new)
