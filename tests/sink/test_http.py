"""OTLP/HTTP front end: encodings, status codes, partial success and bad input."""

from __future__ import annotations

import gzip
import http.client
import json

import pytest
from google.rpc import code_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

from foundation_telemetry.recording._records import EventRecord, MetricPoint, RecordKind
from foundation_telemetry.sink import Sink

from ._helpers import get_json, post

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"
PARENT_ID = "eee19b7ec3c1b173"

JSON_TRACES = {
    "resourceSpans": [
        {
            "resource": {
                "attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]
            },
            "scopeSpans": [
                {
                    "scope": {"name": "my.library", "version": "1.0.0"},
                    "spans": [
                        {
                            "traceId": TRACE_ID,
                            "spanId": SPAN_ID,
                            "parentSpanId": PARENT_ID,
                            "name": "checkout",
                            "kind": 2,
                            "startTimeUnixNano": "1544712660000000000",
                            "endTimeUnixNano": "1544712661000000000",
                            "attributes": [
                                {"key": "order.id", "value": {"intValue": "42"}},
                                {"key": "ok", "value": {"boolValue": True}},
                                {
                                    "key": "tags",
                                    "value": {
                                        "arrayValue": {
                                            "values": [{"stringValue": "a"}, {"doubleValue": 1.5}]
                                        }
                                    },
                                },
                            ],
                            "status": {"code": 2, "message": "boom"},
                            "links": [{"traceId": TRACE_ID, "spanId": PARENT_ID}],
                        }
                    ],
                }
            ],
        }
    ]
}

JSON_LOGS = {
    "resourceLogs": [
        {
            "resource": {
                "attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]
            },
            "scopeLogs": [
                {
                    "scope": {"name": "my.library"},
                    "logRecords": [
                        {
                            "timeUnixNano": "1544712660300000000",
                            "severityNumber": 9,
                            "severityText": "INFO",
                            "eventName": "foundation.retry.attempt_start",
                            "traceId": TRACE_ID,
                            "spanId": SPAN_ID,
                            "attributes": [{"key": "attempt", "value": {"intValue": "2"}}],
                        },
                        {
                            "timeUnixNano": "1544712660400000000",
                            "body": {"stringValue": "plain log line"},
                        },
                    ],
                }
            ],
        }
    ]
}

JSON_METRICS = {
    "resourceMetrics": [
        {
            "resource": {
                "attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]
            },
            "scopeMetrics": [
                {
                    "scope": {"name": "my.library"},
                    "metrics": [
                        {
                            "name": "requests",
                            "unit": "1",
                            "sum": {
                                "aggregationTemporality": 2,
                                "isMonotonic": True,
                                "dataPoints": [
                                    {
                                        "asInt": "7",
                                        "timeUnixNano": "1544712660300000000",
                                        "attributes": [
                                            {"key": "route", "value": {"stringValue": "/a"}}
                                        ],
                                    }
                                ],
                            },
                        },
                        {
                            "name": "latency",
                            "unit": "ms",
                            "histogram": {
                                "aggregationTemporality": 1,
                                "dataPoints": [
                                    {
                                        "count": "3",
                                        "sum": 12.5,
                                        "bucketCounts": ["1", "2"],
                                        "explicitBounds": [5.0],
                                        "timeUnixNano": "1544712660300000000",
                                    }
                                ],
                            },
                        },
                    ],
                }
            ],
        }
    ]
}


def _traces_request(count: int) -> bytes:
    spans = [
        trace_pb2.Span(
            trace_id=bytes.fromhex(TRACE_ID),
            span_id=(index + 1).to_bytes(8, "big"),
            name=f"span-{index}",
            start_time_unix_nano=1,
            end_time_unix_nano=2,
        )
        for index in range(count)
    ]
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )
    return request.SerializeToString()


def _status(body: bytes) -> status_pb2.Status:
    status = status_pb2.Status()
    status.ParseFromString(body)
    return status


