"""The instrumented sample service behind ``foundation-telemetry demo`` and ``make demo``.

A small asyncio order-processing service calls a flaky payment dependency through tenacity and a
pybreaker circuit breaker and stores orders through a SQLite-backed SQLAlchemy pool, all three
instrumented by :mod:`foundation_telemetry.instrumentation`. It exports over OTLP to an embedded
:class:`~foundation_telemetry.sink.Sink` (or to ``--endpoint`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``),
runs the TelemetryService with an alert rule, injects seeded faults so the breaker opens and
closes and the alert fires and resolves, and ends with a report whose accounting must balance.
"""

from __future__ import annotations

from ._report import Accounting as Accounting
from ._report import DemoReport as DemoReport
from ._run import DemoConfig as DemoConfig
from ._run import run_demo as run_demo

__all__ = ["Accounting", "DemoConfig", "DemoReport", "run_demo"]
