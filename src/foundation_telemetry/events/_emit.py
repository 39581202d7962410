"""``emit()``: send one log-based event through the OpenTelemetry pipeline and run its handlers.

The event is a ``LogRecord`` with ``event_name`` set, emitted through the global logger provider
and carrying measurements and metadata as attributes plus the standard fields (timestamp,
``host.name``, ``process.pid``, ``correlation_id`` when one is set, and the current trace
context); the handlers attached to the name then run in the emitting thread. This is the hottest
call in the package, so attribute coercion's fast path is inlined and the logger is resolved once
per ``configure()`` (its process-wide caches are ``_state.events``). Nothing here raises into the
application. Public names: :mod:`.events`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry import _logs
from opentelemetry.context import get_current

from .. import _state
from ..defensive._ledger import SkipReason, count_skip
from ..taxonomy import TELEMETRY_HANDLER_FAILURE
from ._attributes import (
    INT64_MAX,
    INT64_MIN,
    MAX_STRING_LENGTH,
    coerce_attribute,
    coerce_name,
)
from ._correlation import CORRELATION_KEY, correlation_id
from ._dispatch import defer, dispatch, matching

__all__ = ["HOST_NAME", "PROCESS_PID", "emit"]

HOST_NAME: Final = "host.name"
"""Standard field: the host the event was emitted on."""
PROCESS_PID: Final = "process.pid"
"""Standard field: the id of the emitting process."""

_SCOPE: Final = "foundation_telemetry"
_COMPONENT: Final = "events"

# Without our global proxies (a foreign global provider, or none yet) events go through the API's
# proxy logger; with them, emit() talks to the current delegate's logger directly, re-resolved
# when configure() rebinds (one identity check instead of two forwarding layers per event).
_fallback_logger = _logs.get_logger(_SCOPE)
_PROCESS: Final = _state.process
_PROXIES: Final = _state.proxies
_EVENTS: Final = _state.events
_HANDLERS: Final = _state.handlers
_LogRecord = _logs.LogRecord
_time_ns = time.time_ns
_get_current = get_current


def _host_name() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return "unknown"


_host: Final = _host_name()


def _resolve_logger(provider: Any) -> _logs.Logger:
    logger: _logs.Logger = provider.get_logger(_SCOPE)
    _EVENTS.logger = (provider, logger)
    return logger


def _send_failures(reports: list[dict[str, Any]]) -> None:
    """Emit the failure events of handlers that dispatch detached; keep them if the stack is full."""
    for index, report in enumerate(reports):
        try:
            emit(TELEMETRY_HANDLER_FAILURE, None, **report)
        except RecursionError:  # no room to report now: the next dispatch of this thread will
            defer(reports[index:])
            return


def emit(name: str, measurements: Mapping[str, Any] | None = None, **metadata: Any) -> None:
    """Emit the event *name* as an OpenTelemetry log-based event and run its handlers.

    Args:
        name: The event name, e.g. ``"foundation.retry.attempt_start"`` (a tuple of parts is
            joined with dots).
        measurements: Numbers describing the event (``{"duration": 0.2}``); become attributes.
        **metadata: Context of the event (``service_name="api"``); become attributes. Keys
            with dots are passed as ``**{"db.system": "postgresql"}``.

    Handlers receive *measurements* and *metadata* unchanged; the log record gets them
    coerced to what OpenTelemetry can carry (values it cannot carry are dropped and counted as
    ``SkipReason.INVALID_INPUT``). Never raises.

    .. versionadded:: 0.1.0
    """
    if type(name) is not str or not name:
        name = coerce_name(_COMPONENT, name)
    ctx = _get_current()
    attributes: dict[str, Any] = {}
    try:
        # The fast path of _attributes.coerce_attributes, inlined: emit() is the hottest call.
        if metadata:
            for key, value in metadata.items():
                kind = type(value)
                if (
                    (kind is str and len(value) <= MAX_STRING_LENGTH)
                    or (kind is float and value - value == 0.0)
                    or (kind is int and INT64_MIN <= value <= INT64_MAX)
                    or kind is bool
                ):
                    attributes[key] = value
                else:
                    coerce_attribute(_COMPONENT, name, key, value, attributes)
        if measurements:
            for key, value in measurements.items():
                kind = type(value)
                if type(key) is str and (
                    (kind is float and value - value == 0.0)
                    or (kind is int and INT64_MIN <= value <= INT64_MAX)
                ):
                    attributes[key] = value
                else:
                    coerce_attribute(_COMPONENT, name, key, value, attributes)
        attributes[HOST_NAME] = _host
        attributes[PROCESS_PID] = _PROCESS.pid
        cached = _EVENTS.correlation
        found = cached[1] if cached[0] is ctx else correlation_id(ctx)
        if found is not None:
            attributes[CORRELATION_KEY] = found
        proxies = _PROXIES.installed
        if proxies is None:
            logger = _fallback_logger
        else:
            provider = proxies.logger_provider.delegate
            resolved = _EVENTS.logger
            logger = resolved[1] if resolved[0] is provider else _resolve_logger(provider)
        logger.emit(
            _LogRecord(timestamp=_time_ns(), context=ctx, event_name=name, attributes=attributes)
        )
    except Exception as error:  # noqa: BLE001 - emit never raises into the application
        count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=name, error=error)
    snapshot = _HANDLERS.snapshot
    if snapshot.handlers:
        matched = matching(snapshot, name)
        if matched:
            reports = dispatch(
                matched, name, measurements if measurements is not None else {}, metadata
            )
            if reports:
                _send_failures(reports)
