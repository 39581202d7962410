"""TelemetryService as a MetricReader: arguments, collection, health, configure(), fork."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider

import foundation_telemetry.service as service_module
from foundation_telemetry.defensive import SkipReason, skipped
from foundation_telemetry.service import Alert, AlertRule, TelemetryService

from .conftest import FakeClock, make_service


class TestPublicApi:
    def test_all(self) -> None:
        """`__all__` lists exactly the public names."""
        assert sorted(service_module.__all__) == sorted(
            [
                "AGGREGATES",
                "DEFAULT_RESOLUTION",
                "DEFAULT_RETENTION",
                "RUNTIME_METRICS",
                "SEVERITIES",
                "Alert",
                "AlertRule",
                "Anomaly",
                "CallbackNotifier",
                "LogNotifier",
                "Notifier",
                "NotifierError",
                "Stats",
                "TelemetryService",
                "WebhookNotifier",
                "enable_runtime_metrics",
                "parse_aggregate",
                "stat",
                "stats_from_points",
            ]
        )
        for name in service_module.__all__:
            assert hasattr(service_module, name)


class TestArguments:
    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"retention": -1}, ValueError, "`retention` must not be negative"),
            ({"retention": 0}, ValueError, "`retention` must be > 0"),
            ({"resolution": "20m"}, ValueError, "must not exceed `retention`"),
            ({"clock": 5}, TypeError, "`clock` must be a callable"),
            ({"ewma_alpha": 0}, ValueError, "`ewma_alpha`"),
            ({"max_series": 0}, ValueError, "`max_series` must be a positive int"),
            ({"temporality": "weekly"}, ValueError, "`temporality` must be"),
            ({"interval": -2}, ValueError, "`interval` must not be negative"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any], error: type, message: str) -> None:
        """Bad constructor arguments say what was wrong."""
        with pytest.raises(error, match=message):
            TelemetryService(**kwargs)

    def test_repr(self, service: TelemetryService) -> None:
        """The repr shows retention, resolution and the series count."""
        assert repr(service) == "TelemetryService(retention=900, resolution=10, series=0)"


class TestCollection:
    def test_periodic_mode(self) -> None:
        """With `interval`, collections and rule evaluations happen on their own thread."""
        fired = threading.Event()
        service = TelemetryService(interval=0.01)
        provider = MeterProvider(metric_readers=[service])
        try:
            provider.get_meter("t").create_observable_gauge(
                "temperature", callbacks=[lambda _o: [Observation(42.0)]]
            )
            service.add_rule(
                AlertRule("hot", "temperature", "last > 40"), notifiers=[lambda _a: fired.set()]
            )
            assert fired.wait(30)
            assert service.query("temperature").last == 42.0
        finally:
            provider.shutdown()
        assert service._thread is not None
        assert not service._thread.is_alive()

    def test_shutdown_is_idempotent_and_drops_later_alerts(self, clock: FakeClock) -> None:
        """Shutdown twice is fine; notifications after it are counted, not delivered."""
        service, provider = make_service(clock)
        delivered: list[Alert] = []
        service.add_rule(AlertRule("any", "g", "last > 0"), notifiers=[delivered.append])
        provider.get_meter("t").create_observable_gauge(
            "g", callbacks=[lambda _o: [Observation(1.0)]]
        )
        service.shutdown()
        service.shutdown()
        before = skipped("service", SkipReason.SHUTDOWN)
        service._receive_metrics(service_module._reader._EMPTY)
        assert skipped("service", SkipReason.SHUTDOWN) == before + 1
        assert delivered == []
        assert service.force_flush()  # a flush after shutdown is a quiet no-op: nothing lost
        assert skipped("service", SkipReason.SHUTDOWN) == before + 1
        provider.shutdown()

    def test_failing_callback_does_not_break_collection(self, service, clock, meter) -> None:
        """An observable callback that raises costs its points only; other metrics still land."""

        def broken(_options: CallbackOptions) -> list[Observation]:
            raise RuntimeError("sensor unplugged")

        meter.create_observable_gauge("broken", callbacks=[broken])
        counter = meter.create_counter("ok")
        clock.advance(10)
        counter.add(3)
        service.force_flush()
        assert service.query("ok").sum == 3


class TestHealth:
    def test_report(self, service, clock, meter) -> None:
        """`health()` has skip counts, handler states and the service's own state."""
        service.add_rule(AlertRule("r", "requests", "rate > 1000"))
        meter.create_counter("requests").add(1)
        clock.advance(10)
        service.force_flush()
        report = service.health()
        assert "skipped" in report
        assert isinstance(report["handlers"], list)
        own = report["service"]
        assert own["series"] == 1
        assert own["rules"] == 1
        assert own["cycles"] == 1
        assert own["active_alerts"] == []
        assert own["shutdown"] is False

    def test_handlers_section_is_the_core_one(self, service) -> None:
        """`health()["handlers"]` has the same entries, with the same keys, as the core health()."""
        from foundation_telemetry import health
        from foundation_telemetry.handlers import attach, detach

        attach("service-health-probe", "app.*", lambda *_: None)
        try:
            entries = service.health()["handlers"]
            assert entries == health()["handlers"]
            assert "service-health-probe" in [entry["handler_id"] for entry in entries]
        finally:
            detach("service-health-probe")


