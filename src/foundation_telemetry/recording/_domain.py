"""Domain waits: block until a service, process, agent, session, resource or pool reached a state.

Each helper is one expectation over the standard ``foundation.*`` events (see
:mod:`foundation_telemetry.taxonomy`), built from the same matchers and waiting machinery as
``assert_telemetry_any``: no polling, and a failure prints what was recorded instead. Events
since the start of the test (fixture) or of recording count, so calling a helper after the event
already happened returns at once. A helper whose domain has a failure event
(``coordination.failed``) stops waiting when that arrives and raises with it.

The helpers are methods of :class:`DomainWaits` (mixed into the query API, so
``telemetry.wait_for_agent_registration("a1")`` works on the fixture, a ``Recorder`` or the sink)
and plain functions taking that object first (``wait_for_agent_registration(telemetry, "a1")``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

from .. import taxonomy
from ._expectations import AnyExpectation
from ._failures import TelemetryAssertionError
from ._matchers import RecordMatcher, is_event
from ._records import EventRecord
from ._watch import Watch, run_async, run_sync

__all__ = [
    "DomainWaits",
    "wait_for_agent_registration",
    "wait_for_agent_registration_async",
    "wait_for_connection_pool_ready",
    "wait_for_connection_pool_ready_async",
    "wait_for_coordination_completion",
    "wait_for_coordination_completion_async",
    "wait_for_process_restart",
    "wait_for_process_restart_async",
    "wait_for_resource_cleanup",
    "wait_for_resource_cleanup_async",
    "wait_for_service_health",
    "wait_for_service_health_async",
]

_A: Final = taxonomy.Attr
F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")


class _Plan:
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


def _start(source: Any, plan: _Plan, timeout: float | None) -> AnyExpectation:
    expectation = AnyExpectation(source, plan.matchers, timeout)
    expectation._start()
    expectation.watch = Watch(expectation._source, since=source._telemetry_origin())
    return expectation


def _outcome(plan: _Plan, expectation: AnyExpectation) -> EventRecord:
    record = expectation.record
    if expectation.index in plan.failing:
        attributes = dict(record.attributes)
        msg = (
            f"Gave up waiting for {plan.what}: {record.name} arrived instead, with {attributes!r}."
        )
        raise TelemetryAssertionError(msg)
    return record  # type: ignore[return-value]


def _wait(source: Any, plan: _Plan, timeout: float | None) -> EventRecord:
    __tracebackhide__ = True
    expectation = _start(source, plan, timeout)
    run_sync(expectation, expectation._deadline)
    return _outcome(plan, expectation)


async def _wait_async(source: Any, plan: _Plan, timeout: float | None) -> EventRecord:
    __tracebackhide__ = True
    expectation = _start(source, plan, timeout)
    await run_async(expectation, expectation._deadline)
    return _outcome(plan, expectation)


# --- the plans ---------------------------------------------------------------------------------


def _service_health(name: str, status: Any) -> _Plan:
    service = _text(name, "name")
    return _Plan(
        f"service {service!r} to report status {status!r}",
        [_event(taxonomy.SERVICE_HEALTH_CHECK, **{_A.SERVICE_NAME: service, _A.STATUS: status})],
    )


def _process_restart(name: str) -> _Plan:
    service = _text(name, "name")
    return _Plan(
        f"{service!r} to restart",
        [_event(taxonomy.SERVICE_RESTARTED, **{_A.SERVICE_NAME: service})],
    )


def _agent_registration(agent_id: str) -> _Plan:
    agent = _text(agent_id, "agent_id")
    return _Plan(
        f"agent {agent!r} to register",
        [_event(taxonomy.AGENT_REGISTERED, **{_A.AGENT_ID: agent})],
    )


def _coordination_completion(session_id: str) -> _Plan:
    session = _text(session_id, "session_id")
    return _Plan(
        f"coordination session {session!r} to complete",
        [_event(taxonomy.COORDINATION_COMPLETED, **{_A.SESSION_ID: session})],
        [_event(taxonomy.COORDINATION_FAILED, **{_A.SESSION_ID: session})],
    )


def _resource_cleanup(resource_type: str) -> _Plan:
    kind = _text(resource_type, "resource_type")
    return _Plan(
        f"every {kind!r} resource to be released",
        [_event(taxonomy.RESOURCE_RELEASED, **{_A.RESOURCE_TYPE: kind, _A.IN_USE: 0})],
    )


def _pool_ready(pool_id: str) -> _Plan:
    pool = _text(pool_id, "pool_id")
    return _Plan(
        f"connection pool {pool!r} to be ready",
        [
            _event(taxonomy.CONNECTION_POOL_CREATED, **{_A.POOL_NAME: pool}),
            _event(taxonomy.CONNECTION_POOL_HEALTH, **{_A.POOL_NAME: pool, _A.HEALTHY: True}),
        ],
    )


class DomainWaits:
    """The domain waits as methods; mix into any class with the query API (``TelemetryQueries``).

    Every method has an ``_async`` twin that awaits without blocking the event loop.
    """

    def wait_for_service_health(
        self, name: str, status: Any = "healthy", timeout: float | None = None
    ) -> EventRecord:
        """Wait for ``foundation.service.health_check`` of service *name* with *status*.

        *status* is compared like any attribute matcher (a str, ``re.Pattern``, callable...).
        """
        __tracebackhide__ = True
        return _wait(self, _service_health(name, status), timeout)

    async def wait_for_service_health_async(
        self, name: str, status: Any = "healthy", timeout: float | None = None
    ) -> EventRecord:
        """Await :meth:`wait_for_service_health`."""
        __tracebackhide__ = True
        return await _wait_async(self, _service_health(name, status), timeout)

    def wait_for_process_restart(self, name: str, timeout: float | None = None) -> EventRecord:
        """Wait for ``foundation.service.restarted`` of the service or process *name*."""
        __tracebackhide__ = True
        return _wait(self, _process_restart(name), timeout)

    async def wait_for_process_restart_async(
        self, name: str, timeout: float | None = None
    ) -> EventRecord:
        """Await :meth:`wait_for_process_restart`."""
        __tracebackhide__ = True
        return await _wait_async(self, _process_restart(name), timeout)

    def wait_for_agent_registration(
        self, agent_id: str, timeout: float | None = None
    ) -> EventRecord:
        """Wait for ``foundation.agent.registered`` with ``agent.id`` *agent_id*."""
        __tracebackhide__ = True
        return _wait(self, _agent_registration(agent_id), timeout)

    async def wait_for_agent_registration_async(
        self, agent_id: str, timeout: float | None = None
    ) -> EventRecord:
        """Await :meth:`wait_for_agent_registration`."""
        __tracebackhide__ = True
        return await _wait_async(self, _agent_registration(agent_id), timeout)

    def wait_for_coordination_completion(
        self, session_id: str, timeout: float | None = None
    ) -> EventRecord:
        """Wait for ``foundation.coordination.completed`` of *session_id*.

        Raises:
            TelemetryAssertionError: ``foundation.coordination.failed`` arrived for the session
                first, or nothing within the timeout.
        """
        __tracebackhide__ = True
        return _wait(self, _coordination_completion(session_id), timeout)

    async def wait_for_coordination_completion_async(
        self, session_id: str, timeout: float | None = None
    ) -> EventRecord:
        """Await :meth:`wait_for_coordination_completion`."""
        __tracebackhide__ = True
        return await _wait_async(self, _coordination_completion(session_id), timeout)

    def wait_for_resource_cleanup(
        self, resource_type: str, timeout: float | None = None
    ) -> EventRecord:
        """Wait for ``foundation.resource.released`` of *resource_type* with ``in_use`` 0."""
        __tracebackhide__ = True
        return _wait(self, _resource_cleanup(resource_type), timeout)

    async def wait_for_resource_cleanup_async(
        self, resource_type: str, timeout: float | None = None
    ) -> EventRecord:
        """Await :meth:`wait_for_resource_cleanup`."""
        __tracebackhide__ = True
        return await _wait_async(self, _resource_cleanup(resource_type), timeout)

    def wait_for_connection_pool_ready(
        self, pool_id: str, timeout: float | None = None
    ) -> EventRecord:
        """Wait for ``pool_created`` or a healthy ``pool_health`` of the pool named *pool_id*."""
        __tracebackhide__ = True
        return _wait(self, _pool_ready(pool_id), timeout)

    async def wait_for_connection_pool_ready_async(
        self, pool_id: str, timeout: float | None = None
    ) -> EventRecord:
        """Await :meth:`wait_for_connection_pool_ready`."""
        __tracebackhide__ = True
        return await _wait_async(self, _pool_ready(pool_id), timeout)


def _function(
    method: Callable[Concatenate[DomainWaits, P], EventRecord],
) -> Callable[Concatenate[Any, P], EventRecord]:
    def wait(source: Any, /, *args: P.args, **kwargs: P.kwargs) -> EventRecord:
        __tracebackhide__ = True
        return method(source, *args, **kwargs)

    return _named(wait, method)


def _async_function(
    method: Callable[Concatenate[DomainWaits, P], Coroutine[Any, Any, EventRecord]],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, EventRecord]]:
    async def wait(source: Any, /, *args: P.args, **kwargs: P.kwargs) -> EventRecord:
        __tracebackhide__ = True
        return await method(source, *args, **kwargs)

    return _named(wait, method)


def _named(wait: F, method: Callable[..., Any]) -> F:
    wait.__name__ = wait.__qualname__ = method.__name__
    wait.__doc__ = f"{method.__doc__}\n\nFunction form: pass the fixture, Recorder or Sink first."
    return wait


_W = DomainWaits
wait_for_service_health = _function(_W.wait_for_service_health)
wait_for_service_health_async = _async_function(_W.wait_for_service_health_async)
wait_for_process_restart = _function(_W.wait_for_process_restart)
wait_for_process_restart_async = _async_function(_W.wait_for_process_restart_async)
wait_for_agent_registration = _function(_W.wait_for_agent_registration)
wait_for_agent_registration_async = _async_function(_W.wait_for_agent_registration_async)
wait_for_coordination_completion = _function(_W.wait_for_coordination_completion)
wait_for_coordination_completion_async = _async_function(_W.wait_for_coordination_completion_async)
wait_for_resource_cleanup = _function(_W.wait_for_resource_cleanup)
wait_for_resource_cleanup_async = _async_function(_W.wait_for_resource_cleanup_async)
wait_for_connection_pool_ready = _function(_W.wait_for_connection_pool_ready)
wait_for_connection_pool_ready_async = _async_function(_W.wait_for_connection_pool_ready_async)
