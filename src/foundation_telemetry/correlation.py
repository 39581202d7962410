"""Correlation ids and causality that follow work across threads, tasks and processes.

``with correlated():`` puts a correlation id into W3C baggage in the current OpenTelemetry
context, so every event emitted and every span started inside the block carries it as the
``correlation_id`` attribute (events stamp it in ``emit()``; spans through
:class:`CorrelationSpanProcessor`, which ``span()`` does not need). Context follows asyncio tasks
by itself; :class:`Thread` and :func:`bind` carry it into threads and executors; :func:`inject`
and :func:`extract` carry it (and the trace context) across a process boundary in any text
carrier (HTTP headers, message properties, environment variables). :func:`caused_by` records
causality that is not parenthood as a span link.
"""

from __future__ import annotations

from ._exports import fixup_module_metadata as _fixup_module_metadata
from .events._correlation import CORRELATION_KEY as CORRELATION_KEY
from .events._correlation import CorrelationSpanProcessor as CorrelationSpanProcessor
from .events._correlation import Thread as Thread
from .events._correlation import bind as bind
from .events._correlation import caused_by as caused_by
from .events._correlation import continued as continued
from .events._correlation import correlated as correlated
from .events._correlation import correlation_id as correlation_id
from .events._correlation import extract as extract
from .events._correlation import inject as inject
from .events._correlation import new_correlation_id as new_correlation_id

__all__ = [
    "CORRELATION_KEY",
    "CorrelationSpanProcessor",
    "Thread",
    "bind",
    "caused_by",
    "continued",
    "correlated",
    "correlation_id",
    "extract",
    "inject",
    "new_correlation_id",
]

_fixup_module_metadata(__name__, globals())