class TestJsonEncoding:
    def test_json_traces_decode_with_hex_ids_resource_and_scope(self, sink: Sink) -> None:
        """An OTLP/JSON trace body is stored with its ids, attributes, status, resource and scope."""
        status, headers, body = post(
            sink, "/v1/traces", json.dumps(JSON_TRACES).encode(), "application/json"
        )
        assert (status, headers["content-type"], json.loads(body)) == (
            200,
            "application/json",
            {},
        )
        (span,) = sink.spans()
        assert span.name == "checkout"
        assert f"{span.trace_id:032x}" == TRACE_ID
        assert f"{span.span_id:016x}" == SPAN_ID
        assert f"{span.parent_span_id:016x}" == PARENT_ID
        assert span.attributes == {"order.id": 42, "ok": True, "tags": ("a", 1.5)}
        assert (span.kind, span.status, span.status_description) == ("SERVER", "ERROR", "boom")
        assert span.duration_ns == 1_000_000_000
        assert span.links == ((int(TRACE_ID, 16), int(PARENT_ID, 16)),)
        assert span.resource == {"service.name": "json-svc"}
        assert span.scope == "my.library"

    def test_json_logs_become_events_and_logs(self, sink: Sink) -> None:
        """Log records with an event name are events; plain ones are only logs, named by their body."""
        status, _, _ = post(sink, "/v1/logs", json.dumps(JSON_LOGS).encode(), "application/json")
        assert status == 200
        (event,) = sink.events()
        assert sink.logs()[0] == event
        log = sink.logs()[1]
        assert event == EventRecord(
            name="foundation.retry.attempt_start",
            attributes={"attempt": 2},
            timestamp_ns=1544712660300000000,
            kind=RecordKind.EVENT,
            severity="INFO",
            severity_number=9,
            trace_id=int(TRACE_ID, 16),
            span_id=int(SPAN_ID, 16),
            resource={"service.name": "json-svc"},
            scope="my.library",
        )
        assert (log.kind, log.name, log.body, log.trace_id) == (
            RecordKind.LOG,
            "plain log line",
            "plain log line",
            None,
        )

    def test_json_metrics_sum_and_histogram_points(self, sink: Sink) -> None:
        """A monotonic sum is a counter point; a histogram point carries count and sum."""
        status, _, _ = post(
            sink, "/v1/metrics", json.dumps(JSON_METRICS).encode(), "application/json"
        )
        assert status == 200
        counter, histogram = sink.metric_points()
        assert counter == MetricPoint(
            name="requests",
            attributes={"route": "/a"},
            value=7.0,
            timestamp_ns=1544712660300000000,
            instrument_kind="counter",
            unit="1",
            count=1,
            temporality="cumulative",
            resource={"service.name": "json-svc"},
            scope="my.library",
            value_type="int",
        )
        assert type(counter.value) is int
        assert (histogram.instrument_kind, histogram.count, histogram.value) == (
            "histogram",
            3,
            12.5,
        )
        assert histogram.temporality == "delta"
        assert (histogram.bucket_counts, histogram.explicit_bounds) == ((1, 2), (5.0,))

    def test_snake_case_field_names_are_accepted(self, sink: Sink) -> None:
        """Receivers must accept the original proto field names as well as lowerCamelCase."""
        body = {
            "resource_spans": [
                {
                    "scope_spans": [
                        {"spans": [{"trace_id": TRACE_ID, "span_id": SPAN_ID, "name": "s"}]}
                    ]
                }
            ]
        }
        status, _, _ = post(sink, "/v1/traces", json.dumps(body).encode(), "application/json")
        assert status == 200
        assert [span.name for span in sink.spans()] == ["s"]

    def test_partial_success_in_json_uses_camel_case_and_string_int64(self, sink: Sink) -> None:
        """A partial-success response in JSON says how many were rejected, int64 as a string."""
        sink.faults.partial_success(1, message="too many")
        status, _, body = post(
            sink, "/v1/traces", json.dumps(JSON_TRACES).encode(), "application/json"
        )
        assert status == 200
        assert json.loads(body) == {
            "partialSuccess": {"rejectedSpans": "1", "errorMessage": "too many"}
        }
        assert sink.spans() == []


