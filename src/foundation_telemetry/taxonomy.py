"""The standard ``foundation.*`` event names and the attributes each one carries.

Every part of foundation-telemetry (instrumentation, the TelemetryService, the testing helpers)
names its events with these constants, so producers and consumers agree on one spelling and a
typo is an import error instead of a test that waits forever. Each name has a documented
attribute set in :data:`EVENT_ATTRIBUTES`; names are grouped by domain in :data:`DOMAINS`.
Attribute keys follow OpenTelemetry semantic conventions where one exists (``error.type``,
``service.name``, ``db.client.connection.pool.name``) and use a ``foundation.``-free short form
otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, final

__all__ = [
    "AGENT_HEALTH_CHECK",
    "AGENT_REGISTERED",
    "AGENT_UNREGISTERED",
    "ALERT_FIRED",
    "ALERT_RESOLVED",
    "ALL_EVENTS",
    "ASYNC_COMPLETED",
    "ASYNC_FAILED",
    "ASYNC_STARTED",
    "CIRCUIT_BREAKER_CALL_FAILURE",
    "CIRCUIT_BREAKER_CALL_START",
    "CIRCUIT_BREAKER_CALL_SUCCESS",
    "CIRCUIT_BREAKER_REJECTED",
    "CIRCUIT_BREAKER_STATE_CHANGE",
    "CONNECTION_ACQUIRED",
    "CONNECTION_FAILED",
    "CONNECTION_POOL_CREATED",
    "CONNECTION_POOL_HEALTH",
    "CONNECTION_RELEASED",
    "COORDINATION_COMPLETED",
    "COORDINATION_FAILED",
    "COORDINATION_MESSAGE_RECEIVED",
    "COORDINATION_MESSAGE_SENT",
    "COORDINATION_STARTED",
    "DOMAINS",
    "EVENT_ATTRIBUTES",
    "PREFIX",
    "RESOURCE_ACQUIRED",
    "RESOURCE_EXHAUSTED",
    "RESOURCE_RELEASED",
    "RETRY_ATTEMPT_FAILURE",
    "RETRY_ATTEMPT_START",
    "RETRY_ATTEMPT_SUCCESS",
    "RETRY_BACKOFF",
    "RETRY_EXHAUSTED",
    "SERVICE_HEALTH_CHECK",
    "SERVICE_RESTARTED",
    "SERVICE_STARTED",
    "SERVICE_STOPPED",
    "TELEMETRY_EXPORTER_STATE_CHANGE",
    "TELEMETRY_HANDLER_FAILURE",
    "Attr",
]

PREFIX: Final = "foundation."


@final
class Attr:
    """Attribute keys shared by the standard events (one spelling for producers and tests)."""

    SERVICE_NAME: Final = "service.name"
    STATUS: Final = "status"
    PREVIOUS_STATUS: Final = "previous_status"
    REASON: Final = "reason"
    ERROR_TYPE: Final = "error.type"
    ERROR_MESSAGE: Final = "error.message"
    DURATION: Final = "duration"
    OPERATION: Final = "operation"
    TASK_ID: Final = "task.id"
    RESOURCE_TYPE: Final = "resource.type"
    RESOURCE_ID: Final = "resource.id"
    IN_USE: Final = "in_use"
    CAPACITY: Final = "capacity"
    BREAKER_NAME: Final = "circuit_breaker.name"
    BREAKER_STATE: Final = "circuit_breaker.state"
    COMPONENT: Final = "component"
    FROM_STATE: Final = "from_state"
    TO_STATE: Final = "to_state"
    FAILURE_COUNT: Final = "failure_count"
    RETRY_NAME: Final = "retry.name"
    ATTEMPT: Final = "attempt"
    MAX_ATTEMPTS: Final = "max_attempts"
    DELAY: Final = "delay"
    POOL_NAME: Final = "db.client.connection.pool.name"
    POOL_SIZE: Final = "pool.size"
    CONNECTIONS_IDLE: Final = "connections.idle"
    CONNECTIONS_USED: Final = "connections.used"
    WAIT_TIME: Final = "wait_time"
    HEALTHY: Final = "healthy"
    ALERT_NAME: Final = "alert.name"
    SEVERITY: Final = "severity"
    VALUE: Final = "value"
    THRESHOLD: Final = "threshold"
    HANDLER_ID: Final = "handler.id"
    EVENT_NAME: Final = "event.name"
    FAILURES: Final = "failures"
    AGENT_ID: Final = "agent.id"
    AGENT_TYPE: Final = "agent.type"
    CAPABILITIES: Final = "capabilities"
    SESSION_ID: Final = "session.id"
    PARTICIPANTS: Final = "participants"
    MESSAGE_ID: Final = "message.id"
    MESSAGE_TYPE: Final = "message.type"
    SENDER: Final = "sender"
    RECIPIENT: Final = "recipient"
    CORRELATION_ID: Final = "correlation_id"


# --- service lifecycle -------------------------------------------------------------------------
SERVICE_STARTED: Final = "foundation.service.started"
SERVICE_STOPPED: Final = "foundation.service.stopped"
SERVICE_RESTARTED: Final = "foundation.service.restarted"
SERVICE_HEALTH_CHECK: Final = "foundation.service.health_check"
# --- async work --------------------------------------------------------------------------------
ASYNC_STARTED: Final = "foundation.async.started"
ASYNC_COMPLETED: Final = "foundation.async.completed"
ASYNC_FAILED: Final = "foundation.async.failed"
# --- resources ---------------------------------------------------------------------------------
RESOURCE_ACQUIRED: Final = "foundation.resource.acquired"
RESOURCE_RELEASED: Final = "foundation.resource.released"
RESOURCE_EXHAUSTED: Final = "foundation.resource.exhausted"
# --- circuit breakers --------------------------------------------------------------------------
CIRCUIT_BREAKER_CALL_START: Final = "foundation.circuit_breaker.call_start"
CIRCUIT_BREAKER_CALL_SUCCESS: Final = "foundation.circuit_breaker.call_success"
CIRCUIT_BREAKER_CALL_FAILURE: Final = "foundation.circuit_breaker.call_failure"
CIRCUIT_BREAKER_STATE_CHANGE: Final = "foundation.circuit_breaker.state_change"
CIRCUIT_BREAKER_REJECTED: Final = "foundation.circuit_breaker.rejected"
# --- retries -----------------------------------------------------------------------------------
RETRY_ATTEMPT_START: Final = "foundation.retry.attempt_start"
RETRY_ATTEMPT_SUCCESS: Final = "foundation.retry.attempt_success"
RETRY_ATTEMPT_FAILURE: Final = "foundation.retry.attempt_failure"
RETRY_BACKOFF: Final = "foundation.retry.backoff"
RETRY_EXHAUSTED: Final = "foundation.retry.exhausted"
# --- connection pools --------------------------------------------------------------------------
CONNECTION_POOL_CREATED: Final = "foundation.connection.pool_created"
CONNECTION_ACQUIRED: Final = "foundation.connection.connection_acquired"
CONNECTION_RELEASED: Final = "foundation.connection.connection_released"
CONNECTION_FAILED: Final = "foundation.connection.connection_failed"
CONNECTION_POOL_HEALTH: Final = "foundation.connection.pool_health"
# --- alerts ------------------------------------------------------------------------------------
ALERT_FIRED: Final = "foundation.alert.fired"
ALERT_RESOLVED: Final = "foundation.alert.resolved"
# --- the telemetry layer itself ----------------------------------------------------------------
TELEMETRY_HANDLER_FAILURE: Final = "foundation.telemetry.handler.failure"
TELEMETRY_EXPORTER_STATE_CHANGE: Final = "foundation.telemetry.exporter.state_change"
# --- multi-agent systems -----------------------------------------------------------------------
AGENT_REGISTERED: Final = "foundation.agent.registered"
AGENT_UNREGISTERED: Final = "foundation.agent.unregistered"
AGENT_HEALTH_CHECK: Final = "foundation.agent.health_check"
COORDINATION_STARTED: Final = "foundation.coordination.started"
COORDINATION_MESSAGE_SENT: Final = "foundation.coordination.message_sent"
COORDINATION_MESSAGE_RECEIVED: Final = "foundation.coordination.message_received"
COORDINATION_COMPLETED: Final = "foundation.coordination.completed"
COORDINATION_FAILED: Final = "foundation.coordination.failed"

_A = Attr
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    SERVICE_STARTED: (_A.SERVICE_NAME,),
    SERVICE_STOPPED: (_A.SERVICE_NAME, _A.REASON),
    SERVICE_RESTARTED: (_A.SERVICE_NAME, _A.REASON),
    SERVICE_HEALTH_CHECK: (_A.SERVICE_NAME, _A.STATUS, _A.PREVIOUS_STATUS, _A.HEALTHY),
    ASYNC_STARTED: (_A.OPERATION, _A.TASK_ID),
    ASYNC_COMPLETED: (_A.OPERATION, _A.TASK_ID, _A.DURATION),
    ASYNC_FAILED: (_A.OPERATION, _A.TASK_ID, _A.DURATION, _A.ERROR_TYPE, _A.ERROR_MESSAGE),
    RESOURCE_ACQUIRED: (_A.RESOURCE_TYPE, _A.RESOURCE_ID, _A.IN_USE, _A.CAPACITY),
    RESOURCE_RELEASED: (_A.RESOURCE_TYPE, _A.RESOURCE_ID, _A.IN_USE, _A.CAPACITY),
    RESOURCE_EXHAUSTED: (_A.RESOURCE_TYPE, _A.IN_USE, _A.CAPACITY),
    CIRCUIT_BREAKER_CALL_START: (_A.BREAKER_NAME, _A.BREAKER_STATE),
    CIRCUIT_BREAKER_CALL_SUCCESS: (_A.BREAKER_NAME, _A.BREAKER_STATE, _A.DURATION),
    CIRCUIT_BREAKER_CALL_FAILURE: (
        _A.BREAKER_NAME,
        _A.BREAKER_STATE,
        _A.DURATION,
        _A.ERROR_TYPE,
        _A.FAILURE_COUNT,
    ),
    CIRCUIT_BREAKER_STATE_CHANGE: (_A.BREAKER_NAME, _A.FROM_STATE, _A.TO_STATE),
    CIRCUIT_BREAKER_REJECTED: (_A.BREAKER_NAME, _A.BREAKER_STATE),
    RETRY_ATTEMPT_START: (_A.RETRY_NAME, _A.ATTEMPT, _A.MAX_ATTEMPTS),
    RETRY_ATTEMPT_SUCCESS: (_A.RETRY_NAME, _A.ATTEMPT, _A.DURATION),
    RETRY_ATTEMPT_FAILURE: (_A.RETRY_NAME, _A.ATTEMPT, _A.DURATION, _A.ERROR_TYPE),
    RETRY_BACKOFF: (_A.RETRY_NAME, _A.ATTEMPT, _A.DELAY),
    RETRY_EXHAUSTED: (_A.RETRY_NAME, _A.ATTEMPT, _A.ERROR_TYPE),
    CONNECTION_POOL_CREATED: (_A.POOL_NAME, _A.POOL_SIZE),
    CONNECTION_ACQUIRED: (_A.POOL_NAME, _A.WAIT_TIME, _A.CONNECTIONS_USED),
    CONNECTION_RELEASED: (_A.POOL_NAME, _A.CONNECTIONS_USED),
    CONNECTION_FAILED: (_A.POOL_NAME, _A.ERROR_TYPE),
    CONNECTION_POOL_HEALTH: (
        _A.POOL_NAME,
        _A.HEALTHY,
        _A.POOL_SIZE,
        _A.CONNECTIONS_IDLE,
        _A.CONNECTIONS_USED,
    ),
    ALERT_FIRED: (_A.ALERT_NAME, _A.SEVERITY, _A.VALUE, _A.THRESHOLD, _A.REASON),
    ALERT_RESOLVED: (_A.ALERT_NAME, _A.SEVERITY, _A.VALUE, _A.THRESHOLD, _A.REASON),
    TELEMETRY_HANDLER_FAILURE: (
        _A.HANDLER_ID,
        _A.EVENT_NAME,
        _A.ERROR_TYPE,
        _A.ERROR_MESSAGE,
        _A.FAILURES,
    ),
    TELEMETRY_EXPORTER_STATE_CHANGE: (_A.COMPONENT, _A.FROM_STATE, _A.TO_STATE),
    AGENT_REGISTERED: (_A.AGENT_ID, _A.AGENT_TYPE, _A.CAPABILITIES),
    AGENT_UNREGISTERED: (_A.AGENT_ID, _A.REASON),
    AGENT_HEALTH_CHECK: (_A.AGENT_ID, _A.STATUS),
    COORDINATION_STARTED: (_A.SESSION_ID, _A.PARTICIPANTS),
    COORDINATION_MESSAGE_SENT: (
        _A.SESSION_ID,
        _A.MESSAGE_ID,
        _A.MESSAGE_TYPE,
        _A.SENDER,
        _A.RECIPIENT,
    ),
    COORDINATION_MESSAGE_RECEIVED: (
        _A.SESSION_ID,
        _A.MESSAGE_ID,
        _A.MESSAGE_TYPE,
        _A.SENDER,
        _A.RECIPIENT,
    ),
    COORDINATION_COMPLETED: (_A.SESSION_ID, _A.DURATION),
    COORDINATION_FAILED: (_A.SESSION_ID, _A.DURATION, _A.ERROR_TYPE, _A.REASON),
}

EVENT_ATTRIBUTES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(_ATTRIBUTES)
"""For each standard event, the attribute keys its producers set (documented in docs/taxonomy.md)."""

ALL_EVENTS: Final[frozenset[str]] = frozenset(_ATTRIBUTES)
"""Every standard event name."""


def _domains() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for name in _ATTRIBUTES:
        domain = name[len(PREFIX) :].split(".", 1)[0]
        grouped.setdefault(domain, []).append(name)
    return {domain: tuple(names) for domain, names in grouped.items()}


DOMAINS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(_domains())
"""Standard event names grouped by domain (``"retry"`` -> the five ``foundation.retry.*`` names)."""
