"""A stdlib ``logging`` bridge handler that follows the ``logging.Handler`` error convention.

The SDK's ``LoggingHandler.emit`` has no ``try``/``except`` (an error anywhere in translation or
the pipeline propagates out of the application's ``logging.warning()``, even from ``__del__`` at
teardown), and its ``flush`` starts a thread on every call, which fails with a traceback when
``logging.shutdown()`` flushes during interpreter finalization on some Python releases.
:class:`DefensiveLoggingHandler` contains and counts emit failures and never flushes at exit. It
leaves out the SDK's and our own diagnostic loggers, which propagate to the root logger it sits on:
a warning about a failing log pipeline must not be fed back into that pipeline.
"""

from __future__ import annotations

import logging
from typing import Any, final

from .._otel._compat import LoggingHandler
from ._bounded import BoundedCall
from ._classify import process_exiting
from ._debug import LOGGER_NAME, SDK_LOGGERS
from ._ledger import SkipReason, count_skip
from ._policy import contain

__all__ = ["DefensiveLoggingHandler"]

_COMPONENT = "LoggingHandler"
_DIAGNOSTIC_LOGGERS = (*SDK_LOGGERS, LOGGER_NAME)


def _is_diagnostic(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in _DIAGNOSTIC_LOGGERS)


@final
class DefensiveLoggingHandler(LoggingHandler):
    """OpenTelemetry's ``LoggingHandler`` that never raises into the ``logging`` call.

    Args:
        level: Minimum level handled, as for ``logging.Handler``.
        logger_provider: The SDK ``LoggerProvider`` records go to (default: the global one).
    """

    def __init__(self, level: int = logging.NOTSET, logger_provider: Any = None) -> None:
        super().__init__(level=level, logger_provider=logger_provider)

    def emit(self, record: logging.LogRecord) -> None:
        """Bridge *record* into the log pipeline; count and swallow any failure."""
        if _is_diagnostic(record.name):
            return
        if process_exiting():
            count_skip(_COMPONENT, SkipReason.INTERPRETER_FINALIZING, item=record.name)
            return
        try:
            super().emit(record)
        except BaseException as error:
            if contain(_COMPONENT, error, item=record.name):
                raise

    def handleError(self, record: logging.LogRecord) -> None:
        """Do nothing: failures are counted in :meth:`emit`, never printed."""

    def flush(self) -> None:
        """Start a flush on a helper thread; skipped at exit (the coordinator flushed already)."""
        if process_exiting():
            return
        force_flush = getattr(self._logger_provider, "force_flush", None)
        if callable(force_flush):
            BoundedCall(force_flush, "logging-flush").start(inline_fallback=False)
