"""Metrics to the bytes of an ``ExportMetricsServiceRequest``, as the stock ``encode_metrics`` writes.

Field for field the stock encoder: sums, gauges, explicit-bucket and exponential histograms with
their temporality, every point's attributes, times, value (``as_int`` for ``int`` values), optional
sum/min/max, buckets and exemplars. Resources and scopes are filed in dictionaries exactly as the
stock encoder files them (a later equal resource or scope replaces the earlier one's content but
keeps its place and its encoded attributes).
"""

from __future__ import annotations

import struct
from typing import Any

from opentelemetry.sdk.metrics.export import (
    ExponentialHistogram,
    Gauge,
    Histogram,
    MetricsData,
    Sum,
)

from ._envelope import resource_body, scope_body
from ._wire import (
    Unsupported,
    double,
    encode_attributes,
    field_str,
    fixed64,
    frame,
    sint_varint,
    varint,
)

__all__ = ["encode_metrics"]

_pack_sfixed64 = struct.Struct("<q").pack


def _fixed64(tag: bytes, value: int | None) -> bytes:
    return tag + fixed64(value) if value else b""


def _optional_double(tag: bytes, value: float | None) -> bytes:
    return b"" if value is None else tag + double(value)


def _enum(tag: bytes, value: int) -> bytes:
    return tag + varint(int(value)) if value else b""


def _packed(tag: bytes, code: str, values: Any) -> bytes:
    return frame(tag, struct.pack(f"<{len(values)}{code}", *values)) if values else b""


def _packed_varints(tag: bytes, values: Any) -> bytes:
    if not values:
        return b""
    for value in values:
        if value < 0:
            raise Unsupported(value)
    return frame(tag, b"".join([varint(value) for value in values]))


def _exemplar(exemplar: Any) -> bytes:
    value = exemplar.value
    if isinstance(value, float):
        as_double, as_int = b"\x19" + double(value), b""
    elif type(value) is int:
        as_double, as_int = b"", b"\x31" + _pack_sfixed64(value)
    else:
        raise Unsupported(value)
    ids = b""
    if exemplar.span_id is not None and exemplar.trace_id is not None:
        ids = (
            b"\x22\x08"
            + exemplar.span_id.to_bytes(8, "big")
            + b"\x2a\x10"
            + exemplar.trace_id.to_bytes(16, "big")
        )
    return (
        _fixed64(b"\x11", exemplar.time_unix_nano)
        + as_double
        + ids
        + as_int
        + encode_attributes(b"\x3a", exemplar.filtered_attributes)
    )


def _exemplars(tag: bytes, exemplars: Any) -> bytes:
    return b"".join([frame(tag, _exemplar(exemplar)) for exemplar in exemplars])


def _number_point(point: Any, with_start: bool) -> bytes:
    value = point.value
    if type(value) is int:
        as_double, as_int = b"", b"\x31" + _pack_sfixed64(value)
    elif type(value) is float:
        as_double, as_int = b"\x21" + double(value), b""
    else:
        raise Unsupported(value)
    return (
        (_fixed64(b"\x11", point.start_time_unix_nano) if with_start else b"")
        + _fixed64(b"\x19", point.time_unix_nano)
        + as_double
        + _exemplars(b"\x2a", point.exemplars)
        + as_int
        + encode_attributes(b"\x3a", point.attributes)
    )


def _histogram_point(point: Any) -> bytes:
    return (
        _fixed64(b"\x11", point.start_time_unix_nano)
        + _fixed64(b"\x19", point.time_unix_nano)
        + _fixed64(b"\x21", point.count)
        + _optional_double(b"\x29", point.sum)
        + _packed(b"\x32", "Q", point.bucket_counts)
        + _packed(b"\x3a", "d", point.explicit_bounds)
        + _exemplars(b"\x42", point.exemplars)
        + encode_attributes(b"\x4a", point.attributes)
        + _optional_double(b"\x59", point.min)
        + _optional_double(b"\x61", point.max)
    )


def _buckets(tag: bytes, buckets: Any) -> bytes:
    if not buckets.bucket_counts:
        return b""
    offset = sint_varint(buckets.offset) if buckets.offset else b""
    return frame(
        tag, (b"\x08" + offset if offset else b"") + _packed_varints(b"\x12", buckets.bucket_counts)
    )


def _exponential_point(point: Any) -> bytes:
    return (
        encode_attributes(b"\x0a", point.attributes)
        + _fixed64(b"\x11", point.start_time_unix_nano)
        + _fixed64(b"\x19", point.time_unix_nano)
        + _fixed64(b"\x21", point.count)
        + _optional_double(b"\x29", point.sum)
        + (b"\x30" + sint_varint(point.scale) if point.scale else b"")
        + _fixed64(b"\x39", point.zero_count)
        + _buckets(b"\x42", point.positive)
        + _buckets(b"\x4a", point.negative)
        + (b"\x50" + varint(point.flags) if point.flags else b"")
        + _exemplars(b"\x5a", point.exemplars)
        + _optional_double(b"\x61", point.min)
        + _optional_double(b"\x69", point.max)
    )


def _data(data: Any) -> bytes:
    points = data.data_points
    if not points:
        return b""
    kind = type(data)
    if kind is Gauge:
        return frame(b"\x2a", b"".join([frame(b"\x0a", _number_point(p, False)) for p in points]))
    if kind is Histogram:
        body = b"".join([frame(b"\x0a", _histogram_point(p)) for p in points])
        return frame(b"\x4a", body + _enum(b"\x10", data.aggregation_temporality))
    if kind is Sum:
        body = b"".join([frame(b"\x0a", _number_point(p, True)) for p in points])
        monotonic = b"\x18\x01" if data.is_monotonic else b""
        return frame(b"\x3a", body + _enum(b"\x10", data.aggregation_temporality) + monotonic)
    if kind is ExponentialHistogram:
        body = b"".join([frame(b"\x0a", _exponential_point(p)) for p in points])
        return frame(b"\x52", body + _enum(b"\x10", data.aggregation_temporality))
    raise Unsupported(kind)


def _metric(metric: Any) -> bytes:
    return (
        field_str(b"\x0a", metric.name)
        + field_str(b"\x12", metric.description)
        + field_str(b"\x1a", metric.unit)
        + _data(metric.data)
    )


def encode_metrics(data: MetricsData) -> bytes:
    """Encode *data* as a serialised ``ExportMetricsServiceRequest``; raises :class:`Unsupported`."""
    resources: dict[Any, dict[Any, bytes]] = {}
    for resource_metrics in data.resource_metrics:
        scopes: dict[Any, bytes] = {}
        resources[resource_metrics.resource] = scopes
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            if scope is None:
                raise Unsupported(scope)
            metrics = b"".join(
                [frame(b"\x12", _metric(metric)) for metric in scope_metrics.metrics]
            )
            scopes[scope] = scope_body(scope) + metrics + field_str(b"\x1a", scope.schema_url)
    out = []
    for resource, scope_parts in resources.items():
        body = (
            resource_body(resource)
            + b"".join([frame(b"\x12", part) for part in scope_parts.values()])
            + field_str(b"\x1a", resource.schema_url)
        )
        out.append(frame(b"\x0a", body))
    return b"".join(out)
