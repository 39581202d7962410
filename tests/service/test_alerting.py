"""Alerting: for-durations, resolution, escalation, repeats, rule kinds and notifier failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from foundation_telemetry.defensive import SkipReason, skipped
from foundation_telemetry.handlers import attach, detach
from foundation_telemetry.service import Alert, AlertRule, CallbackNotifier, TelemetryService

from .conftest import FakeClock


@pytest.fixture
def alerts(service: TelemetryService) -> list[Alert]:
    received: list[Alert] = []
    service.add_notifier(received.append)
    return received


@pytest.fixture
def events() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(name: str, measurements: Any, metadata: Any, _config: Any) -> None:
        seen.append((name, {**measurements, **metadata}))

    attach("test-service-alerts", "foundation.alert.*", handler)
    yield seen
    detach("test-service-alerts")


class Traffic:
    """Drives a counter through the service: `step(n)` adds n over 10 s and collects."""

    def __init__(self, service: TelemetryService, clock: FakeClock, meter: Any) -> None:
        self.service, self.clock = service, clock
        self.counter = meter.create_counter("requests")

    def step(self, amount: int, seconds: float = 10) -> None:
        self.clock.advance(seconds)
        if amount:
            self.counter.add(amount)
        self.service.force_flush()


@pytest.fixture
def traffic(service: TelemetryService, clock: FakeClock, meter: Any) -> Traffic:
    return Traffic(service, clock, meter)


def reasons(alerts: list[Alert]) -> list[tuple[str, str]]:
    return [(a.reason, a.severity) for a in alerts]


class TestLifecycle:
    def test_fires_once_then_resolves(self, service, traffic, alerts, events) -> None:
        """An alert fires once while the condition holds (dedup) and resolves when it stops."""
        service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5", labels={"team": "core"}))
        traffic.step(10)
        assert alerts == []
        traffic.step(100)
        traffic.step(100)
        traffic.step(100)
        assert reasons(alerts) == [("fired", "warning")]
        assert [a.rule for a in service.active_alerts()] == ["busy"]
        traffic.step(10)
        assert reasons(alerts) == [("fired", "warning"), ("resolved", "warning")]
        fired, resolved = alerts
        assert fired.value == 10.0
        assert fired.labels == {"team": "core"}
        assert resolved.resolved_at == traffic.clock.now
        assert resolved.fingerprint == fired.fingerprint
        assert service.active_alerts() == []
        assert [name for name, _ in events] == [
            "foundation.alert.fired",
            "foundation.alert.resolved",
        ]
        assert events[0][1]["alert.name"] == "busy"
        assert events[0][1]["severity"] == "warning"
        assert events[0][1]["reason"] == "fired"
        assert events[1][1]["reason"] == "resolved"
        assert events[0][1]["alert.label.team"] == "core"
        assert events[0][1]["value"] == 10.0

    def test_for_duration(self, service, traffic, alerts) -> None:
        """With `for_`, the condition must hold that long before the alert fires."""
        service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5", for_="30s"))
        traffic.step(100)
        traffic.step(100)
        traffic.step(100)
        assert alerts == []
        traffic.step(100)
        assert reasons(alerts) == [("fired", "warning")]
        assert alerts[0].started_at == traffic.clock.now

    def test_pending_resets(self, service, traffic, alerts) -> None:
        """A condition that stops holding before `for_` has passed starts the wait over."""
        service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5", for_=20))
        traffic.step(100)
        traffic.step(100)
        traffic.step(0)
        traffic.step(100)
        traffic.step(100)
        assert alerts == []
        traffic.step(100)
        assert len(alerts) == 1

    def test_no_data_does_not_fire_but_resolves(self, service, traffic, alerts) -> None:
        """A metric never seen does not fire; one whose series expired resolves its alert."""
        service.add_rule(AlertRule("ghost", "nothing", "rate < 1"))
        service.add_rule(AlertRule("idle", "requests", "rate[10s] < 100"))
        traffic.step(5)
        assert reasons(alerts) == [("fired", "warning")]
        traffic.step(0, seconds=2000)  # past the retention: the series is forgotten
        assert [a.reason for a in alerts] == ["fired", "resolved"]

    def test_empty_window_counts_as_zero_rate(self, service, traffic, alerts) -> None:
        """Traffic that stopped reads as rate 0 while the series is retained."""
        service.add_rule(AlertRule("stopped", "requests", "rate[30s] < 1"))
        traffic.step(100)
        traffic.step(0, seconds=60)
        assert reasons(alerts) == [("fired", "warning")]


class TestEscalation:
    def test_by_duration(self, service, traffic, alerts, events) -> None:
        """After `escalate_after` of firing, the severity goes up one step and is re-notified."""
        service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5", escalate_after="25s"))
        for _ in range(7):
            traffic.step(100)
        assert reasons(alerts) == [
            ("fired", "warning"),
            ("escalated", "error"),
            ("escalated", "critical"),
        ]
        assert [a.escalations for a in alerts] == [0, 1, 2]
        assert [a.notification for a in alerts] == [1, 2, 3]
        assert [e[1]["severity"] for e in events] == ["warning", "error", "critical"]

    def test_by_count_to_given_severity(self, service, traffic, alerts) -> None:
        """`escalate_after_count` evaluations escalate to `escalate_to`, only once."""
        service.add_rule(
            AlertRule(
                "busy",
                "requests",
                "rate[10s] > 5",
                severity="info",
                escalate_after_count=2,
                escalate_to="critical",
            )
        )
        for _ in range(6):
            traffic.step(100)
        assert reasons(alerts) == [("fired", "info"), ("escalated", "critical")]

    def test_repeat(self, service, traffic, alerts, events) -> None:
        """`repeat_every` re-notifies an ongoing alert without emitting a new event."""
        service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5", repeat_every="20s"))
        for _ in range(5):
            traffic.step(100)
        assert [a.reason for a in alerts] == ["fired", "repeated", "repeated"]
        assert len(events) == 1


class TestRuleKinds:
    def test_percentile_rule_with_attributes(self, service, clock, meter, alerts) -> None:
        """A p99 rule over one attribute set ignores the other sets."""
        latency = meter.create_histogram(
            "latency", explicit_bucket_boundaries_advisory=[0.1, 0.5, 1.0, 2.0]
        )
        service.add_rule(AlertRule("slow", "latency", "p99 > 0.5", attributes={"route": "/pay"}))
        clock.advance(10)
        latency.record(1.5, {"route": "/home"})
        latency.record(0.05, {"route": "/pay"})
        service.force_flush()
        assert alerts == []
        clock.advance(10)
        latency.record(0.9, {"route": "/pay"})
        service.force_flush()
        assert [a.rule for a in alerts] == ["slow"]
        assert alerts[0].attributes == {"route": "/pay"}

    def test_anomaly_rule(self, service, traffic, alerts) -> None:
        """An anomaly rule fires on a spike in a counter's rate, with the score as value."""
        service.add_rule(AlertRule("spike", "requests", "anomaly"))
        for amount in (100, 104, 98, 101, 99, 102):
            traffic.step(amount)
        assert alerts == []
        traffic.step(1000)
        assert [a.rule for a in alerts] == ["spike"]
        assert alerts[0].value > 3
        assert alerts[0].threshold == 3.0


