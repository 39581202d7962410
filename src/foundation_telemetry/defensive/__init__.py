"""The defensive layer: wrappers that keep every telemetry failure away from the application.

Wrap any SDK processor, exporter or reader (``configure()`` does it for everything it builds or is
given). A failing hook is classified into a :class:`SkipReason`, counted per item in the skip
ledger (:func:`health`, the ``foundation.telemetry.skipped`` metric) and swallowed; shutdown and
flush are bounded in time and run for all three signals in parallel (:func:`shutdown_all`), at
interpreter exit before ``logging`` shuts down, and when a pytest session finishes. Debug mode
(``FOUNDATION_TELEMETRY_DEBUG=1`` or :func:`set_debug`) logs each new (component, reason) once.

Interrupt policy: ``KeyboardInterrupt`` and ``SystemExit`` raised by a component on the
application's own thread propagate (after being counted and with the OpenTelemetry context made
consistent); in telemetry threads, at exit and during finalization they are contained.
"""

from __future__ import annotations

from .._exports import fixup_module_metadata as _fixup_module_metadata
from . import _fork as _fork  # registers the fork hook
from ._classify import classify
from ._debug import debug_enabled, set_debug
from ._ledger import SkipReason, available, health, register_health_source, skipped
from ._logging_bridge import DefensiveLoggingHandler
from ._logs import DefensiveLogExporter, DefensiveLogRecordProcessor
from ._metrics import DefensiveMetricExporter, DefensiveMetricReader
from ._shutdown import (
    flush_all,
    register_for_exit,
    set_shutdown_timeout,
    shutdown_all,
)
from ._skip_metric import METRIC_NAME as SKIPPED_METRIC
from ._spans import DefensiveSpanExporter, DefensiveSpanProcessor

__all__ = [
    "SKIPPED_METRIC",
    "DefensiveLogExporter",
    "DefensiveLogRecordProcessor",
    "DefensiveLoggingHandler",
    "DefensiveMetricExporter",
    "DefensiveMetricReader",
    "DefensiveSpanExporter",
    "DefensiveSpanProcessor",
    "SkipReason",
    "available",
    "classify",
    "debug_enabled",
    "flush_all",
    "health",
    "register_for_exit",
    "register_health_source",
    "set_debug",
    "set_shutdown_timeout",
    "shutdown_all",
    "skipped",
]

_fixup_module_metadata(__name__, globals())