class TestProtobufEncoding:
    def test_protobuf_body_is_answered_in_protobuf(self, sink: Sink) -> None:
        """A protobuf request gets a protobuf export response."""
        status, headers, body = post(sink, "/v1/traces", _traces_request(3))
        assert (status, headers["content-type"]) == (200, "application/x-protobuf")
        response = trace_service_pb2.ExportTraceServiceResponse()
        response.ParseFromString(body)
        assert not response.HasField("partial_success")
        assert [span.name for span in sink.spans()] == ["span-0", "span-1", "span-2"]

    def test_partial_success_rejects_the_last_items(self, sink: Sink) -> None:
        """Partial success stores the first items and reports the rejected count."""
        sink.faults.partial_success(2)
        status, _, body = post(sink, "/v1/traces", _traces_request(5))
        response = trace_service_pb2.ExportTraceServiceResponse()
        response.ParseFromString(body)
        assert (status, response.partial_success.rejected_spans) == (200, 2)
        assert [span.name for span in sink.spans()] == ["span-0", "span-1", "span-2"]
        assert (sink.stats.accepted, sink.stats.rejected) == ({"traces": 3}, {"traces": 2})

    def test_gzip_body(self, sink: Sink) -> None:
        """A gzip content encoding is decompressed."""
        status, _, _ = post(
            sink,
            "/v1/traces",
            gzip.compress(_traces_request(2)),
            headers={"content-encoding": "gzip"},
        )
        assert status == 200
        assert len(sink.spans()) == 2


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"\xff\xff\xff\xff not protobuf", "application/x-protobuf"),
            (b"{not json", "application/json"),
            (b"[1, 2]", "application/json"),
            (
                b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
                "application/json",
            ),
            (b'{"resourceSpans": "nope"}', "application/json"),
            (b"[" * 100_000 + b"]" * 100_000, "application/json"),
            (b'{"resourceSpans": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001, "application/json"),
            (b"\x0a\xff\xff\xff\xff\x0f" + b"\x00" * 10, "application/x-protobuf"),
        ],
    )
    def test_garbage_body_is_400_with_reason_and_sink_keeps_serving(
        self, sink: Sink, body: bytes, content_type: str
    ) -> None:
        """A malformed body gets 400 with a google.rpc.Status reason; the next good one is stored."""
        status, headers, answer = post(sink, "/v1/traces", body, content_type)
        assert status == 400
        if content_type == "application/json":
            document = json.loads(answer)
            assert document["code"] == code_pb2.INVALID_ARGUMENT
            assert (
                "ExportTraceServiceRequest" in document["message"] or "JSON" in document["message"]
            )
        else:
            assert "not a valid protobuf ExportTraceServiceRequest" in _status(answer).message
        assert headers["content-type"] == content_type
        assert post(sink, "/v1/traces", _traces_request(1))[0] == 200
        assert len(sink.spans()) == 1
        assert sink.stats.refused == {"invalid": 1}

    def test_wrong_content_type_is_415(self, sink: Sink) -> None:
        """Any content type other than protobuf or JSON is refused with 415."""
        status, _, answer = post(sink, "/v1/traces", b"hello", "text/plain")
        assert status == 415
        assert "application/x-protobuf" in json.loads(answer)["message"]
        assert sink.stats.refused == {"unsupported_media_type": 1}

    def test_unknown_content_encoding_is_415(self, sink: Sink) -> None:
        """An encoding the sink cannot decode is refused with 415."""
        status, _, _ = post(sink, "/v1/traces", b"x", headers={"content-encoding": "br"})
        assert status == 415

    def test_oversize_body_is_413_resource_exhausted(self) -> None:
        """A body over max_request_bytes is refused with 413 before it is read."""
        with Sink(max_request_bytes=100) as small:
            status, headers, answer = post(small, "/v1/traces", _traces_request(10))
            assert status == 413
            assert _status(answer).code == code_pb2.RESOURCE_EXHAUSTED
            assert headers["connection"] == "close"
            assert post(small, "/v1/traces", _traces_request(1))[0] == 200

    def test_oversize_export_fails_fast_without_retries(self) -> None:
        """The stock HTTP exporter gets the 413 (not a reset it would retry) and gives up at once."""
        tracer = TracerProvider().get_tracer("big")
        spans = []
        for _ in range(3000):
            span = tracer.start_span("big", attributes={"blob": "x" * 2000})
            span.end()
            spans.append(span)
        with Sink(max_request_bytes=1024 * 1024) as small:
            exporter = OTLPSpanExporter(endpoint=f"{small.http_endpoint}/v1/traces", timeout=30)
            assert exporter.export(spans) is SpanExportResult.FAILURE
            exporter.shutdown()
            assert small.stats.refused == {"too_large": 1}
            assert post(small, "/v1/traces", _traces_request(1))[0] == 200

    def test_gzip_bomb_is_413(self) -> None:
        """A small compressed body that inflates past the limit is refused with 413."""
        with Sink(max_request_bytes=1000) as small:
            bomb = gzip.compress(b"\0" * 100_000)
            status, _, _ = post(small, "/v1/traces", bomb, headers={"content-encoding": "gzip"})
            assert status == 413

    @pytest.mark.parametrize("authorization", [None, "Bearer wrong", "secret", "Basic secret"])
    def test_missing_or_wrong_token_is_401(self, authorization: str | None) -> None:
        """With a token set, a request without the right bearer token is refused with 401."""
        headers = {} if authorization is None else {"authorization": authorization}
        with Sink(token="secret") as guarded:
            status, answer_headers, answer = post(
                guarded, "/v1/traces", _traces_request(1), headers=headers
            )
            assert (status, answer_headers["www-authenticate"]) == (401, "Bearer")
            assert _status(answer).code == code_pb2.UNAUTHENTICATED
            ok = post(
                guarded,
                "/v1/traces",
                _traces_request(1),
                headers={"authorization": "Bearer secret"},
            )
            assert ok[0] == 200
            assert len(guarded.spans()) == 1

    def test_exporter_without_token_gets_401_once(self) -> None:
        """The stock HTTP exporter is refused with 401 (not retried) when the token is missing."""
        span = TracerProvider().get_tracer("t").start_span("x", attributes={"blob": "y" * 500_000})
        span.end()
        with Sink(token="secret") as guarded:
            exporter = OTLPSpanExporter(endpoint=f"{guarded.http_endpoint}/v1/traces", timeout=30)
            assert exporter.export([span]) is SpanExportResult.FAILURE
            exporter.shutdown()
            assert guarded.stats.refused == {"unauthenticated": 1}

    def test_token_guards_the_query_api(self) -> None:
        """With a token set, the query API needs it too."""
        with Sink(token="secret") as guarded:
            assert get_json(guarded, "/api/spans")[0] == 401
            assert get_json(guarded, "/api/spans", {"authorization": "Bearer secret"})[0] == 200

    def test_unknown_path_is_404_and_get_on_export_path_is_405(self, sink: Sink) -> None:
        """Paths other than the three signals are 404; GET on an export path is 405."""
        assert post(sink, "/v1/other", b"")[0] == 404
        assert get_json(sink, "/v1/traces")[0] == 405
        assert get_json(sink, "/nothing")[0] == 404


class TestFaultAnswers:
    def test_unavailable_is_503_with_retry_after(self, sink: Sink) -> None:
        """An armed unavailable fault answers 503 with Retry-After, then recovers."""
        sink.faults.unavailable(1, retry_after=2)
        status, headers, answer = post(sink, "/v1/traces", _traces_request(1))
        assert (status, headers["retry-after"]) == (503, "2")
        assert _status(answer).code == code_pb2.UNAVAILABLE
        assert post(sink, "/v1/traces", _traces_request(1))[0] == 200

    def test_dropped_connection_gets_no_answer(self, sink: Sink) -> None:
        """A dropped connection is closed without any response."""
        sink.faults.drop_connections(1)
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            post(sink, "/v1/traces", _traces_request(1))
        assert post(sink, "/v1/traces", _traces_request(1))[0] == 200
        assert sink.stats.refused == {"dropped": 1}
