"""Decode OTLP export requests (protobuf or OTLP/JSON) into the shared record views.

Both transports hand this module a request body and get back the request message, how many items
it carries, and the ``SpanRecord`` / ``EventRecord`` / ``MetricPoint`` views the Recorder also
produces, each carrying its resource attributes and instrumentation scope. OTLP/JSON differs from
the protobuf JSON mapping only in its ids (hex instead of base64), which are translated here
before the standard parser runs.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from ..recording._records import EventRecord, MetricPoint, RecordKind, SpanEventView, SpanRecord

__all__ = [
    "DecodeFailure",
    "Record",
    "Signal",
    "any_value",
    "attributes",
    "decode_records",
    "parse_request",
]

Record = SpanRecord | EventRecord | MetricPoint

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class DecodeFailure(ValueError):
    """A request body that is not a valid OTLP message of the expected kind."""


@dataclass(frozen=True)
class _SignalInfo:
    path: str
    request_type: type[Message]
    response_type: type[Message]
    partial_type: type[Message]
    rejected_field: str
    noun: str


class Signal(enum.Enum):
    """One of the three OTLP signals, with what each transport needs to know about it."""

    TRACES = _SignalInfo(
        "/v1/traces",
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        trace_service_pb2.ExportTracePartialSuccess,
        "rejected_spans",
        "span",
    )
    METRICS = _SignalInfo(
        "/v1/metrics",
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        metrics_service_pb2.ExportMetricsPartialSuccess,
        "rejected_data_points",
        "data point",
    )
    LOGS = _SignalInfo(
        "/v1/logs",
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
        logs_service_pb2.ExportLogsPartialSuccess,
        "rejected_log_records",
        "log record",
    )

    @property
    def info(self) -> _SignalInfo:
        """The signal's message types and names."""
        value: _SignalInfo = self.value
        return value

    def response(self, rejected: int = 0, message: str = "") -> Message:
        """Build the export response, with a partial-success part when items were rejected."""
        response = self.info.response_type()
        if rejected or message:
            partial = self.info.partial_type(**{self.info.rejected_field: rejected})
            if message:
                partial.error_message = message  # type: ignore[attr-defined]
            response.partial_success.CopyFrom(partial)  # type: ignore[attr-defined]
        return response


