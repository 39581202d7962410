"""ServiceLifecycle: started/stopped/restarted events, health checks and readiness waits."""

from __future__ import annotations

import threading

import pytest

from foundation_telemetry import ServiceLifecycle, service_lifecycle, taxonomy
from foundation_telemetry.defensive import SkipReason, skipped


def _service_events(telemetry, name: str) -> list[tuple[str, dict[str, object]]]:
    keys = ("reason", "status", "previous_status", "healthy")
    return [
        (
            event.name.removeprefix("foundation.service."),
            {key: event.attributes[key] for key in keys if key in event.attributes},
        )
        for event in telemetry.events("foundation.service.*", attributes={"service.name": name})
    ]


def _health_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"foundation-health-{name}"]


class TestLifecycleEvents:
    def test_start_announces_the_service_and_its_first_health(self, telemetry):
        """start() emits started then a healthy health_check, so readiness waits return."""
        lifecycle = ServiceLifecycle("orders", health_interval=None)

        lifecycle.start()

        assert telemetry.wait_for_service_ready("orders").wait().name in {
            taxonomy.SERVICE_STARTED,
            taxonomy.SERVICE_HEALTH_CHECK,
        }
        assert _service_events(telemetry, "orders") == [
            ("started", {}),
            (
                "health_check",
                {"status": "healthy", "previous_status": "unknown", "healthy": True},
            ),
        ]
        lifecycle.stop()

    def test_stop_and_restart_carry_their_reason(self, telemetry):
        """restart() and stop() emit restarted (with a fresh health check) and stopped."""
        lifecycle = ServiceLifecycle("billing", health_interval=None)
        lifecycle.start()

        lifecycle.restart("config reloaded")
        lifecycle.stop("shutting down")
        lifecycle.stop("again")

        assert [name for name, _ in _service_events(telemetry, "billing")] == [
            "started",
            "health_check",
            "restarted",
            "health_check",
            "stopped",
        ]
        (restarted,) = telemetry.events(taxonomy.SERVICE_RESTARTED)
        (stopped,) = telemetry.events(taxonomy.SERVICE_STOPPED)
        assert restarted.attributes["reason"] == "config reloaded"
        assert stopped.attributes["reason"] == "shutting down"
        assert not lifecycle.running

    def test_starting_a_running_service_is_an_error(self, telemetry):
        """A second start() raises instead of announcing the service twice."""
        lifecycle = ServiceLifecycle("twice", health_interval=None)
        lifecycle.start()

        with pytest.raises(RuntimeError, match="already running"):
            lifecycle.start()

        lifecycle.stop()
        assert len(telemetry.events(taxonomy.SERVICE_STARTED)) == 1

    def test_the_domain_waits_recognise_the_events(self, telemetry):
        """wait_for_service_ready(status=...) and wait_for_process_restart match the lifecycle."""
        lifecycle = ServiceLifecycle(
            "domain", health_check=lambda: "degraded", health_interval=None
        )
        lifecycle.start()
        lifecycle.restart("deploy")

        degraded = telemetry.wait_for_service_ready("domain", status="degraded").wait()
        assert degraded.attributes["healthy"] is False
        restarted = telemetry.wait_for_process_restart("domain").wait()
        assert restarted.attributes["reason"] == "deploy"
        lifecycle.stop()


