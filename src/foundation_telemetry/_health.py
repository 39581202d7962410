"""Skip accounting: every telemetry item that is not delivered is counted here by reason.

This is the one ledger the defensive layer, ``emit()`` and the processors write to when they drop
something instead of raising into the application. It is deliberately tiny and lock-cheap because
it sits on hot paths; reporting (``health()``, the ``foundation.telemetry.skipped`` metric, debug
logging) reads from it.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
from collections import Counter
from collections.abc import Callable

__all__ = ["SkipReason", "count_skip", "skip_counts", "subscribe_skips"]


class SkipReason(enum.Enum):
    """Why a telemetry item was not delivered."""

    BACKEND_UNAVAILABLE = "backend_unavailable"
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

_lock = threading.Lock()
_counts: Counter[tuple[str, SkipReason]] = Counter()
_listeners: tuple[SkipListener, ...] = ()


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
        with _lock:
            _counts[(component, reason)] += count
        for listener in _listeners:
            with contextlib.suppress(Exception):
                listener(component, reason, count, item, error)
    except BaseException:  # noqa: BLE001 - counting happens in finalizers too
        pass


def skip_counts() -> dict[tuple[str, SkipReason], int]:
    """Return a snapshot of the skip counts keyed by ``(component, reason)``."""
    with _lock:
        return dict(_counts)


def subscribe_skips(listener: SkipListener) -> Callable[[], None]:
    """Call *listener* for every future skip; returns a function that unsubscribes it."""
    global _listeners
    with _lock:
        _listeners = (*_listeners, listener)

    def unsubscribe() -> None:
        global _listeners
        with _lock:
            _listeners = tuple(item for item in _listeners if item is not listener)

    return unsubscribe


def _reset_for_fork() -> None:
    """Give a forked child a fresh ledger (its parent's counts are not its own)."""
    global _lock
    _lock = threading.Lock()
    _counts.clear()


os.register_at_fork(after_in_child=_reset_for_fork)