class TestNotifierFailures:
    def test_failure_contained_counted_and_retried(self, service, traffic) -> None:
        """A failing notifier is counted, does not stop others, and is retried next cycle."""
        calls: list[str] = []
        good: list[Alert] = []

        def flaky(alert: Alert) -> None:
            calls.append(alert.reason)
            if len(calls) == 1:
                raise RuntimeError("boom")

        before = skipped("service.notifier", SkipReason.UNEXPECTED)
        service.add_rule(
            AlertRule("busy", "requests", "rate[10s] > 5"),
            notifiers=[CallbackNotifier(flaky, name="flaky"), good.append],
        )
        traffic.step(100)
        assert calls == ["fired"]
        assert [a.reason for a in good] == ["fired"]
        assert skipped("service.notifier", SkipReason.UNEXPECTED) == before + 1
        assert service.health()["service"]["pending_retries"] == 1
        traffic.step(100)
        assert calls == ["fired", "fired"]
        stats = service.health()["service"]["notifiers"]["flaky"]
        assert stats == {"delivered": 1, "failed": 1, "given_up": 0}

    def test_gives_up_after_attempts(self, clock, caplog) -> None:
        """A notifier that always fails is given up after `notify_attempts` tries."""
        from .conftest import make_service

        service, provider = make_service(clock, notify_attempts=2)
        try:
            counter = provider.get_meter("t").create_counter("requests")

            def broken(_alert: Alert) -> None:
                raise RuntimeError("always")

            service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5"), notifiers=[broken])
            for _ in range(4):
                clock.advance(10)
                counter.add(100)
                service.force_flush()
            name = "TestNotifierFailures.test_gives_up_after_attempts.<locals>.broken"
            assert service.health()["service"]["notifiers"][name] == {
                "delivered": 0,
                "failed": 2,
                "given_up": 1,
            }
            assert "gave up" in caplog.text
        finally:
            provider.shutdown()

    def test_slow_notifier_does_not_block_collection(self, service, traffic) -> None:
        """Notifications run on their own thread: collection returns while one is blocked."""
        release = threading.Event()
        entered = threading.Event()

        def slow(_alert: Alert) -> None:
            entered.set()
            release.wait(30)

        service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5"), notifiers=[slow])
        traffic.clock.advance(10)
        traffic.counter.add(100)
        assert service.force_flush(timeout_millis=50) is False
        assert entered.wait(30)
        release.set()
        assert service.force_flush()


class TestReentrancy:
    def test_handler_may_flush_the_service(self, service, traffic) -> None:
        """An alert-event handler may wait for another flush of the service (no lock held)."""
        seen: list[str] = []
        flushed: list[bool] = []

        def handler(name: str, _measurements: Any, _metadata: Any, _config: Any) -> None:
            # Flush from another thread and wait for it: with events emitted under the
            # collection lock this would time out instead of hanging the test run.
            done = threading.Event()
            worker = threading.Thread(target=lambda: (service.force_flush(), done.set()))
            worker.start()
            flushed.append(done.wait(10))
            seen.append(name)

        attach("test-service-reentrant", "foundation.alert.fired", handler)
        try:
            service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5"))
            traffic.step(100)
        finally:
            detach("test-service-reentrant")
        assert seen == ["foundation.alert.fired"]
        assert flushed == [True]
