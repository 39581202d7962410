"""The handler registry and dispatch behind ``attach()`` and ``emit()``; never imports ``_emit``.

The registry (its state is ``_state.handlers``) is read without locks: ``attach``/``detach`` swap
in a new immutable snapshot under a lock, and the handlers for each event name are resolved once
per snapshot and cached, so dispatch cost does not grow with handlers attached to other patterns.
Handlers are isolated: an exception in one never reaches the emitter or the other handlers; after
``max_failures`` failures the handler is detached and :func:`dispatch` hands the failure event's
attributes back to ``emit()``, which sends it. The public names are in :mod:`..handlers`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, cast

from .. import _state
from .._state import HandlerSnapshot
from ..defensive._ledger import SkipReason, count_skip, register_health_source
from ._attributes import error_message
from ._patterns import NameMatcher, check_patterns

__all__ = [
    "HandlerFunction",
    "HandlerInfo",
    "attach",
    "attach_many",
    "defer",
    "detach",
    "dispatch",
    "handler_states",
    "handlers",
    "matching",
]

HandlerFunction: TypeAlias = Callable[[str, Mapping[str, Any], Mapping[str, Any], Any], object]
"""``fn(name, measurements, metadata, config)``; the return value is ignored."""

_COMPONENT: Final = "handlers"
_HANDLERS: Final = _state.handlers
_CACHE_LIMIT: Final = 4096  # distinct event names resolved per snapshot before we stop caching


@dataclass(frozen=True, slots=True)
class HandlerInfo:
    """A read-only view of one handler, as listed by :func:`handlers` and :func:`handler_states`.

    ``state`` is ``"attached"``, ``"detached"`` (by :func:`detach`) or ``"failed"`` (detached
    after ``max_failures`` failures; ``last_error`` says why).
    """

    handler_id: str
    patterns: tuple[str, ...]
    function: HandlerFunction
    config: Any
    max_failures: int | None
    failures: int
    state: str
    last_error: str | None


class _Handler:
    __slots__ = (
        "active",
        "config",
        "failures",
        "function",
        "handler_id",
        "last_error",
        "matcher",
        "max_failures",
        "state",
    )

    def __init__(
        self,
        handler_id: str,
        patterns: tuple[str, ...],
        function: HandlerFunction,
        config: Any,
        max_failures: int | None,
    ) -> None:
        self.handler_id = handler_id
        self.function = function
        self.config = config
        self.max_failures = max_failures
        self.failures = 0
        self.last_error: str | None = None
        self.active = True
        self.state = "attached"
        self.matcher = NameMatcher(patterns)

    @property
    def patterns(self) -> tuple[str, ...]:
        return self.matcher.patterns

    def info(self) -> HandlerInfo:
        return HandlerInfo(
            handler_id=self.handler_id,
            patterns=self.patterns,
            function=self.function,
            config=self.config,
            max_failures=self.max_failures,
            failures=self.failures,
            state=self.state,
            last_error=self.last_error,
        )


def attach(
    handler_id: str,
    pattern: str,
    fn: HandlerFunction,
    config: Any = None,
    *,
    max_failures: int | None = 1,
) -> None:
    """Call ``fn(name, measurements, metadata, config)`` for every event matching *pattern*.

    Args:
        handler_id: A unique id; attaching a second handler with the same id raises.
        pattern: An event name or a glob (``"foundation.retry.*"``; ``*`` also matches dots).
        fn: Runs synchronously in the emitting thread; keep it fast and let it raise freely.
        config: Passed to *fn* unchanged as its fourth argument.
        max_failures: Detach the handler after this many exceptions (``None``: never).

    Raises:
        ValueError: *handler_id* is already attached, or an argument is empty or out of range.
        TypeError: An argument has the wrong type.

    .. versionadded:: 0.1.0
    """
    if not isinstance(pattern, str):
        msg = f"`pattern` must be a str such as 'foundation.retry.*', got {pattern!r}."
        raise TypeError(msg)
    attach_many(handler_id, (pattern,), fn, config, max_failures=max_failures)


def attach_many(
    handler_id: str,
    patterns: Iterable[str],
    fn: HandlerFunction,
    config: Any = None,
    *,
    max_failures: int | None = 1,
) -> None:
    """Like :func:`attach`, for several patterns under one handler id.

    .. versionadded:: 0.1.0
    """
    handler = _Handler(
        _check_id(handler_id),
        _check_patterns(patterns),
        _check_fn(fn),
        config,
        _check_max(max_failures),
    )
    with _HANDLERS.lock:
        current = _HANDLERS.snapshot.handlers
        for existing in current:
            if existing.handler_id == handler_id:
                msg = (
                    f"A handler with id {handler_id!r} is already attached "
                    f"(patterns {list(existing.patterns)!r}); detach it first or choose another id."
                )
                raise ValueError(msg)
        _HANDLERS.snapshot = HandlerSnapshot((*current, handler), {})


def detach(handler_id: str) -> bool:
    """Detach the handler *handler_id*; return whether one was attached.

    Once ``detach`` returns, no new call of the handler starts (a call already running in another
    thread finishes).

    .. versionadded:: 0.1.0
    """
    handler = _remove(handler_id, state="detached")
    return handler is not None


def handlers() -> list[HandlerInfo]:
    """Return the currently attached handlers, in attach order.

    .. versionadded:: 0.1.0
    """
    return [handler.info() for handler in _HANDLERS.snapshot.handlers]


def handler_states() -> list[HandlerInfo]:
    """Return attached handlers plus the most recent ones detached after failures (for ``health()``).

    .. versionadded:: 0.1.0
    """
    with _HANDLERS.lock:
        failed = [handler.info() for handler in _HANDLERS.history]
    return handlers() + failed


def _remove(handler_id: str, *, state: str) -> _Handler | None:
    with _HANDLERS.lock:
        current: tuple[_Handler, ...] = _HANDLERS.snapshot.handlers
        for handler in current:
            if handler.handler_id == handler_id:
                handler.active = False
                handler.state = state
                _HANDLERS.snapshot = HandlerSnapshot(
                    tuple(h for h in current if h is not handler), {}
                )
                return handler
    return None


def matching(snapshot: HandlerSnapshot, name: str) -> tuple[_Handler, ...]:
    """Return the handlers of *snapshot* matching *name* (resolved once per name and snapshot)."""
    found = snapshot.by_name.get(name)
    if found is None:
        found = tuple(handler for handler in snapshot.handlers if handler.matcher.matches(name))
        if len(snapshot.by_name) < _CACHE_LIMIT:
            snapshot.by_name[name] = found
    return found


def dispatch(
    matched: tuple[_Handler, ...],
    name: str,
    measurements: Mapping[str, Any],
    metadata: Mapping[str, Any],
) -> list[dict[str, Any]] | None:
    """Run *matched* handlers for one event; a raising handler is counted and maybe detached.

    Returns the failure events (``foundation.telemetry.handler.failure`` attributes) the caller
    must emit: those of this thread, once its outermost dispatch finishes. A handler that failed
    with ``RecursionError`` deep in a chain of nested emits is so reported only after the chain
    unwound, where there is stack to report it.
    """
    depth = _HANDLERS.depth.cell
    depth[0] += 1
    try:
        for handler in matched:
            if not handler.active:
                continue
            try:
                handler.function(name, measurements, metadata, handler.config)
            except Exception as error:  # noqa: BLE001 - handlers are isolated from the emitter
                _handler_failed(handler, name, error)
    finally:
        depth[0] -= 1
    if _HANDLERS.pending_count and not depth[0]:
        return _take_pending()
    return None


def defer(reports: list[dict[str, Any]]) -> None:
    """Put failure *reports* the caller could not emit back, for this thread's next dispatch."""
    with _HANDLERS.lock:
        _HANDLERS.pending.setdefault(threading.get_ident(), [])[:0] = reports
        _HANDLERS.pending_count += len(reports)


