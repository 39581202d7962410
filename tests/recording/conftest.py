"""Helpers for the testing-package tests: emit through the global API, or a standalone Recorder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from foundation_telemetry._otel._compat import LoggerProvider
from foundation_telemetry.testing import Recorder, metric_capture_options


@dataclass
class Standalone:
    """A Recorder attached to SDK providers of its own (not the globals)."""

    recorder: Recorder
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider

    @property
    def tracer(self) -> trace.Tracer:
        return self.tracer_provider.get_tracer("standalone")

    def emit(self, name: str, **attributes: Any) -> None:
        self.logger_provider.get_logger("standalone").emit(event_name=name, attributes=attributes)


@pytest.fixture
def standalone() -> Iterator[Standalone]:
    recorder = Recorder(capacity=1000)
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    meter_provider = MeterProvider(
        metric_readers=[InMemoryMetricReader()],
        shutdown_on_exit=False,
        **metric_capture_options(recorder),
    )
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    recorder.attach(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
    )
    try:
        yield Standalone(recorder, tracer_provider, meter_provider, logger_provider)
    finally:
        recorder.detach_metrics()
        tracer_provider.shutdown()
        meter_provider.shutdown()
        logger_provider.shutdown()
