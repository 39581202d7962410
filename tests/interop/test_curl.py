"""curl as a client: chunked uploads (``Transfer-Encoding: chunked``), JSON and protobuf, gzip."""

from __future__ import annotations

import gzip
import json
import subprocess

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from foundation_telemetry.sink import Sink

TRACE_ID = "5b8efff798038103d269b633813fc60c"


def _curl(curl: str, sink: Sink, body: bytes, *headers: str) -> tuple[int, str]:
    args = [curl, "-sS", "-o", "-", "-w", "\n%{http_code}", "--data-binary", "@-"]
    args += [item for header in ("Transfer-Encoding: chunked", *headers) for item in ("-H", header)]
    done = subprocess.run(
        [*args, f"{sink.http_endpoint}/v1/traces"],
        input=body,
        capture_output=True,
        timeout=60,
        check=True,
    )
    answer, _, status = done.stdout.decode().rpartition("\n")
    return int(status), answer


def test_chunked_json_upload_with_an_unknown_field(curl: str) -> None:
    """A chunked OTLP/JSON body is read, and a field the sink does not know is ignored."""
    span = {"traceId": TRACE_ID, "spanId": "eee19b7ec3c1b174", "name": "curl", "futureField": 1}
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}], "future": {"x": 1}}]}
    with Sink() as sink:
        status, answer = _curl(
            curl, sink, json.dumps(body).encode(), "content-type: application/json"
        )
        assert (status, json.loads(answer)) == (200, {})
        (record,) = sink.spans()
        assert (record.name, f"{record.trace_id:032x}") == ("curl", TRACE_ID)
        assert sink.stats.http_statuses == {200: 1}


def test_chunked_gzip_protobuf_upload(curl: str) -> None:
    """A chunked, gzip-compressed protobuf body of 2000 spans arrives whole."""
    spans = [
        trace_pb2.Span(trace_id=bytes(15) + b"\1", span_id=i.to_bytes(8, "big"), name=f"s{i}")
        for i in range(1, 2001)
    ]
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[{"scope_spans": [{"spans": spans}]}]
    )
    with Sink() as sink:
        status, _ = _curl(
            curl,
            sink,
            gzip.compress(request.SerializeToString()),
            "content-type: application/x-protobuf",
            "content-encoding: gzip",
        )
        assert status == 200
        assert sorted(span.span_id for span in sink.spans()) == list(range(1, 2001))


def test_oversize_chunked_upload_is_413(curl: str) -> None:
    """A chunked body that passes the limit gets 413 (the sink stops reading it)."""
    with Sink(max_request_bytes=1000) as sink:
        status, _ = _curl(curl, sink, b"x" * 5000, "content-type: application/x-protobuf")
        assert status == 413
        assert sink.stats.refused == {"too_large": 1}
