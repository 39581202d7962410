"""Classification: turn a caught exception plus the process state into a :class:`SkipReason`.

The rules follow what the stock SDK and its exporters actually raise (see the defensive-layer
docs): process state first (a dying interpreter explains almost any error), then the exception's
type, then the handful of messages the standard library uses for closed resources. The result is
stable for a given exception and state, so counts can be compared across runs.
"""

from __future__ import annotations

import errno
import sys
from typing import Final

from .. import _state
from ._ledger import SkipReason

__all__ = ["classify", "exit_sequence_ran", "process_exiting", "set_exiting"]

_SHUTDOWN: Final = _state.shutdown  # its ``exiting`` field: the exit sequence has started

_SYSTEM_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOSPC, errno.EAGAIN})

# Messages, lower-cased, that CPython and concurrent.futures use when a resource is gone.
_FINALIZING_MARKERS = (
    "interpreter shutdown",
    "sys.meta_path is none",
    "python is likely shutting down",
)
_CLOSED_MARKERS = (
    "i/o operation on closed file",
    "closed file",
    "cannot schedule new futures after shutdown",
    "already shutdown",
    "already shut down",
    "channel closed",
    "bad file descriptor",
)
_BACKEND_MODULES = ("grpc", "requests", "urllib3", "http.client", "httpx", "aiohttp")


def set_exiting(value: bool = True) -> None:
    """Tell classification that the interpreter's exit sequence has started."""
    _SHUTDOWN.exiting = value


def process_exiting() -> bool:
    """Return whether the process is in its exit sequence or finalizing."""
    return _SHUTDOWN.exiting or sys.is_finalizing()


def exit_sequence_ran() -> bool:
    """Whether the exit (or pytest session-finish) shutdown ran, or the process is exiting.

    Components it shut down drop what still arrives (counted); a component shut down by anyone
    else keeps handing items to the SDK, which has its own "already shut down" handling.
    """
    return _SHUTDOWN.exited or _SHUTDOWN.exiting or sys.is_finalizing()


def classify(error: BaseException) -> SkipReason:
    """Return the reason an item was lost to *error*, considering the process state.

    Args:
        error: The exception a wrapped hook raised.

    Returns:
        ``INTERRUPTED`` for ``KeyboardInterrupt``/``SystemExit``/``GeneratorExit``;
        ``SYSTEM_LIMIT`` for ``MemoryError``, ``RecursionError`` and out-of-descriptors/memory
        ``OSError``; ``INTERPRETER_FINALIZING`` when the interpreter is finalizing, for
        ``ImportError`` during exit, and for "... at interpreter shutdown" errors;
        ``RESOURCE_CLOSED`` for closed streams, executors and channels; ``TIMEOUT`` for SDK
        collection timeouts; ``BACKEND_UNAVAILABLE`` for connection, socket and transport errors;
        ``CONTRACT_VIOLATION`` for ``TypeError``, ``AttributeError``, ``NotImplementedError``;
        ``UNEXPECTED`` otherwise.
    """
    if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
        return SkipReason.INTERRUPTED
    if isinstance(error, MemoryError | RecursionError):
        return SkipReason.SYSTEM_LIMIT
    if isinstance(error, OSError) and error.errno in _SYSTEM_ERRNOS:
        return SkipReason.SYSTEM_LIMIT
    message = str(error).lower() if error.args else ""
    if sys.is_finalizing() or any(marker in message for marker in _FINALIZING_MARKERS):
        return SkipReason.INTERPRETER_FINALIZING
    if _SHUTDOWN.exiting and isinstance(error, ImportError | NameError):
        return SkipReason.INTERPRETER_FINALIZING
    if isinstance(error, ValueError | RuntimeError | OSError) and any(
        marker in message for marker in _CLOSED_MARKERS
    ):
        return SkipReason.RESOURCE_CLOSED
    if type(error).__name__ == "MetricsTimeoutError":
        return SkipReason.TIMEOUT
    if isinstance(error, OSError) or _from_transport(error):
        return SkipReason.BACKEND_UNAVAILABLE
    if isinstance(error, TypeError | AttributeError | NotImplementedError):
        return SkipReason.CONTRACT_VIOLATION
    return SkipReason.UNEXPECTED


def _from_transport(error: BaseException) -> bool:
    """Return whether *error* comes from a network client library (gRPC, requests, ...)."""
    for cls in type(error).__mro__:
        module = cls.__module__
        if module.startswith(_BACKEND_MODULES):
            return True
    return False
