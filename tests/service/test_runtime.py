"""Runtime metrics: process instruments observed on the service's provider."""

from __future__ import annotations

import pytest

from foundation_telemetry.service import RUNTIME_METRICS, TelemetryService, enable_runtime_metrics

from .conftest import FakeClock, make_service


class TestRuntimeMetrics:
    def test_process_metrics_are_stored(self, clock: FakeClock) -> None:
        """CPU, memory, GC and thread metrics of this process reach the service."""
        pytest.importorskip(
            "opentelemetry.instrumentation.system_metrics", reason="needs the service extra"
        )
        service, provider = make_service(clock)
        try:
            service.enable_runtime_metrics()
            clock.advance(10)
            service.force_flush()
            names = set(service.metrics())
            assert {
                "process.memory.usage",
                "process.thread.count",
                "process.cpu.time",
                "cpython.gc.collections",
            } <= names
            assert service.query("process.memory.usage").last > 1_000_000
            assert service.query("process.thread.count").last >= 1
            assert service.query("process.cpu.time", {"type": "user"}).last > 0
            assert not enable_runtime_metrics(provider)
        finally:
            provider.shutdown()

    def test_needs_a_provider(self) -> None:
        """Enabling runtime metrics on an unregistered service says what to do."""
        with pytest.raises(RuntimeError, match="not registered with a MeterProvider"):
            TelemetryService().enable_runtime_metrics()

    def test_only_process_instruments(self) -> None:
        """Host-wide system.* instruments are left to the Collector."""
        assert all(not name.startswith("system.") for name in RUNTIME_METRICS)
