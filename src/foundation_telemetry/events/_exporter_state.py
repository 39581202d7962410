"""Exporter breaker moves as events: ``foundation.telemetry.exporter.state_change``.

The defensive layer sits below ``events`` and cannot emit; it reports every move of an exporter's
backend-down breaker (``closed`` → ``open`` → ``half_open`` → ``closed``) to listeners, and this
module, imported with the package, is the one that turns each move into the standard event with
``component``, ``from_state`` and ``to_state``.
"""

from __future__ import annotations

from ..defensive._breaker import add_breaker_listener
from ..taxonomy import TELEMETRY_EXPORTER_STATE_CHANGE, Attr
from ._emit import emit

__all__ = ["emit_state_change"]


def emit_state_change(component: str, from_state: str, to_state: str) -> None:
    """Emit the state-change event for one breaker move."""
    metadata = {Attr.COMPONENT: component, Attr.FROM_STATE: from_state, Attr.TO_STATE: to_state}
    emit(TELEMETRY_EXPORTER_STATE_CHANGE, None, **metadata)


add_breaker_listener(emit_state_change)
