"""Synchronous in-process handlers on event names: the ``:telemetry`` model in Python.

``attach(handler_id, pattern, fn)`` registers ``fn(name, measurements, metadata, config)`` for
every event whose name matches the glob *pattern*; ``emit()`` calls it in the emitting thread
right after the event entered the OpenTelemetry pipeline. Handlers are isolated: an exception in
one never reaches the emitter or the other handlers; after ``max_failures`` failures (default 1,
like ``:telemetry``) the handler is detached and a ``foundation.telemetry.handler.failure`` event
says so. The registry is read without locks, so dispatch cost does not grow with handlers
attached to other patterns (the implementation is ``events._dispatch``).

This module is callable: ``foundation_telemetry.handlers`` is both this module and, called, the
function :func:`handlers`, so ``ft.handlers()``, ``from foundation_telemetry import handlers;
handlers()`` and ``import foundation_telemetry.handlers as h; h.attach(...)`` all work. Type
checkers see the package attribute as the function.
"""

from __future__ import annotations

import sys
import types

from ._exports import fixup_module_metadata as _fixup_module_metadata
from .events._dispatch import HandlerFunction as HandlerFunction
from .events._dispatch import HandlerInfo as HandlerInfo
from .events._dispatch import attach as attach
from .events._dispatch import attach_many as attach_many
from .events._dispatch import detach as detach
from .events._dispatch import handler_states as handler_states
from .events._dispatch import handlers as handlers

__all__ = [
    "HandlerFunction",
    "HandlerInfo",
    "attach",
    "attach_many",
    "detach",
    "handler_states",
    "handlers",
]

_fixup_module_metadata(__name__, globals())


class _CallableModule(types.ModuleType):
    """The class of ``foundation_telemetry.handlers``: calling the module calls :func:`handlers`."""

    def __call__(self) -> list[HandlerInfo]:
        """Return the currently attached handlers, in attach order (see :func:`handlers`)."""
        return handlers()


sys.modules[__name__].__class__ = _CallableModule
