"""Domain waits: a service, process, agent, session, resource or pool reached a state.

Each wait is one ``assert_telemetry_any``-style expectation over the standard ``foundation.*``
events (see :mod:`foundation_telemetry.taxonomy`), built from the same matchers and waiting
machinery: no polling, and a failure prints what was recorded instead. Events since the start of
the test (fixture) or of recording count, so waiting after the event already happened returns at
once. A domain with a failure event (``coordination.failed``) ends the wait when that arrives,
and the wait raises with it. The query API (``TelemetryQueries.wait_for_service_ready`` and
friends) turns each :class:`Plan` into a :class:`~._waits.Wait` with :func:`domain_wait`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from .. import taxonomy
from ._expectations import AnyExpectation
from ._failures import TelemetryAssertionError
from ._matchers import RecordMatcher, is_event
from ._records import EventRecord
from ._source import TelemetrySource
from ._waits import Wait
from ._watch import Watch

__all__ = [
    "Plan",
    "agent_registration",
    "connection_pool_ready",
    "coordination_completion",
    "domain_wait",
    "process_restart",
    "resource_cleanup",
    "service_ready",
]

_A: Final = taxonomy.Attr
_HEALTHY_STATUSES: Final = frozenset({"healthy", "ok", "up", "serving"})


class Plan:
    """What to wait for: matchers that succeed and matchers that end the wait as a failure."""

    __slots__ = ("failing", "matchers", "what")

    def __init__(
        self, what: str, succeed: Sequence[RecordMatcher], fail: Sequence[RecordMatcher] = ()
    ) -> None:
        self.what = what
        self.matchers = [*succeed, *fail]
        self.failing = range(len(succeed), len(self.matchers))


def _event(name: str, **attributes: Any) -> RecordMatcher:
    return RecordMatcher("event", is_event, name, attributes)


def _text(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value:
        msg = f"`{argument}` must be a non-empty str, got {value!r}."
        raise ValueError(msg)
    return value


def _healthy_status(value: Any) -> bool:
    return isinstance(value, str) and value.lower() in _HEALTHY_STATUSES


def domain_wait(
    source: TelemetrySource, plan: Plan, timeout: float | None, call: str
) -> Wait[EventRecord]:
    """Return the wait for *plan*, reading from the source's origin (the start of the test)."""
    expectation = AnyExpectation(source, plan.matchers, timeout)
    expectation.watch = Watch.from_origin(source, plan.matchers)

    def outcome() -> EventRecord:
        record = expectation.record
        if expectation.index in plan.failing:
            attributes = dict(record.attributes)
            msg = (
                f"Gave up waiting for {plan.what}: {record.name} arrived instead, "
                f"with {attributes!r}."
            )
            raise TelemetryAssertionError(msg)
        return record  # type: ignore[return-value]

    return Wait(source, expectation, outcome, call)


# --- the plans ---------------------------------------------------------------------------------


def service_ready(name: str, status: Any) -> Plan:
    """``service.started`` or a healthy ``service.health_check``; with *status*, that status."""
    service = {_A.SERVICE_NAME: _text(name, "name")}
    if status is not None:
        return Plan(
            f"service {name!r} to report status {status!r}",
            [_event(taxonomy.SERVICE_HEALTH_CHECK, **service, **{_A.STATUS: status})],
        )
    return Plan(
        f"service {name!r} to be ready",
        [
            _event(taxonomy.SERVICE_STARTED, **service),
            _event(taxonomy.SERVICE_HEALTH_CHECK, **service, **{_A.HEALTHY: True}),
            _event(taxonomy.SERVICE_HEALTH_CHECK, **service, **{_A.STATUS: _healthy_status}),
        ],
    )


def process_restart(name: str) -> Plan:
    """``service.restarted`` of the service or process *name*."""
    service = _text(name, "name")
    return Plan(
        f"{service!r} to restart",
        [_event(taxonomy.SERVICE_RESTARTED, **{_A.SERVICE_NAME: service})],
    )


def agent_registration(agent_id: str) -> Plan:
    """``agent.registered`` with that ``agent.id``."""
    agent = _text(agent_id, "agent_id")
    return Plan(
        f"agent {agent!r} to register",
        [_event(taxonomy.AGENT_REGISTERED, **{_A.AGENT_ID: agent})],
    )


def coordination_completion(session_id: str) -> Plan:
    """``coordination.completed`` of the session; ``coordination.failed`` ends it as a failure."""
    session = _text(session_id, "session_id")
    return Plan(
        f"coordination session {session!r} to complete",
        [_event(taxonomy.COORDINATION_COMPLETED, **{_A.SESSION_ID: session})],
        [_event(taxonomy.COORDINATION_FAILED, **{_A.SESSION_ID: session})],
    )


def resource_cleanup(resource_type: str) -> Plan:
    """``resource.released`` of that type with ``in_use`` 0."""
    kind = _text(resource_type, "resource_type")
    return Plan(
        f"every {kind!r} resource to be released",
        [_event(taxonomy.RESOURCE_RELEASED, **{_A.RESOURCE_TYPE: kind, _A.IN_USE: 0})],
    )


def connection_pool_ready(pool_id: str) -> Plan:
    """``connection.pool_created``, or a healthy ``pool_health``, of that pool."""
    pool = _text(pool_id, "pool_id")
    return Plan(
        f"connection pool {pool!r} to be ready",
        [
            _event(taxonomy.CONNECTION_POOL_CREATED, **{_A.POOL_NAME: pool}),
            _event(taxonomy.CONNECTION_POOL_HEALTH, **{_A.POOL_NAME: pool, _A.HEALTHY: True}),
        ],
    )
