"""Hypothesis strategies for SDK spans, log records and metrics, built field by field.

The objects are constructed directly (not through a tracer) so that every field the OTLP encoders
read can take every value the SDK types allow: dropped counts, remote parents, trace state,
missing times, nested attribute values, resources and scopes with attributes and schema URLs.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.metrics._internal.exemplar import Exemplar
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Buckets,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from foundation_telemetry._otel._compat import ReadableLogRecord

UINT64 = 2**64 - 1
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
texts = st.text(max_size=12) | st.sampled_from(["", "é", "日本", "\U0001f600", "a" * 200])
keys = st.text(max_size=6) | st.sampled_from(["", "service.name", "k"])
scalars = (
    st.none()
    | st.booleans()
    | INT64
    | st.integers()  # beyond int64: the stock encoder skips the key, ours hands the batch over
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts
    | st.binary(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=3)
    ),
    max_leaves=8,
)
attributes = st.dictionaries(keys, values, max_size=5)
flat_attributes = st.dictionaries(keys, scalars.filter(lambda v: v is not None), max_size=4)
times = st.none() | st.just(0) | st.integers(min_value=1, max_value=UINT64)
counts = st.sampled_from([0, 0, 1, 7, 300, 2**32 - 1])
ids64 = st.integers(min_value=0, max_value=UINT64)
ids128 = st.integers(min_value=0, max_value=2**128 - 1)


def _bounded(items: dict[str, Any], dropped: int) -> BoundedAttributes:
    """Attributes that report *dropped* dropped entries, as the SDK's limits leave them."""
    bounded = BoundedAttributes(maxlen=None, attributes=None, immutable=False)
    bounded._dict.update(items)
    bounded.dropped = dropped
    return bounded


@st.composite
def bounded_attributes(draw: st.DrawFn) -> Any:
    items = draw(attributes)
    dropped = draw(counts)
    return _bounded(items, dropped) if dropped else items


trace_states = st.none() | st.lists(
    st.tuples(st.sampled_from(["a", "vendor", "x1@t"]), st.sampled_from(["1", "v", "x-y"])),
    max_size=3,
    unique_by=lambda kv: kv[0],
).map(TraceState)
contexts = st.builds(
    SpanContext,
    trace_id=ids128,
    span_id=ids64,
    is_remote=st.booleans(),
    trace_flags=st.sampled_from([TraceFlags(0), TraceFlags(1)]),
    trace_state=trace_states,
)
resources = st.builds(
    lambda attrs, url: Resource(attrs, url),
    flat_attributes,
    st.none() | st.sampled_from(["", "https://opentelemetry.io/schemas/1.21.0"]),
)
scopes = st.builds(
    InstrumentationScope,
    name=texts,
    version=st.none() | texts,
    schema_url=st.none() | st.sampled_from(["", "https://scope/schema"]),
    attributes=st.none() | flat_attributes,
)
statuses = st.none() | st.builds(
    lambda code, text: Status(code, text if code is StatusCode.ERROR else None),
    st.sampled_from(list(StatusCode)),
    st.none() | texts,
)
events = st.builds(
    lambda name, attrs, ts: Event(name, attrs, ts),
    texts,
    bounded_attributes(),
    st.integers(min_value=0, max_value=UINT64),
)
links = st.builds(lambda context, attrs: Link(context, attrs), contexts, bounded_attributes())


@st.composite
def _bounded_list(draw: st.DrawFn, items: Any) -> Any:
    drawn = draw(st.lists(items, max_size=3))
    dropped = draw(counts)
    if not dropped:
        return drawn
    bounded = BoundedList.from_seq(None, drawn)
    bounded.dropped = dropped
    return bounded


@st.composite
def spans(draw: st.DrawFn, resource_pool: list[Any], scope_pool: list[Any]) -> ReadableSpan:
    return ReadableSpan(
        name=draw(texts),
        context=draw(contexts),
        parent=draw(st.none() | contexts),
        resource=draw(st.sampled_from(resource_pool)),
        attributes=draw(bounded_attributes()),
        events=draw(_bounded_list(events)),
        links=draw(_bounded_list(links)),
        kind=draw(st.sampled_from(list(SpanKind))),
        instrumentation_scope=draw(st.sampled_from(scope_pool)),
        status=draw(statuses),
        start_time=draw(times),
        end_time=draw(times),
    )


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    """A few resources (some equal but distinct objects) and scopes (and ``None``) to share."""
    resource_pool = draw(st.lists(resources, min_size=1, max_size=3))
    resource_pool.append(Resource(dict(resource_pool[0].attributes), resource_pool[0].schema_url))
    scope_pool = [*draw(st.lists(scopes, min_size=1, max_size=3)), None]
    return resource_pool, scope_pool


