"""Debug diagnostics: each skip logged once per (component, reason), through a path that cannot loop.

Silent unless debug mode is on (``FOUNDATION_TELEMETRY_DEBUG=1`` or :func:`set_debug`). Messages go
to the ``foundation_telemetry.defensive`` logger, which never propagates to the root logger (where
an OpenTelemetry ``LoggingHandler`` may feed the very pipeline that is failing) and writes to the
*current* ``sys.stderr`` only when it is open and the interpreter is not finalizing. For the
pipelines ``configure()`` builds, the SDK's own diagnostics (``opentelemetry.sdk``/
``opentelemetry.exporter`` loggers) also go this way (:func:`guard_sdk_diagnostics`), so they never
reach ``lastResort``; they still propagate to the application's handlers.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Final

from .. import _state
from ._classify import classify
from ._ledger import SkipReason, count_skip, subscribe_skips

__all__ = [
    "LOGGER_NAME",
    "SDK_LOGGERS",
    "debug_enabled",
    "guard_sdk_diagnostics",
    "set_debug",
]

LOGGER_NAME = "foundation_telemetry.defensive"
SDK_LOGGERS = ("opentelemetry.sdk", "opentelemetry.exporter")
_TRUTHY = frozenset({"1", "true", "yes", "on"})

# Debug mode and the pairs already logged are _state.debug's fields (a fork resets them there).
_DEBUG: Final = _state.debug
_DEBUG.enabled = os.environ.get("FOUNDATION_TELEMETRY_DEBUG", "").strip().lower() in _TRUTHY


class _SafeStderrHandler(logging.Handler):
    """Write to the current ``sys.stderr`` unless it is gone, closed, or the interpreter is dying."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            if stream is None or getattr(stream, "closed", False) or sys.is_finalizing():
                return
            stream.write(self.format(record) + "\n")
            stream.flush()
        except BaseException:  # noqa: BLE001 - a diagnostic must never become a failure itself
            pass

    def handleError(self, record: logging.LogRecord) -> None:
        """Drop the record: the stock handler would print a traceback to stderr."""


def _build_logger() -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    logger.propagate = False
    if not any(isinstance(handler, _SafeStderrHandler) for handler in logger.handlers):
        handler = _SafeStderrHandler()
        handler.setFormatter(logging.Formatter("foundation-telemetry: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return logger


_logger = _build_logger()


def set_debug(enabled: bool) -> None:
    """Turn debug mode on or off; turning it on again re-arms the once-per-key log.

    Args:
        enabled: ``True`` logs each new (component, reason) skip once to stderr.

    Raises:
        TypeError: *enabled* is not a bool.
    """
    if not isinstance(enabled, bool):
        msg = f"`enabled` must be a bool, got {enabled!r}."
        raise TypeError(msg)
    if enabled and not _DEBUG.enabled:
        with _DEBUG.seen_lock:
            _DEBUG.seen.clear()
            _sdk_handler.seen.clear()
    _DEBUG.enabled = enabled


def debug_enabled() -> bool:
    """Return whether debug mode is on."""
    return _DEBUG.enabled


def _on_skip(
    component: str,
    reason: SkipReason,
    count: int,
    item: str | None,
    error: BaseException | None,
) -> None:
    if not _DEBUG.enabled:
        return
    key = (component, reason)
    with _DEBUG.seen_lock:
        if key in _DEBUG.seen:
            return
        _DEBUG.seen.add(key)
    thread = threading.current_thread()
    detail = "" if error is None else f": {type(error).__name__}: {error}"
    _logger.warning(
        "skipped %d item(s) in %s (reason=%s, item=%s, pid=%d, thread=%s)%s; "
        "the application continues, further skips with this reason are counted silently",
        count,
        component,
        reason.value,
        item if item is not None else "-",
        os.getpid(),
        thread.name,
        detail,
    )


class _SdkDiagnosticsHandler(logging.Handler):
    """Forward the SDK's own log records to the debug logger in debug mode; drop them otherwise."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: set[tuple[str, str]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            error = record.exc_info[1] if record.exc_info else None
            if error is not None:  # the SDK caught it before any wrapper could: still count it
                component = "ObservableCallback" if "instrument" in record.name else record.name
                count_skip(component, classify(error), item=record.getMessage()[:80], error=error)
            if not _DEBUG.enabled or record.levelno < logging.WARNING:
                return
            key = (record.name, str(record.msg))
            if key in self.seen:
                return
            self.seen.add(key)
            _logger.warning("[%s] %s", record.name, record.getMessage())
        except BaseException:  # noqa: BLE001 - see _SafeStderrHandler.emit
            pass

    def handleError(self, record: logging.LogRecord) -> None:
        """Drop the record instead of printing a traceback."""


_sdk_handler = _SdkDiagnosticsHandler()


def guard_sdk_diagnostics() -> None:
    """Route the SDK's and exporters' own loggers through the debug path too (idempotent).

    ``configure()`` calls it for the pipeline it builds; wrapping a component alone never does.
    The loggers keep propagating (``caplog``, ``assertLogs`` and the application's handlers see
    every SDK warning); having a handler of their own means a warning with no handler on the root
    logger no longer prints through ``logging.lastResort`` (the stderr noise at exit). That the
    records do not re-enter the log pipeline through our ``LoggingHandler`` is the handler's job.
    """
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if _sdk_handler not in logger.handlers:
            logger.addHandler(_sdk_handler)


subscribe_skips(_on_skip)