class TestHealthChecks:
    def test_the_probe_decides_the_status(self, telemetry):
        """True/False map to healthy/unhealthy; any other text is reported as the status."""
        answers = iter([True, False, "degraded"])
        lifecycle = ServiceLifecycle(
            "probe", health_check=lambda: next(answers), health_interval=None
        )
        lifecycle.start()

        assert lifecycle.check_health() == "unhealthy"
        assert lifecycle.check_health() == "degraded"

        checks = telemetry.events(taxonomy.SERVICE_HEALTH_CHECK)
        assert [(c.attributes["previous_status"], c.attributes["status"]) for c in checks] == [
            ("unknown", "healthy"),
            ("healthy", "unhealthy"),
            ("unhealthy", "degraded"),
        ]
        lifecycle.stop()

    def test_a_probe_that_raises_reports_unhealthy_and_is_counted(self, telemetry):
        """A crashing probe never escapes: the service is unhealthy and the error is counted."""

        def crash() -> bool:
            msg = "probe bug"
            raise RuntimeError(msg)

        before = skipped("lifecycle", SkipReason.UNEXPECTED)
        lifecycle = ServiceLifecycle("crashy", health_check=crash, health_interval=None)

        lifecycle.start()

        assert lifecycle.status == "unhealthy"
        assert skipped("lifecycle", SkipReason.UNEXPECTED) == before + 1
        lifecycle.stop()

    def test_checks_repeat_on_the_interval_until_stopped(self, telemetry):
        """The background thread keeps checking; stop() ends it."""
        lifecycle = ServiceLifecycle("ticking", health_interval=0.01)
        repeated = telemetry.attach_collector(
            taxonomy.SERVICE_HEALTH_CHECK, count=4, attributes={"service.name": "ticking"}
        )

        lifecycle.start()
        repeated.wait(timeout=30)
        lifecycle.stop()

        assert _health_threads("ticking") == []

    def test_without_an_interval_there_is_no_background_thread(self, telemetry):
        """``health_interval=None`` leaves health checks to the caller."""
        lifecycle = ServiceLifecycle("manual", health_interval=None)

        lifecycle.start()

        assert _health_threads("manual") == []
        assert len(telemetry.events(taxonomy.SERVICE_HEALTH_CHECK)) == 1
        lifecycle.stop()


class TestContextManagers:
    def test_the_with_block_starts_and_stops_the_service(self, telemetry):
        """Leaving the block normally stops with reason ``exited``."""
        with service_lifecycle("block", health_interval=None) as lifecycle:
            assert lifecycle.running

        (stopped,) = telemetry.events(taxonomy.SERVICE_STOPPED)
        assert stopped.attributes["reason"] == "exited"

    def test_an_error_in_the_block_stops_with_reason_error(self, telemetry):
        """The block's exception passes through and the service stops with reason ``error``."""
        with (
            pytest.raises(ValueError, match="boom"),
            service_lifecycle("failing", health_interval=None),
        ):
            raise ValueError("boom")

        (stopped,) = telemetry.events(taxonomy.SERVICE_STOPPED)
        assert stopped.attributes["reason"] == "error"

    async def test_the_async_with_block(self, telemetry):
        """``async with`` works the same way, and readiness can be awaited."""
        async with service_lifecycle("async", health_interval=None):
            record = await telemetry.wait_for_service_ready("async")

        assert record.attributes["service.name"] == "async"
        assert [name for name, _ in _service_events(telemetry, "async")][-1] == "stopped"


class TestArguments:
    @pytest.mark.parametrize("interval", [0, -1, float("nan"), float("inf"), True, "5"])
    def test_a_bad_interval_is_refused(self, interval):
        """The interval must be a positive, finite number of seconds (or None)."""
        with pytest.raises(ValueError, match="health_interval"):
            ServiceLifecycle("x", health_interval=interval)

    def test_an_empty_name_is_refused(self):
        """A service needs a name."""
        with pytest.raises(ValueError, match="name"):
            ServiceLifecycle("")

    def test_a_probe_must_be_callable(self):
        """A non-callable health check is a TypeError."""
        with pytest.raises(TypeError, match="health_check"):
            ServiceLifecycle("x", health_check=True)  # type: ignore[arg-type]


class TestExports:
    def test_the_public_names(self):
        """The module exports the class, the shorthand and the probe type, and the package both."""
        import foundation_telemetry
        from foundation_telemetry import lifecycle

        assert sorted(lifecycle.__all__) == ["HealthCheck", "ServiceLifecycle", "service_lifecycle"]
        assert foundation_telemetry.ServiceLifecycle is ServiceLifecycle
        assert foundation_telemetry.service_lifecycle is service_lifecycle
