"""Fixtures: each instrumentor applied for one test, on top of the ``telemetry`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from foundation_telemetry.instrumentation import (
    PyBreakerInstrumentor,
    SQLAlchemyPoolInstrumentor,
    TenacityInstrumentor,
)
from foundation_telemetry.testing import TelemetryFixture


def _applied(instrumentor: Any, telemetry: TelemetryFixture) -> Iterator[TelemetryFixture]:
    instrumentor.instrument()
    try:
        yield telemetry
    finally:
        instrumentor.uninstrument()


@pytest.fixture
def retries(telemetry: TelemetryFixture) -> Iterator[TelemetryFixture]:
    """The telemetry fixture with tenacity instrumented."""
    yield from _applied(TenacityInstrumentor(), telemetry)


@pytest.fixture
def breakers(telemetry: TelemetryFixture) -> Iterator[TelemetryFixture]:
    """The telemetry fixture with pybreaker instrumented."""
    yield from _applied(PyBreakerInstrumentor(), telemetry)


@pytest.fixture
def pools(telemetry: TelemetryFixture) -> Iterator[TelemetryFixture]:
    """The telemetry fixture with SQLAlchemy pools instrumented."""
    yield from _applied(SQLAlchemyPoolInstrumentor(), telemetry)


def attrs(record: Any, *keys: str) -> dict[str, Any]:
    """The subset of a record's attributes named *keys* (those present)."""
    return {key: record.attributes[key] for key in keys if key in record.attributes}


def metric_sum(
    telemetry: TelemetryFixture, name: str, match: dict[str, Any] | None = None
) -> float:
    """Sum of the measurements of metric *name* whose attributes include *match*."""
    return sum(
        point.value
        for point in telemetry.metric_points(name)
        if all(point.attributes.get(key) == value for key, value in (match or {}).items())
    )
