"""The encoders exporters call: the direct encoder, or the stock one for a batch it refuses.

A batch the direct encoder does not reproduce (a value type it was not written for, a number out
of its field's range, text that is not valid UTF-8...) is encoded again by the stock
``opentelemetry-exporter-otlp-proto-common`` encoder, which then also does whatever it does with
such input (skip an attribute and log it, or raise). Each batch is counted as ``direct`` or
``fallback`` per signal, readable with :func:`encoding_counts` and in ``health()["otlp_encoding"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, TypedDict

from .. import _state
from ._logs import encode_logs as _direct_logs
from ._metrics import encode_metrics as _direct_metrics
from ._traces import encode_spans as _direct_spans

__all__ = ["EncodingCounts", "encode_logs", "encode_metrics", "encode_spans", "encoding_counts"]

_COUNTS: Final = _state.otlp_encoding


class EncodingCounts(TypedDict):
    """Batches per signal written by the direct encoder and handed to the stock one."""

    direct: dict[str, int]
    fallback: dict[str, int]
    last_fallback: str | None


def encoding_counts() -> EncodingCounts:
    """Return how many batches each encoder wrote, per signal, and the last fallback's cause."""
    return {
        "direct": dict(_COUNTS.direct),
        "fallback": dict(_COUNTS.fallback),
        "last_fallback": _COUNTS.last_fallback,
    }


def _encoded(
    signal: str, direct: Callable[[Any], bytes], stock: Callable[[Any], bytes], batch: Any
) -> bytes:
    try:
        body = direct(batch)
    except Exception as error:  # noqa: BLE001 - any refusal hands the batch to the stock encoder
        _COUNTS.fallback[signal] += 1
        _COUNTS.last_fallback = f"{signal}: {type(error).__name__}: {error}"[:200]
        return stock(batch)
    _COUNTS.direct[signal] += 1
    return body


def _stock_spans(spans: Sequence[Any]) -> bytes:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return encode_spans(spans).SerializeToString()


def _stock_logs(batch: Sequence[Any]) -> bytes:
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

    return encode_logs(batch).SerializeToString()


def _stock_metrics(data: Any) -> bytes:
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics

    return encode_metrics(data).SerializeToString()


def encode_spans(spans: Sequence[Any]) -> bytes:
    """Encode SDK ``ReadableSpan`` s as a serialised OTLP ``ExportTraceServiceRequest``.

    The same bytes as the stock ``encode_spans(spans).SerializeToString()``.
    """
    return _encoded("traces", _direct_spans, _stock_spans, spans)


def encode_logs(batch: Sequence[Any]) -> bytes:
    """Encode SDK readable log records as a serialised OTLP ``ExportLogsServiceRequest``.

    The same bytes as the stock ``encode_logs(batch).SerializeToString()``.
    """
    return _encoded("logs", _direct_logs, _stock_logs, batch)


def encode_metrics(data: Any) -> bytes:
    """Encode an SDK ``MetricsData`` as a serialised OTLP ``ExportMetricsServiceRequest``.

    The same bytes as the stock ``encode_metrics(data).SerializeToString()``.
    """
    return _encoded("metrics", _direct_metrics, _stock_metrics, data)
