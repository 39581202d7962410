"""``emit()``, ``span()`` and ``instrument()``: every operation emits events with one small API.

``emit(name, measurements, **metadata)`` sends an OpenTelemetry log-based event
(``LogRecord.event_name = name``) through the global logger provider, carrying measurements and
metadata as attributes plus the standard fields (timestamp, ``host.name``, ``process.pid``,
``correlation_id`` when one is set, and the current trace context), then runs the handlers
attached to that name in the emitting thread. ``span(name, **attributes)`` wraps a block or a
function in an OpenTelemetry span and emits ``<name>.start`` / ``<name>.stop`` /
``<name>.exception`` around it, like ``:telemetry.span``, recording the duration in a histogram.
Nothing here raises into the application: bad input is coerced or dropped and counted. The
implementation is in ``_emit`` and ``_spans``.
"""

from __future__ import annotations

from .._exports import fixup_module_metadata as _fixup_module_metadata
from . import _exporter_state as _exporter_state  # emits the exporter breaker's moves
from ._emit import HOST_NAME, PROCESS_PID, emit
from ._spans import SpanScope, instrument, span

__all__ = [
    "HOST_NAME",
    "PROCESS_PID",
    "SpanScope",
    "emit",
    "instrument",
    "span",
]

_fixup_module_metadata(__name__, globals())