def _take_pending() -> list[dict[str, Any]]:
    with _HANDLERS.lock:
        reports = _HANDLERS.pending.pop(threading.get_ident(), [])
        _HANDLERS.pending_count -= len(reports)
    return reports


def _handler_failed(handler: _Handler, name: str, error: Exception) -> None:
    count_skip(
        _COMPONENT, SkipReason.UNEXPECTED, item=f"{handler.handler_id} on {name}", error=error
    )
    message = error_message(error)
    with _HANDLERS.lock:
        handler.failures += 1
        handler.last_error = f"{type(error).__name__}: {message}"
        exhausted = handler.max_failures is not None and handler.failures >= handler.max_failures
        failures = handler.failures
    if not exhausted or _remove(handler.handler_id, state="failed") is not handler:
        return
    report = {
        "handler.id": handler.handler_id,
        "event.name": name,
        "error.type": type(error).__qualname__,
        "error.message": message,
        "failures": failures,
    }
    with _HANDLERS.lock:
        _HANDLERS.history.append(handler)
        _HANDLERS.pending.setdefault(threading.get_ident(), []).append(report)
        _HANDLERS.pending_count += 1


def _check_id(handler_id: object) -> str:
    if not isinstance(handler_id, str) or not handler_id:
        msg = f"`handler_id` must be a non-empty str, got {handler_id!r}."
        raise TypeError(msg)
    return handler_id


def _check_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    if isinstance(patterns, str):
        msg = (
            f"`patterns` must be a list of patterns, got the single str {patterns!r}; use attach()."
        )
        raise TypeError(msg)
    return check_patterns(patterns, "patterns")


def _check_fn(fn: object) -> HandlerFunction:
    if not callable(fn):
        msg = f"`fn` must be callable as fn(name, measurements, metadata, config), got {fn!r}."
        raise TypeError(msg)
    return cast("HandlerFunction", fn)


def _check_max(max_failures: object) -> int | None:
    if max_failures is None:
        return None
    if not isinstance(max_failures, int) or isinstance(max_failures, bool) or max_failures < 1:
        msg = f"`max_failures` must be an int >= 1 or None (never detach), got {max_failures!r}."
        raise ValueError(msg)
    return max_failures


def _health_report() -> list[dict[str, Any]]:
    """Return the handler part of ``foundation_telemetry.health()``."""
    return [
        {
            "handler_id": info.handler_id,
            "patterns": list(info.patterns),
            "state": info.state,
            "failures": info.failures,
            "max_failures": info.max_failures,
            "last_error": info.last_error,
        }
        for info in handler_states()
    ]


register_health_source("handlers", _health_report)
