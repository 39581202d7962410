"""The direct encoder writes the stock encoder's bytes for every input hypothesis generates.

Where the stock encoder raises, the direct one raises the same exception type (it handed the
batch to the stock encoder); every generated batch is either encoded directly or counted as a
fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs as stock_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics as stock_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as stock_spans

from foundation_telemetry import otlp

from ._strategies import log_batches, metrics_data, span_batches

EXAMPLES = 400
_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _total(signal: str) -> int:
    counts = otlp.encoding_counts()
    return counts["direct"].get(signal, 0) + counts["fallback"].get(signal, 0)


def _assert_same(
    signal: str, ours: Callable[[Any], bytes], stock: Callable[[Any], Any], batch: Any
) -> None:
    before = _total(signal)
    try:
        expected = stock(batch).SerializeToString()
    except Exception as error:  # noqa: BLE001 - the stock encoder's failure is the expectation
        with pytest.raises(type(error)):
            ours(batch)
    else:
        assert ours(batch) == expected
    assert _total(signal) == before + 1


@pytest.fixture(autouse=True)
def _quiet_stock_encoder(caplog: pytest.LogCaptureFixture) -> None:
    """The stock encoder logs every attribute it skips; those logs are expected here."""
    caplog.set_level("CRITICAL")


@_settings
@given(span_batches())
def test_spans(batch: list[Any]) -> None:
    _assert_same("traces", otlp.encode_spans, stock_spans, batch)


@_settings
@given(log_batches())
def test_logs(batch: list[Any]) -> None:
    _assert_same("logs", otlp.encode_logs, stock_logs, batch)


@_settings
@given(metrics_data())
def test_metrics(data: Any) -> None:
    _assert_same("metrics", otlp.encode_metrics, stock_metrics, data)


def test_a_refused_batch_is_counted_and_visible_in_health() -> None:
    """An attribute type the direct encoder was not written for goes to the stock encoder."""
    import enum

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext

    from foundation_telemetry.defensive import health

    class Level(enum.IntEnum):
        HIGH = 3

    span = ReadableSpan(
        name="refused",
        context=SpanContext(1, 2, is_remote=False),
        resource=Resource({}),
        attributes={"level": Level.HIGH},
    )
    before = otlp.encoding_counts()["fallback"].get("traces", 0)
    assert otlp.encode_spans([span]) == stock_spans([span]).SerializeToString()
    counts = health()["otlp_encoding"]
    assert counts["fallback"]["traces"] == before + 1
    assert counts["last_fallback"] == "traces: Unsupported: <enum 'Level'>"
