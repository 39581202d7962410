"""What a caught error turns into: a counted skip, and, by policy, a re-raised interrupt.

``KeyboardInterrupt`` and ``SystemExit`` raised on the application's own thread propagate (the
layer never hides a user's Ctrl-C or ``sys.exit()``), but only after the skip is counted and the
OpenTelemetry context is made consistent again. In telemetry threads (batch workers, periodic
readers, our helpers), during exit and while the interpreter finalizes, they are contained and
counted like anything else.
"""

from __future__ import annotations

import threading

from opentelemetry import context as otel_context

from .._otel._internals import SUPPRESS_INSTRUMENTATION_KEY
from ._classify import classify, process_exiting
from ._ledger import count_skip

__all__ = ["HELPER_THREAD_PREFIX", "ContainsOwnFailures", "contain", "is_telemetry_thread"]

HELPER_THREAD_PREFIX = "foundation-telemetry"
_TELEMETRY_THREAD_PREFIXES = ("Otel", HELPER_THREAD_PREFIX)
_COUNTED_MARK = "_foundation_telemetry_counted"
_SUPPRESS_KEY = SUPPRESS_INSTRUMENTATION_KEY


class ContainsOwnFailures:
    """Mixin for a processor of ours whose per-item hooks contain their own failures.

    Each such hook wraps its body in ``try``/``except`` and :func:`contain`, as a wrapper would,
    so the wrapper calls it directly while open (no wrapper frame per span or record) and takes
    the hooks back when its shutdown starts, to drop and count late items as for any processor.
    """

    component_name: str  # the name its counts go under (the wrapper's, once wrapped)


def is_telemetry_thread() -> bool:
    """Return whether the current thread belongs to the telemetry pipeline, not the application."""
    return threading.current_thread().name.startswith(_TELEMETRY_THREAD_PREFIXES)


def contain(
    component: str,
    error: BaseException,
    *,
    item: str | None = None,
    count: int = 1,
) -> bool:
    """Count *count* items of *component* lost to *error*; return whether the caller must re-raise.

    Never raises itself. Returns ``True`` only for ``KeyboardInterrupt``/``SystemExit`` on an
    application thread outside the exit sequence; in that case the suppress-instrumentation flag
    a failing SDK processor may have left attached is cleared first.
    """
    try:
        if not getattr(error, _COUNTED_MARK, False):
            count_skip(component, classify(error), count, item=item, error=error)
        if not isinstance(error, KeyboardInterrupt | SystemExit):
            return False
        if process_exiting() or is_telemetry_thread():
            return False
        _restore_context()
        # An outer wrapper (e.g. the logging handler) sees the same interrupt: count it once.
        setattr(error, _COUNTED_MARK, True)
    except BaseException:  # noqa: BLE001 - containment must not fail
        return False
    return True


def _restore_context() -> None:
    """Undo a suppress-instrumentation attach that an interrupted SDK processor never detached."""
    if otel_context.get_value(_SUPPRESS_KEY):
        otel_context.attach(otel_context.set_value(_SUPPRESS_KEY, False))
