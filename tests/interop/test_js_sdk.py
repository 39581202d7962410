"""The official OpenTelemetry JS SDK exports into the sink over HTTP/JSON, HTTP/protobuf and gRPC.

One node process per protocol (``js/export.mjs``) sends a fixed set of spans, metrics and logs;
every field is checked through the Python API and through the JSON query API. The HTTP exporters
send chunked bodies and a lower-case ``bearer`` scheme; the protobuf run is gzip-compressed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from foundation_telemetry.recording._records import RecordKind
from foundation_telemetry.sink import Sink

from .conftest import JS_DIR, query

TOKEN = "interop-token"
PROTOCOLS = {"http/json": "", "http/protobuf": "gzip", "grpc": ""}
SCOPE = ("interop.js", "1.2.3", "https://opentelemetry.io/schemas/1.26.0")


@dataclass
class Run:
    protocol: str
    sink: Sink
    ids: dict[str, dict[str, str]]

    def resource(self) -> dict[str, Any]:
        return {
            "service.name": "js-interop",
            "service.version": "9.9.9",
            "deployment.environment.name": self.protocol,
        }


@pytest.fixture(scope="module", params=list(PROTOCOLS))
def run(request: pytest.FixtureRequest, node: str) -> Iterator[Run]:
    protocol: str = request.param
    with Sink(token=TOKEN) as sink:
        endpoint = sink.grpc_endpoint if protocol == "grpc" else sink.http_endpoint
        done = subprocess.run(
            [node, "export.mjs", protocol, endpoint, PROTOCOLS[protocol]],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "INTEROP_TOKEN": TOKEN},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        yield Run(protocol, sink, json.loads(done.stdout))


def _scope(record: Any) -> tuple[Any, ...]:
    return (record.scope, record.scope_version, record.scope_schema_url)


def test_spans_arrive_intact(run: Run) -> None:
    """Parent/child, kinds, every attribute type, an event, a link with attributes, error status."""
    sink = run.sink
    # node exits after its providers' shutdown, i.e. after every export was answered.
    spans = {span.name: span for span in sink.spans()}
    assert set(spans) == {"js.child", "js.parent"}
    child, parent = spans["js.child"], spans["js.parent"]
    assert sink.stats.refused == {}
    assert f"{child.trace_id:032x}" == run.ids["child"]["trace_id"]
    assert f"{child.span_id:016x}" == run.ids["child"]["span_id"]
    assert f"{parent.span_id:016x}" == run.ids["parent"]["span_id"]
    assert (parent.trace_id, parent.parent_span_id) == (child.trace_id, None)
    assert child.parent_span_id == parent.span_id
    assert (parent.kind, child.kind) == ("SERVER", "CLIENT")
    assert (child.status, child.status_description) == ("ERROR", "js failure")
    assert child.attributes == {
        "attr.string": "text",
        "attr.bool": True,
        "attr.int": 42,
        "attr.double": 2.5,
        "attr.strings": ("a", "b"),
        "attr.bools": (True, False),
        "attr.ints": (1, 2, 3),
        "attr.doubles": (0.5, 1.5),
    }
    assert type(child.attributes["attr.int"]) is int
    (event,) = child.events
    assert (event.name, event.attributes) == ("js.event", {"event.count": 3, "event.note": "hello"})
    assert child.start_time_ns <= event.timestamp_ns <= (child.end_time_ns or 0)
    assert child.links == ((parent.trace_id, parent.span_id),)
    assert child.link_attributes == ({"link.reason": "follows"},)
    assert child.flags & 0x1 == 1  # sampled
    assert child.resource == run.resource()
    assert _scope(child) == SCOPE

    status, document = query(sink, f"/api/spans?trace_id={run.ids['child']['trace_id']}")
    assert status == 200
    (item,) = [span for span in document["items"] if span["name"] == "js.child"]
    assert item["parent_span_id"] == run.ids["parent"]["span_id"]
    assert item["attributes"]["attr.ints"] == [1, 2, 3]
    assert item["link_attributes"] == [{"link.reason": "follows"}]
    assert (item["status"], item["span_kind"], item["scope_version"]) == (
        "ERROR",
        "CLIENT",
        "1.2.3",
    )


def test_metrics_arrive_intact(run: Run) -> None:
    """Counter, up-down counter, histogram, exponential histogram and gauge, each with its details."""
    sink = run.sink
    points = {point.name: point for point in sink.metric_points()}
    assert set(points) == {"js.counter", "js.updown", "js.histogram", "js.exponential", "js.gauge"}
    counter = points["js.counter"]
    assert (counter.instrument_kind, counter.value, counter.value_type) == ("counter", 5, "int")
    assert (counter.unit, counter.attributes, counter.temporality) == (
        "{request}",
        {"route": "/a"},
        "cumulative",
    )
    updown = points["js.updown"]
    assert (updown.instrument_kind, updown.value, updown.value_type, updown.attributes) == (
        "up_down_counter",
        -2,
        "double",
        {"pool": "p1"},
    )
    histogram = points["js.histogram"]
    assert (histogram.instrument_kind, histogram.count, histogram.value) == ("histogram", 3, 38)
    assert (histogram.min, histogram.max, histogram.unit) == (1, 30, "ms")
    assert len(histogram.bucket_counts) == len(histogram.explicit_bounds) + 1
    assert sum(histogram.bucket_counts) == 3
    assert histogram.explicit_bounds[:3] == (0, 5, 10)
    exponential = points["js.exponential"]
    assert exponential.instrument_kind == "exponential_histogram"
    assert (exponential.count, exponential.value, exponential.min, exponential.max) == (
        3,
        6.5,
        0.5,
        4,
    )
    assert exponential.scale is not None
    assert exponential.zero_count == 0
    assert sum(exponential.positive_bucket_counts) == 3
    assert exponential.positive_offset is not None
    gauge = points["js.gauge"]
    assert (gauge.instrument_kind, gauge.value, gauge.value_type, gauge.unit) == (
        "gauge",
        12.75,
        "double",
        "By",
    )
    for point in points.values():
        assert point.resource == run.resource()
        assert _scope(point) == SCOPE
        assert point.start_timestamp_ns is not None
        assert point.timestamp_ns > 0

    status, document = query(sink, "/api/metrics?name=js.exponential")
    assert status == 200
    item = document["items"][-1]
    assert item["instrument_kind"] == "exponential_histogram"
    assert sum(item["positive_bucket_counts"]) == 3
    status, document = query(sink, "/api/metrics?name=js.histogram")
    assert sum(document["items"][-1]["bucket_counts"]) == 3


def test_logs_arrive_intact(run: Run) -> None:
    """Severity text and number, body, attributes, timestamps, resource and scope."""
    sink = run.sink
    (log,) = sink.logs()
    assert (log.kind, log.body, log.name) == (RecordKind.LOG, "js log line", "js log line")
    assert (log.severity, log.severity_number) == ("WARN", 13)
    assert log.attributes == {"log.attr": "value", "log.count": 7}
    assert log.observed_timestamp_ns is not None
    assert log.timestamp_ns > 0
    assert log.resource == run.resource()
    assert _scope(log) == SCOPE

    status, document = query(sink, "/api/events?name=js%20log%20line")
    assert status == 200
    (item,) = document["items"]
    assert (item["severity"], item["severity_number"], item["body"]) == ("WARN", 13, "js log line")
    assert item["attributes"] == {"log.attr": "value", "log.count": 7}