@st.composite
def span_batches(draw: st.DrawFn) -> list[ReadableSpan]:
    resource_pool, scope_pool = draw(pools())
    return draw(st.lists(spans(resource_pool, scope_pool), max_size=6))


@st.composite
def log_records(draw: st.DrawFn, resource_pool: list[Any], scope_pool: list[Any]) -> Any:
    record = LogRecord(
        timestamp=draw(times),
        observed_timestamp=draw(times),
        severity_text=draw(st.none() | texts),
        severity_number=draw(st.none() | st.sampled_from(list(SeverityNumber))),
        body=draw(values),
        attributes=draw(bounded_attributes()),
        event_name=draw(st.none() | texts),
    )
    record.trace_id = draw(st.just(0) | ids128)
    record.span_id = draw(st.just(0) | ids64)
    record.trace_flags = draw(st.sampled_from([TraceFlags(0), TraceFlags(1)]))
    return ReadableLogRecord(
        log_record=record,
        resource=draw(st.sampled_from(resource_pool)),
        instrumentation_scope=draw(st.sampled_from(scope_pool)),
    )


@st.composite
def log_batches(draw: st.DrawFn) -> list[Any]:
    resource_pool, scope_pool = draw(pools())
    return draw(st.lists(log_records(resource_pool, scope_pool), max_size=6))


numbers = INT64 | st.floats(allow_nan=True, allow_infinity=True)
doubles = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**53), 2**53)
exemplars = st.builds(
    Exemplar,
    filtered_attributes=flat_attributes,
    value=numbers,
    time_unix_nano=st.integers(min_value=0, max_value=UINT64),
    span_id=st.none() | ids64,
    trace_id=st.none() | ids128,
)
point_common = {
    "attributes": flat_attributes,
    "start_time_unix_nano": st.integers(min_value=0, max_value=UINT64),
    "time_unix_nano": st.integers(min_value=0, max_value=UINT64),
    "exemplars": st.lists(exemplars, max_size=2),
}
number_points = st.builds(NumberDataPoint, value=numbers, **point_common)
histogram_points = st.builds(
    HistogramDataPoint,
    count=st.integers(min_value=0, max_value=UINT64),
    sum=st.none() | doubles,
    bucket_counts=st.lists(st.integers(min_value=0, max_value=UINT64), max_size=4),
    explicit_bounds=st.lists(doubles, max_size=3),
    min=st.none() | doubles,
    max=st.none() | doubles,
    **point_common,
)
buckets = st.builds(
    Buckets,
    offset=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    bucket_counts=st.lists(st.integers(min_value=0, max_value=UINT64), max_size=4),
)
exponential_points = st.builds(
    ExponentialHistogramDataPoint,
    count=st.integers(min_value=0, max_value=UINT64),
    sum=st.none() | doubles,
    scale=st.integers(min_value=-10, max_value=20),
    zero_count=st.integers(min_value=0, max_value=UINT64),
    positive=buckets,
    negative=buckets,
    flags=st.integers(min_value=0, max_value=2**32 - 1),
    min=st.none() | doubles,
    max=st.none() | doubles,
    **point_common,
)
temporalities = st.sampled_from(list(AggregationTemporality))
metric_data = (
    st.builds(Gauge, data_points=st.lists(number_points, max_size=3))
    | st.builds(
        Sum,
        data_points=st.lists(number_points, max_size=3),
        aggregation_temporality=temporalities,
        is_monotonic=st.booleans(),
    )
    | st.builds(
        Histogram,
        data_points=st.lists(histogram_points, max_size=3),
        aggregation_temporality=temporalities,
    )
    | st.builds(
        ExponentialHistogram,
        data_points=st.lists(exponential_points, max_size=3),
        aggregation_temporality=temporalities,
    )
)
metrics = st.builds(
    Metric, name=texts, description=st.none() | texts, unit=st.none() | texts, data=metric_data
)


@st.composite
def metrics_data(draw: st.DrawFn) -> MetricsData:
    resource_pool, scope_pool = draw(pools())
    scope_pool = [scope for scope in scope_pool if scope is not None]
    return MetricsData(
        resource_metrics=draw(
            st.lists(
                st.builds(
                    ResourceMetrics,
                    resource=st.sampled_from(resource_pool),
                    scope_metrics=st.lists(
                        st.builds(
                            ScopeMetrics,
                            scope=st.sampled_from(scope_pool),
                            metrics=st.lists(metrics, max_size=3),
                            schema_url=st.sampled_from(["", "https://sm"]),
                        ),
                        max_size=3,
                    ),
                    schema_url=st.sampled_from(["", "https://rm"]),
                ),
                max_size=3,
            )
        )
    )