class TestConfigure:
    def test_as_metric_reader(self) -> None:
        """`configure(metric_readers=[service])` feeds the service behind the defensive layer."""
        from foundation_telemetry._config import configure

        clock = FakeClock()
        service = TelemetryService(clock=clock)
        telemetry = configure("svc", exporter="none", set_global=False, metric_readers=[service])
        try:
            counter = telemetry.meter_provider.get_meter("t").create_counter("jobs")
            clock.advance(10)
            counter.add(7, {"queue": "a"})
            assert telemetry.force_flush()
            assert service.query("jobs", {"queue": "a"}).sum == 7
        finally:
            telemetry.shutdown()

    def test_service_and_runtime_metrics_arguments(self) -> None:
        """`configure(service=..., runtime_metrics=True)` registers the service with process metrics."""
        pytest.importorskip(
            "opentelemetry.instrumentation.system_metrics", reason="needs the service extra"
        )
        from foundation_telemetry._config import configure

        clock = FakeClock()
        service = TelemetryService(clock=clock)
        telemetry = configure(
            "svc", exporter="none", set_global=False, service=service, runtime_metrics=True
        )
        try:
            clock.advance(10)
            assert telemetry.force_flush()
            assert service.query("process.thread.count").last >= 1
        finally:
            telemetry.shutdown()

    def test_reconfigure_keeps_the_service(self) -> None:
        """A second configure() with the same service keeps it collecting after the first ends."""
        from foundation_telemetry._config import configure

        clock = FakeClock()
        service = TelemetryService(clock=clock)
        first = configure("svc", exporter="none", set_global=False, service=service)
        second = configure("svc", exporter="none", set_global=False, service=service)
        try:
            first.shutdown()
            counter = second.meter_provider.get_meter("t").create_counter("jobs")
            clock.advance(10)
            counter.add(4)
            assert second.force_flush()
            assert service.query("jobs").sum == 4
            assert service.health()["service"]["shutdown"] is False
        finally:
            second.shutdown()
        assert service.health()["service"]["shutdown"] is True


class TestFork:
    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
    def test_child_collects_and_notifies(self, clock: FakeClock) -> None:
        """A forked child gets working locks and a fresh notification thread."""
        service, provider = make_service(clock)
        delivered: list[Alert] = []
        counter = provider.get_meter("t").create_counter("requests")
        service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5"), [delivered.append])
        clock.advance(10)
        counter.add(100)
        service.force_flush()  # the parent's notification thread now exists
        assert [a.reason for a in delivered] == ["fired"]
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: report the reasons it delivered, then leave without cleanup
            code = 1
            try:
                os.close(read)
                clock.advance(10)
                service.force_flush(timeout_millis=10_000)
                os.write(write, ",".join(a.reason for a in delivered).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read) as pipe:
            reported = pipe.read()
        _, status = os.waitpid(pid, 0)
        provider.shutdown()
        assert os.waitstatus_to_exitcode(status) == 0
        assert reported == "fired,resolved"


class TestUnregistered:
    def test_flush_without_provider(self, caplog: pytest.LogCaptureFixture) -> None:
        """Flushing a service no provider reads from is a quiet no-op."""
        service = TelemetryService()
        assert service.force_flush()
        assert service.health()["service"]["cycles"] == 0
        assert "Cannot call collect" not in caplog.text
