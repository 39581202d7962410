"""Domain waits (recording/_domain.py) on the telemetry fixture: services, agents, sessions, pools."""

from __future__ import annotations

import threading

import pytest

from foundation_telemetry import taxonomy
from foundation_telemetry.events import emit
from foundation_telemetry.taxonomy import Attr
from foundation_telemetry.testing import TelemetryAssertionError, Wait

SHORT = 0.3  # seconds: only for the waits that are meant to time out


def _emit_from_thread(gate: threading.Event, name: str, **attributes) -> threading.Thread:
    def produce() -> None:
        assert gate.wait(10)
        emit(name, None, **attributes)

    thread = threading.Thread(target=produce)
    thread.start()
    return thread


class TestDomainWaits:
    def test_service_health_from_another_thread(self, telemetry):
        """The wait returns the health check of that service with that status."""
        gate = threading.Event()
        worker = _emit_from_thread(
            gate,
            taxonomy.SERVICE_HEALTH_CHECK,
            **{Attr.SERVICE_NAME: "api", Attr.STATUS: "degraded"},
        )
        emit(
            taxonomy.SERVICE_HEALTH_CHECK,
            None,
            **{Attr.SERVICE_NAME: "db", Attr.STATUS: "degraded"},
        )
        gate.set()
        record = telemetry.wait_for_service_ready("api", timeout=10, status="degraded").wait()
        worker.join(10)
        assert record.attributes[Attr.SERVICE_NAME] == "api"

    def test_service_health_wrong_status_times_out(self, telemetry):
        """A health check with another status does not satisfy the wait."""
        emit(taxonomy.SERVICE_HEALTH_CHECK, None, **{Attr.SERVICE_NAME: "api", Attr.STATUS: "down"})
        with pytest.raises(TelemetryAssertionError, match="health_check"):
            telemetry.wait_for_service_ready("api", timeout=SHORT, status="healthy").wait()

    def test_already_emitted_counts(self, telemetry):
        """An event emitted earlier in the test satisfies a later wait at once."""
        emit(taxonomy.SERVICE_RESTARTED, None, **{Attr.SERVICE_NAME: "worker-1"})
        assert telemetry.wait_for_process_restart("worker-1", timeout=10).wait().name == (
            taxonomy.SERVICE_RESTARTED
        )

    def test_agent_registration_ignores_other_agents(self, telemetry):
        """Only the registration of the requested agent id matches."""
        emit(taxonomy.AGENT_REGISTERED, None, **{Attr.AGENT_ID: "other"})
        with pytest.raises(TelemetryAssertionError):
            telemetry.wait_for_agent_registration("agent-7", timeout=SHORT).wait()
        emit(taxonomy.AGENT_REGISTERED, None, **{Attr.AGENT_ID: "agent-7"})
        assert (
            telemetry.wait_for_agent_registration("agent-7", timeout=10)
            .wait()
            .attributes[Attr.AGENT_ID]
            == "agent-7"
        )

    def test_coordination_completed(self, telemetry):
        """The completion of the session is returned."""
        gate = threading.Event()
        worker = _emit_from_thread(
            gate, taxonomy.COORDINATION_COMPLETED, **{Attr.SESSION_ID: "s1", Attr.DURATION: 1.5}
        )
        gate.set()
        record = telemetry.wait_for_coordination_completion("s1", timeout=10).wait()
        worker.join(10)
        assert record.attributes[Attr.DURATION] == 1.5

    def test_coordination_failure_ends_the_wait(self, telemetry):
        """A coordination.failed event for the session fails the wait with its details."""
        emit(taxonomy.COORDINATION_FAILED, None, **{Attr.SESSION_ID: "s2", Attr.REASON: "quorum"})
        with pytest.raises(TelemetryAssertionError, match=r"coordination\.failed.*quorum"):
            telemetry.wait_for_coordination_completion("s2", timeout=10).wait()

    def test_resource_cleanup_needs_zero_in_use(self, telemetry):
        """Cleanup means a release that leaves nothing of that type in use."""
        emit(taxonomy.RESOURCE_RELEASED, None, **{Attr.RESOURCE_TYPE: "socket", Attr.IN_USE: 2})
        with pytest.raises(TelemetryAssertionError):
            telemetry.wait_for_resource_cleanup("socket", timeout=SHORT).wait()
        emit(taxonomy.RESOURCE_RELEASED, None, **{Attr.RESOURCE_TYPE: "socket", Attr.IN_USE: 0})
        assert (
            telemetry.wait_for_resource_cleanup("socket", timeout=10).wait().attributes[Attr.IN_USE]
            == 0
        )

    @pytest.mark.parametrize(
        ("name", "attributes"),
        [
            (taxonomy.CONNECTION_POOL_CREATED, {Attr.POOL_SIZE: 5}),
            (taxonomy.CONNECTION_POOL_HEALTH, {Attr.HEALTHY: True}),
        ],
    )
    def test_pool_ready(self, telemetry, name, attributes):
        """A pool is ready when created or reported healthy."""
        emit(name, None, **{Attr.POOL_NAME: "main", **attributes})
        assert telemetry.wait_for_connection_pool_ready("main", timeout=10).wait().name == name

    def test_unhealthy_pool_is_not_ready(self, telemetry):
        """An unhealthy pool_health does not satisfy the wait."""
        emit(taxonomy.CONNECTION_POOL_HEALTH, None, **{Attr.POOL_NAME: "main", Attr.HEALTHY: False})
        with pytest.raises(TelemetryAssertionError):
            telemetry.wait_for_connection_pool_ready("main", timeout=SHORT).wait()

    @pytest.mark.parametrize(
        "call",
        [
            lambda t: t.wait_for_agent_registration(""),
            lambda t: t.wait_for_coordination_completion(3),
            lambda t: t.wait_for_service_ready(None),
        ],
    )
    def test_bad_arguments(self, telemetry, call):
        """An empty or non-string id is a clear ValueError."""
        with pytest.raises(ValueError, match="non-empty str"):
            call(telemetry)

    async def test_awaited(self, telemetry):
        """Awaiting a domain wait gives its record, or raises its failure, without blocking the loop."""
        emit(taxonomy.AGENT_REGISTERED, None, **{Attr.AGENT_ID: "async-agent"})
        record = await telemetry.wait_for_agent_registration("async-agent", timeout=10)
        assert record.attributes[Attr.AGENT_ID] == "async-agent"
        emit(taxonomy.COORDINATION_FAILED, None, **{Attr.SESSION_ID: "s3"})
        with pytest.raises(TelemetryAssertionError, match="failed"):
            await telemetry.wait_for_coordination_completion("s3", timeout=10)

    def test_every_domain_wait_is_a_wait_object(self, telemetry):
        """Each domain wait returns a Wait that looks for nothing until it is waited for."""
        waits = [
            telemetry.wait_for_service_ready("svc"),
            telemetry.wait_for_process_restart("svc"),
            telemetry.wait_for_agent_registration("a"),
            telemetry.wait_for_coordination_completion("s"),
            telemetry.wait_for_resource_cleanup("r"),
            telemetry.wait_for_connection_pool_ready("p"),
        ]
        assert all(type(wait) is Wait and not wait.waited for wait in waits)
        emit(taxonomy.SERVICE_STARTED, None, **{Attr.SERVICE_NAME: "svc"})
        emit(taxonomy.SERVICE_RESTARTED, None, **{Attr.SERVICE_NAME: "svc"})
        emit(taxonomy.AGENT_REGISTERED, None, **{Attr.AGENT_ID: "a"})
        emit(taxonomy.COORDINATION_COMPLETED, None, **{Attr.SESSION_ID: "s"})
        emit(taxonomy.RESOURCE_RELEASED, None, **{Attr.RESOURCE_TYPE: "r", Attr.IN_USE: 0})
        emit(taxonomy.CONNECTION_POOL_CREATED, None, **{Attr.POOL_NAME: "p"})
        names = [wait.wait(timeout=10).name for wait in waits]
        assert names == [
            taxonomy.SERVICE_STARTED,
            taxonomy.SERVICE_RESTARTED,
            taxonomy.AGENT_REGISTERED,
            taxonomy.COORDINATION_COMPLETED,
            taxonomy.RESOURCE_RELEASED,
            taxonomy.CONNECTION_POOL_CREATED,
        ]
