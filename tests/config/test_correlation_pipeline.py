"""Where configure() stamps the correlation id: first, whatever the pipeline holds.

Without processors ahead of the exporters' own, the first batch processor stamps it (one
processor fewer per span); otherwise a ``CorrelationSpanProcessor`` runs first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from foundation_telemetry._config import configure
from foundation_telemetry._otel._internals import span_processors_of
from foundation_telemetry.correlation import CorrelationSpanProcessor, correlated


class SeesAtStart(SpanProcessor):
    """Remembers the correlation id each span carries when it reaches ``on_start``."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.seen.append(span.attributes.get("correlation_id"))


@pytest.fixture
def made() -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for telemetry in made:
        telemetry.shutdown()


def pipeline(made: list[Any], **kwargs: Any) -> Any:
    telemetry = configure("svc", set_global=False, **{"exporter": "none", **kwargs})
    made.append(telemetry)
    return telemetry


def built(telemetry: Any) -> list[Any]:
    """The processors configure() built (a session recorder may have added its own after)."""
    return [p for p in span_processors_of(telemetry.tracer_provider) if hasattr(p, "wrapped")]


def wrapped_classes(telemetry: Any) -> list[str]:
    return [type(p.wrapped).__name__ for p in built(telemetry)]


def test_the_batch_processor_stamps_when_it_is_alone(made: list[Any]) -> None:
    exporter = InMemorySpanExporter()
    telemetry = pipeline(made, span_exporters=[exporter])
    assert wrapped_classes(telemetry) == ["_CorrelatingBatchSpanProcessor"]
    with correlated("order-1"):
        telemetry.tracer_provider.get_tracer("t").start_span("work").end()
    assert telemetry.force_flush()
    assert exporter.get_finished_spans()[0].attributes["correlation_id"] == "order-1"
    (wrapper,) = built(telemetry)
    assert wrapper.component_name == "BatchSpanProcessor"  # what skip counts are filed under


def test_a_users_processor_sees_the_id_at_start(made: list[Any]) -> None:
    seeing = SeesAtStart()
    exporter = InMemorySpanExporter()
    telemetry = pipeline(made, span_processors=[seeing], span_exporters=[exporter])
    classes = wrapped_classes(telemetry)
    assert classes[0] == CorrelationSpanProcessor.__name__
    assert "_CorrelatingBatchSpanProcessor" not in classes
    with correlated("order-2"):
        telemetry.tracer_provider.get_tracer("t").start_span("work").end()
    assert seeing.seen == ["order-2"]


def test_without_a_batch_processor_the_correlation_processor_stays(made: list[Any]) -> None:
    telemetry = pipeline(made, exporter="console")
    assert wrapped_classes(telemetry) == [CorrelationSpanProcessor.__name__, "SimpleSpanProcessor"]
