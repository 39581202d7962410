"""Fixtures for the TelemetryService tests: a fake clock and a service on a private provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider

from foundation_telemetry.service import TelemetryService


class FakeClock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(clock: FakeClock) -> Iterator[TelemetryService]:
    svc = TelemetryService(clock=clock)
    provider = MeterProvider(metric_readers=[svc])
    svc.test_provider = provider  # type: ignore[attr-defined]
    yield svc
    provider.shutdown()


@pytest.fixture
def meter(service: TelemetryService) -> Meter:
    return service.test_provider.get_meter("tests.service")  # type: ignore[attr-defined,no-any-return]


def make_service(clock: FakeClock, **kwargs: object) -> tuple[TelemetryService, MeterProvider]:
    """Build a service registered on its own provider (the caller shuts the provider down)."""
    svc = TelemetryService(clock=clock, **kwargs)  # type: ignore[arg-type]
    return svc, MeterProvider(metric_readers=[svc])