def parse_request(signal: Signal, body: bytes, *, json_encoded: bool = False) -> Message:
    """Parse *body* as *signal*'s export request; raises `DecodeFailure` with a readable reason."""
    message = signal.info.request_type()
    if json_encoded:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            msg = f"body is not valid JSON: {error}"
            raise DecodeFailure(msg) from error
        if not isinstance(document, dict):
            msg = f"OTLP/JSON body must be an object, got {type(document).__name__}"
            raise DecodeFailure(msg)
        try:
            # Receivers must ignore fields they do not know (OTLP specification, JSON encoding).
            json_format.ParseDict(_hex_ids_to_base64(document), message, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
            msg = f"body is not a valid OTLP/JSON {signal.info.request_type.__name__}: {error}"
            raise DecodeFailure(msg) from error
        return message
    try:
        message.ParseFromString(body)
    except (DecodeError, RuntimeError, ValueError, RecursionError) as error:
        msg = f"body is not a valid protobuf {signal.info.request_type.__name__}: {error}"
        raise DecodeFailure(msg) from error
    return message


def _hex_ids_to_base64(node: Any) -> Any:
    """Translate OTLP/JSON hex trace and span ids into the base64 the protobuf parser expects."""
    if isinstance(node, dict):
        return {
            key: _id_to_base64(key, value)
            if key in _ID_KEYS and isinstance(value, str)
            else _hex_ids_to_base64(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    return node


def _id_to_base64(key: str, value: str) -> str:
    try:
        raw = bytes.fromhex(value)
    except ValueError as error:
        msg = f"{key} must be a hex string (OTLP/JSON), got {value!r}"
        raise DecodeFailure(msg) from error
    return base64.b64encode(raw).decode("ascii")


def decode_records(signal: Signal, request: Message) -> list[Record]:
    """Decode every item of *request* into record views, in request order.

    Raises:
        DecodeFailure: a trace or span id has the wrong length.
    """
    return [decode(item, origin) for decode, item, origin in _walk(signal, request)]


Origin = dict[str, Any]
_Decoder = Callable[[Any, Origin], Record]
_Item = tuple[_Decoder, Any, Origin]


def _origin(resource_part: Any, scope_part: Any) -> Origin:
    """Return the resource and scope fields every record of one scope shares (one dict)."""
    scope = scope_part.scope
    return {
        "resource": attributes(resource_part.resource.attributes),
        "schema_url": resource_part.schema_url,
        "scope": scope.name or None,
        "scope_version": scope.version or None,
        "scope_attributes": attributes(scope.attributes),
        "scope_schema_url": scope_part.schema_url,
    }


def _walk(signal: Signal, request: Message) -> Iterator[_Item]:
    """Yield each item of *request* with its decoder and resource/scope fields."""
    if signal is Signal.TRACES:
        traces: trace_service_pb2.ExportTraceServiceRequest = request  # type: ignore[assignment]
        for resource_spans in traces.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                origin = _origin(resource_spans, scope_spans)
                for span in scope_spans.spans:
                    yield _span, span, origin
    elif signal is Signal.LOGS:
        logs: logs_service_pb2.ExportLogsServiceRequest = request  # type: ignore[assignment]
        for resource_logs in logs.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                origin = _origin(resource_logs, scope_logs)
                for log in scope_logs.log_records:
                    yield _log, log, origin
    else:
        metrics: metrics_service_pb2.ExportMetricsServiceRequest = request  # type: ignore[assignment]
        for resource_metrics in metrics.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                origin = _origin(resource_metrics, scope_metrics)
                for metric in scope_metrics.metrics:
                    for point in _points(metric):
                        yield _metric_point, (metric, point), origin


def any_value(value: AnyValue) -> Any:
    """Return the Python value of an OTLP ``AnyValue`` (arrays become tuples, kvlists dicts)."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return tuple(any_value(item) for item in value.array_value.values)
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, which)


_SCALARS = frozenset({"string_value", "bool_value", "int_value", "double_value", "bytes_value"})


def attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """Return OTLP key-value pairs as a plain dict."""
    out: dict[str, Any] = {}
    for pair in pairs:
        value = pair.value
        which = value.WhichOneof("value")
        # Inlined scalar case: this loop is the sink's hot path.
        out[pair.key] = getattr(value, which) if which in _SCALARS else any_value(value)
    return out


_SPAN_KINDS = {
    number: name.removeprefix("SPAN_KIND_").replace("UNSPECIFIED", "INTERNAL")
    for name, number in trace_pb2.Span.SpanKind.items()
}
_STATUS_CODES = {
    number: name.removeprefix("STATUS_CODE_")
    for name, number in trace_pb2.Status.StatusCode.items()
}


def _id(raw: bytes, size: int, what: str) -> int:
    if len(raw) != size:
        msg = f"{what} must be {size} bytes ({size * 2} hex digits), got {len(raw)} bytes"
        raise DecodeFailure(msg)
    return int.from_bytes(raw, "big")


def _optional_id(raw: bytes, size: int, what: str) -> int | None:
    """Return an id that may be absent (empty or all zero), else of exactly *size* bytes."""
    if not raw:
        return None
    value = _id(raw, size, what)
    return value or None


def _span(span: trace_pb2.Span, origin: Origin) -> Record:
    status = span.status
    links = span.links
    return SpanRecord(
        name=span.name,
        attributes=attributes(span.attributes),
        trace_id=_id(span.trace_id, 16, "traceId"),
        span_id=_id(span.span_id, 8, "spanId"),
        parent_span_id=_optional_id(span.parent_span_id, 8, "parentSpanId"),
        start_time_ns=span.start_time_unix_nano,
        end_time_ns=span.end_time_unix_nano,
        kind=_SPAN_KINDS.get(span.kind, "INTERNAL"),
        status=_STATUS_CODES.get(status.code, "UNSET"),
        status_description=status.message or None,
        events=tuple(
            SpanEventView(
                event.name,
                attributes(event.attributes),
                event.time_unix_nano,
                event.dropped_attributes_count,
            )
            for event in span.events
        ),
        links=tuple(
            (_id(link.trace_id, 16, "link traceId"), _id(link.span_id, 8, "link spanId"))
            for link in links
        ),
        link_attributes=tuple(attributes(link.attributes) for link in links),
        trace_state=span.trace_state,
        flags=span.flags,
        dropped_attributes_count=span.dropped_attributes_count,
        dropped_events_count=span.dropped_events_count,
        dropped_links_count=span.dropped_links_count,
        **origin,
    )


def _log(log: logs_pb2.LogRecord, origin: Origin) -> Record:
    body = any_value(log.body) if log.HasField("body") else None
    name = log.event_name or (body if isinstance(body, str) else "")
    return EventRecord(
        name=name,
        attributes=attributes(log.attributes),
        timestamp_ns=log.time_unix_nano or log.observed_time_unix_nano,
        kind=RecordKind.EVENT if log.event_name else RecordKind.LOG,
        body=body,
        severity=log.severity_text or _severity_name(log.severity_number),
        severity_number=log.severity_number or None,
        observed_timestamp_ns=log.observed_time_unix_nano or None,
        flags=log.flags,
        dropped_attributes_count=log.dropped_attributes_count,
        trace_id=_optional_id(log.trace_id, 16, "traceId"),
        span_id=_optional_id(log.span_id, 8, "spanId"),
        **origin,
    )


def _severity_name(number: int) -> str | None:
    if not number:
        return None
    try:
        return logs_pb2.SeverityNumber.Name(number).removeprefix("SEVERITY_NUMBER_")  # type: ignore[arg-type]
    except ValueError:
        return str(number)


_DataPoint = (
    metrics_pb2.NumberDataPoint
    | metrics_pb2.HistogramDataPoint
    | metrics_pb2.ExponentialHistogramDataPoint
    | metrics_pb2.SummaryDataPoint
)


def _points(metric: metrics_pb2.Metric) -> Iterable[_DataPoint]:
    which = metric.WhichOneof("data")
    if which is None:
        return ()
    points: Iterable[_DataPoint] = getattr(metric, which).data_points
    return points


def _temporality(value: int) -> str | None:
    if value == metrics_pb2.AGGREGATION_TEMPORALITY_DELTA:
        return "delta"
    if value == metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE:
        return "cumulative"
    return None


def _metric_point(item: tuple[metrics_pb2.Metric, _DataPoint], origin: Origin) -> Record:
    metric, point = item
    which = metric.WhichOneof("data")
    fields: dict[str, Any] = {}
    if isinstance(point, metrics_pb2.NumberDataPoint):
        number = point.WhichOneof("value")
        fields["value"] = point.as_int if number == "as_int" else point.as_double
        fields["value_type"] = "int" if number == "as_int" else "double"
        if which == "sum":
            fields["instrument_kind"] = "counter" if metric.sum.is_monotonic else "up_down_counter"
            fields["temporality"] = _temporality(metric.sum.aggregation_temporality)
        else:
            fields["instrument_kind"] = "gauge"
    else:
        fields["value"] = point.sum
        fields["count"] = point.count
        if isinstance(point, metrics_pb2.SummaryDataPoint):
            fields["instrument_kind"] = "summary"
            fields["quantiles"] = tuple((q.quantile, q.value) for q in point.quantile_values)
        else:
            fields.update(_histogram_fields(metric, point))
    return MetricPoint(
        name=metric.name,
        attributes=attributes(point.attributes),
        timestamp_ns=point.time_unix_nano,
        start_timestamp_ns=point.start_time_unix_nano or None,
        unit=metric.unit,
        description=metric.description,
        flags=point.flags,
        **fields,
        **origin,
    )


def _histogram_fields(
    metric: metrics_pb2.Metric,
    point: metrics_pb2.HistogramDataPoint | metrics_pb2.ExponentialHistogramDataPoint,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "min": point.min if point.HasField("min") else None,
        "max": point.max if point.HasField("max") else None,
    }
    if isinstance(point, metrics_pb2.HistogramDataPoint):
        fields["instrument_kind"] = "histogram"
        fields["temporality"] = _temporality(metric.histogram.aggregation_temporality)
        fields["bucket_counts"] = tuple(point.bucket_counts)
        fields["explicit_bounds"] = tuple(point.explicit_bounds)
        return fields
    fields["instrument_kind"] = "exponential_histogram"
    fields["temporality"] = _temporality(metric.exponential_histogram.aggregation_temporality)
    fields["scale"] = point.scale
    fields["zero_count"] = point.zero_count
    fields["zero_threshold"] = point.zero_threshold
    fields["positive_offset"] = point.positive.offset
    fields["positive_bucket_counts"] = tuple(point.positive.bucket_counts)
    fields["negative_offset"] = point.negative.offset
    fields["negative_bucket_counts"] = tuple(point.negative.bucket_counts)
    return fields
