"""Skip accounting: every telemetry item that is not delivered is counted here by reason.

This is the one ledger the defensive layer, ``emit()`` and the processors write to when they drop
something instead of raising into the application. It is deliberately tiny and lock-cheap because
it sits on hot paths; reporting (``health()``, the ``foundation.telemetry.skipped`` metric, debug
logging) reads from it.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Callable
from typing import Any, Final

from .. import _state

__all__ = [
    "HealthReport",
    "SkipReason",
    "available",
    "component_states",
    "count_skip",
    "health",
    "mark_shutdown",
    "register_health_source",
    "set_component_state",
    "skip_counts",
    "skipped",
    "subscribe_skips",
]


class SkipReason(enum.Enum):
    """Why a telemetry item was not delivered."""

    BACKEND_UNAVAILABLE = "backend_unavailable"
    REJECTED = "rejected"
    SHUTDOWN = "shutdown"
    INTERPRETER_FINALIZING = "interpreter_finalizing"
    RESOURCE_CLOSED = "resource_closed"
    SYSTEM_LIMIT = "system_limit"
    CONTRACT_VIOLATION = "contract_violation"
    TIMEOUT = "timeout"
    INVALID_INPUT = "invalid_input"
    QUEUE_FULL = "queue_full"
    INTERRUPTED = "interrupted"
    UNEXPECTED = "unexpected"


SkipListener = Callable[[str, SkipReason, int, "str | None", "BaseException | None"], None]

# The counts, states, sources and listeners are _state.ledger's fields (a fork resets them there).
_LEDGER: Final = _state.ledger


def count_skip(
    component: str,
    reason: SkipReason,
    count: int = 1,
    *,
    item: str | None = None,
    error: BaseException | None = None,
) -> None:
    """Record that *count* items of *component* were not delivered because of *reason*.

    Never raises: it is called from places that must not fail.
    """
    try:
        ledger = _LEDGER
        with ledger.lock:
            ledger.counts[(component, reason)] += count
        for listener in ledger.listeners:
            with contextlib.suppress(Exception):
                listener(component, reason, count, item, error)
    except BaseException:  # noqa: BLE001 - counting happens in finalizers too
        pass


def skip_counts() -> dict[tuple[str, SkipReason], int]:
    """Return a snapshot of the skip counts keyed by ``(component, reason)``."""
    with _LEDGER.lock:
        return dict(_LEDGER.counts)


def skipped(component: str | None = None, reason: SkipReason | None = None) -> int:
    """Return how many items were skipped so far, in total or for one component and/or reason.

    ``skipped()`` is ``health()["skipped_total"]``; ``skipped("events", SkipReason.INVALID_INPUT)``
    is one cell of ``health()["skipped"]`` (0 when nothing was counted there). Compare two calls
    to see what an operation lost.

    Args:
        component: A component name as it appears in ``health()["skipped"]``; ``None``: all.
        reason: A :class:`SkipReason`; ``None``: all reasons.

    Raises:
        TypeError: *reason* is not a ``SkipReason`` (or *component* not a str).

    .. versionadded:: 0.1.0
    """
    if component is not None and not isinstance(component, str):
        msg = f"`component` must be a component name (str) or None, got {component!r}."
        raise TypeError(msg)
    if reason is not None and not isinstance(reason, SkipReason):
        msg = f"`reason` must be a SkipReason (e.g. SkipReason.TIMEOUT) or None, got {reason!r}."
        raise TypeError(msg)
    return sum(
        count
        for (counted_component, counted_reason), count in skip_counts().items()
        if component in (None, counted_component) and reason in (None, counted_reason)
    )


def subscribe_skips(listener: SkipListener) -> Callable[[], None]:
    """Call *listener* for every future skip; returns a function that unsubscribes it."""
    with _LEDGER.lock:
        _LEDGER.listeners = (*_LEDGER.listeners, listener)

    def unsubscribe() -> None:
        with _LEDGER.lock:
            _LEDGER.listeners = tuple(item for item in _LEDGER.listeners if item is not listener)

    return unsubscribe


HealthSource = Callable[[], Any]
HealthReport = dict[str, Any]

#: States an exporter wrapper reports; "ok" and "idle" mean data is flowing (or could).
FLOWING_STATES = frozenset({"idle", "ok"})


def set_component_state(component: str, state: str, *, error: BaseException | None = None) -> None:
    """Record the current *state* of *component* (an exporter: ``ok``, ``failing``, ``hung``...).

    Called on transitions only, never per item. Never raises.
    """
    try:
        entry = {
            "state": state,
            "since": time.time(),
            "last_error": None if error is None else f"{type(error).__name__}: {error}",
        }
        with _LEDGER.lock:
            _LEDGER.states[component] = entry
    except BaseException:  # noqa: BLE001 - state tracking happens in finalizers too
        pass


def component_states() -> dict[str, dict[str, Any]]:
    """Return a snapshot of the component states keyed by component name."""
    with _LEDGER.lock:
        return {name: dict(entry) for name, entry in _LEDGER.states.items()}


def mark_shutdown(done: bool = True) -> None:
    """Note that telemetry was shut down (or, with ``False``, started again by ``configure()``)."""
    _LEDGER.shut_down = done


def register_health_source(name: str, source: HealthSource) -> Callable[[], None]:
    """Add ``source()``'s result to :func:`health` under *name*; returns an unregister function.

    Args:
        name: The key the result appears under, e.g. ``"handlers"``.
        source: A callable returning something printable (usually a dict). It is called on every
            ``health()``; if it raises, the report carries the error text instead.

    Raises:
        ValueError: *name* is empty or is one of the report's own keys.
        TypeError: *source* is not callable.
    """
    if not name or name in _RESERVED_KEYS:
        msg = f"`name` must be a non-empty key other than {sorted(_RESERVED_KEYS)}, got {name!r}."
        raise ValueError(msg)
    if not callable(source):
        msg = f"`source` must be a callable returning the report part, got {source!r}."
        raise TypeError(msg)
    with _LEDGER.lock:
        _LEDGER.sources[name] = source

    def unregister() -> None:
        with _LEDGER.lock:
            if _LEDGER.sources.get(name) is source:
                del _LEDGER.sources[name]

    return unregister


_RESERVED_KEYS = frozenset({"available", "shutdown", "skipped", "skipped_total", "components"})


def available() -> bool:
    """Return whether telemetry is currently flowing.

    ``False`` after shutdown, or while any exporter's most recent export failed, timed out or is
    hanging; ``True`` again after its next successful export.
    """
    if _LEDGER.shut_down:
        return False
    with _LEDGER.lock:
        return all(entry["state"] in FLOWING_STATES for entry in _LEDGER.states.values())


def health() -> HealthReport:
    """Return the health report: skip counts, component states and registered sources.

    Keys: ``available`` (see :func:`available`), ``shutdown``, ``skipped`` (``{component:
    {reason: count}}``), ``skipped_total``, ``components`` (``{name: {"state", "since",
    "last_error"}}``) and one key per :func:`register_health_source` source.
    """
    skipped: dict[str, dict[str, int]] = {}
    total = 0
    for (component, reason), count in skip_counts().items():
        skipped.setdefault(component, {})[reason.value] = count
        total += count
    report: HealthReport = {
        "available": available(),
        "shutdown": _LEDGER.shut_down,
        "skipped": skipped,
        "skipped_total": total,
        "components": component_states(),
    }
    with _LEDGER.lock:
        sources = dict(_LEDGER.sources)
    for name, source in sources.items():
        try:
            report[name] = source()
        except Exception as error:  # noqa: BLE001 - a broken source must not break health()
            report[name] = {"error": f"{type(error).__name__}: {error}"}
    return report
