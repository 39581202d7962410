"""The HTTP front under hostile or unusual clients: framing, limits, timeouts, many connections.

Each test talks to a real sink over raw sockets or ``http.client`` and reads what really came
back; waits are blocking reads on the socket (the sink's own timeouts end them), never sleeps.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from foundation_telemetry.sink import HttpLimits, Sink

from ._helpers import get_json, post

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")


def _request(first: int, count: int, trace_id: bytes = TRACE_ID) -> bytes:
    spans = [
        trace_pb2.Span(trace_id=trace_id, span_id=i.to_bytes(8, "big"), name=f"s{i}")
        for i in range(first, first + count)
    ]
    message = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[{"scope_spans": [{"spans": spans}]}]
    )
    return message.SerializeToString()


def _raw(sink: Sink, data: bytes, timeout: float = 30) -> bytes:
    """Send *data* on a new connection and read until the sink closes it."""
    with socket.create_connection(("127.0.0.1", sink.http_port), timeout=timeout) as connection:
        connection.sendall(data)
        return _read_all(connection)


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def _head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "host: sink", "content-type: application/x-protobuf"]
    return ("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode()


@pytest.fixture
def short() -> Iterator[Sink]:
    """A sink with short timeouts and small limits, so the tests reach them quickly."""
    limits = HttpLimits(header_timeout=0.3, body_timeout=0.3, max_connections=300)
    with Sink(http_limits=limits, max_request_bytes=1 << 20) as running:
        yield running


class TestFraming:
    def test_chunked_body_is_read(self, sink: Sink) -> None:
        """A chunked body (what the JS exporters send) is accepted (RFC 9112 section 7.1)."""
        connection = http.client.HTTPConnection("127.0.0.1", sink.http_port, timeout=30)
        body = iter([_request(1, 3)[:10], _request(1, 3)[10:]])
        connection.request(
            "POST",
            "/v1/traces",
            body=body,
            headers={"content-type": "application/x-protobuf"},
            encode_chunked=True,
        )
        assert connection.getresponse().status == 200
        connection.close()
        assert [span.name for span in sink.spans()] == ["s1", "s2", "s3"]

    @pytest.mark.parametrize("length", ["-1", "1_20", "+5", "0x10", "1 2"])
    def test_malformed_content_length_is_400(self, sink: Sink, length: str) -> None:
        """Only digits are a length; anything else is refused, counted, and nothing is stored."""
        answer = _raw(sink, _head("/v1/traces", f"content-length: {length}") + b"x" * 120)
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert sink.spans() == []
        assert sink.stats.refused == {"invalid": 1}
        assert sink.stats.http_statuses == {400: 1}

    def test_http_1_0_request_is_answered_and_closed(self, sink: Sink) -> None:
        """An HTTP/1.0 client gets its answer and the connection closes."""
        body = _request(1, 1)
        head = "POST /v1/traces HTTP/1.0\r\ncontent-type: application/x-protobuf\r\n"
        head += f"content-length: {len(body)}\r\n\r\n"
        answer = _raw(sink, head.encode() + body)
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert len(sink.spans()) == 1

    def test_unknown_json_fields_are_ignored(self, sink: Sink) -> None:
        """OTLP/JSON receivers must ignore fields they do not know (the spec), not lose the batch."""
        span = {"traceId": TRACE_ID.hex(), "spanId": "00000000000000ff", "name": "j", "new": [1]}
        body = {"resourceSpans": [{"scopeSpans": [{"spans": [span], "extra": True}]}]}
        status, _, _ = post(sink, "/v1/traces", json.dumps(body).encode(), "application/json")
        assert status == 200
        assert [s.name for s in sink.spans()] == ["j"]

    @pytest.mark.parametrize(
        ("trace_id", "span_id", "wrong"),
        [("5b8e", "eee19b7ec3c1b174", "traceId"), (TRACE_ID.hex(), "ee", "spanId")],
    )
    def test_wrong_length_ids_are_400_and_counted(
        self, sink: Sink, trace_id: str, span_id: str, wrong: str
    ) -> None:
        """Trace ids are 16 bytes and span ids 8; other lengths are refused with the reason."""
        span = {"traceId": trace_id, "spanId": span_id, "name": "bad"}
        body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
        status, _, answer = post(sink, "/v1/traces", json.dumps(body).encode(), "application/json")
        assert status == 400
        assert wrong in json.loads(answer)["message"]
        assert "bytes" in json.loads(answer)["message"]
        assert sink.spans() == []
        assert sink.stats.refused == {"invalid": 1}

    def test_wrong_length_protobuf_id_is_400(self, sink: Sink) -> None:
        """The same check holds for protobuf bodies (15-byte trace id)."""
        assert post(sink, "/v1/traces", _request(1, 1, trace_id=bytes(14) + b"\1"))[0] == 400


class TestGzip:
    def test_second_gzip_member_is_read_too(self, sink: Sink) -> None:
        """Concatenated gzip members form one body (RFC 1952), so no span is silently dropped."""
        body = gzip.compress(_request(1, 2)) + gzip.compress(_request(3, 2))
        status, _, _ = post(sink, "/v1/traces", body, headers={"content-encoding": "gzip"})
        assert status == 200
        assert sorted(span.span_id for span in sink.spans()) == [1, 2, 3, 4]

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (gzip.compress(_request(1, 2)) + b"garbage!", "garbage"),
            (gzip.compress(_request(1, 2))[:-8], "truncated"),
            (gzip.compress(_request(1, 2))[:-3], "truncated"),
        ],
        ids=["trailing-garbage", "missing-trailer", "cut-trailer"],
    )
    def test_broken_gzip_is_400(self, sink: Sink, body: bytes, reason: str) -> None:
        """Garbage after the stream and a missing or cut trailer are bad requests, not accepted."""
        status, _, answer = post(
            sink, "/v1/traces", body, "application/json", headers={"content-encoding": "gzip"}
        )
        assert status == 400
        assert reason in json.loads(answer)["message"]
        assert sink.spans() == []
        assert sink.stats.refused == {"invalid": 1}


class TestLimits:
    def test_oversize_body_is_refused_without_reading_it(self) -> None:
        """A declared oversize body is answered 413 at once and the connection is closed.

        The client has sent 64 KiB of 6 MiB when the answer arrives: the sink did not wait for
        (or drain) the rest.
        """
        with (
            Sink(max_request_bytes=4 << 20) as sink,
            socket.create_connection(("127.0.0.1", sink.http_port), timeout=30) as connection,
        ):
            connection.sendall(_head("/v1/traces", f"content-length: {6 << 20}"))
            connection.sendall(b"\0" * 65536)
            answer = _read_all(connection)
            assert answer.startswith(b"HTTP/1.1 413 ")
            assert b"connection: close" in answer.lower()
            assert sink.stats.refused == {"too_large": 1}
            assert sink.stats.http_statuses == {413: 1}

    def test_oversize_chunked_body_stops_at_the_limit(self) -> None:
        """A chunked body is refused as soon as it passes the limit, before its end arrives."""
        with (
            Sink(max_request_bytes=100_000) as sink,
            socket.create_connection(("127.0.0.1", sink.http_port), timeout=30) as connection,
        ):
            connection.sendall(_head("/v1/traces", "transfer-encoding: chunked"))
            chunk = b"\0" * 60_000
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) * 2)  # no last chunk
            assert _read_all(connection).startswith(b"HTTP/1.1 413 ")
            assert sink.stats.refused == {"too_large": 1}

    def test_oversize_headers_are_431(self, sink: Sink) -> None:
        """Headers over the limit get 431 (counted), whether they arrive at once or in pieces."""
        big = _head("/v1/traces", "x-big: " + "a" * 70_000, "content-length: 0")
        assert _raw(sink, big).startswith(b"HTTP/1.1 431 ")
        with socket.create_connection(("127.0.0.1", sink.http_port), timeout=30) as connection:
            connection.sendall(b"POST /v1/traces HTTP/1.1\r\nx-big: ")
            for _ in range(14):  # the 14th piece passes 64 KiB; nothing is sent after it
                connection.sendall(b"a" * 5000)
            assert _read_all(connection).startswith(b"HTTP/1.1 431 ")
        assert sink.stats.refused == {"headers_too_large": 2}
        assert sink.stats.http_statuses == {431: 2}

    def test_connections_over_the_limit_get_503(self) -> None:
        """Past max_connections a new connection is answered 503 with Retry-After and closed."""
        with Sink(http_limits=HttpLimits(max_connections=2)) as sink:
            held = [http.client.HTTPConnection("127.0.0.1", sink.http_port) for _ in range(2)]
            for connection in held:  # both are accepted and kept alive
                connection.request("GET", "/api/spans")
                assert connection.getresponse().read()
            answer = _raw(sink, b"GET /api/spans HTTP/1.1\r\nhost: s\r\n\r\n")
            assert answer.startswith(b"HTTP/1.1 503 ")
            assert b"retry-after: 1" in answer
            assert sink.stats.refused == {"overloaded": 1}
            for connection in held:
                connection.close()


class TestTimeouts:
    def test_headers_that_never_finish_get_408(self, short: Sink) -> None:
        """A slow client (part of the headers, then nothing) is answered 408 and cut off."""
        answer = _raw(short, b"POST /v1/traces HTTP/1.1\r\nhost: x\r\n")
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert short.stats.refused == {"timeout": 1}

    def test_idle_connection_gets_408(self, short: Sink) -> None:
        """A connection that never sends a byte does not stay open."""
        assert _raw(short, b"").startswith(b"HTTP/1.1 408 ")

    def test_stalled_body_gets_408(self, short: Sink) -> None:
        """A body that stops arriving is answered 408; nothing is stored."""
        answer = _raw(short, _head("/v1/traces", "content-length: 100") + b"x" * 10)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert short.stats.refused == {"timeout": 1}
        assert short.spans() == []

    def test_idle_clients_hold_no_threads(self, short: Sink) -> None:
        """250 idle connections cost no thread each, do not block others, and are all cut."""
        before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", short.http_port)) for _ in range(250)]
        try:
            assert post(short, "/v1/traces", _request(1, 1))[0] == 200
            assert threading.active_count() - before < 10
            for connection in idle:
                connection.settimeout(30)
                assert _read_all(connection).startswith(b"HTTP/1.1 408 ")
        finally:
            for connection in idle:
                connection.close()
        assert short.stats.refused == {"timeout": 250}


class TestManyClients:
    def test_fifty_clients_connecting_at_once_are_all_answered(self, sink: Sink) -> None:
        """50 clients connect at the same moment and send 3 requests each: no reset, no loss."""
        assert _clients(sink, 50, 3) == []
        assert sorted(span.span_id for span in sink.spans()) == list(range(1, 1501))
        assert sink.stats.accepted == {"traces": 1500}
        assert sink.stats.http_statuses == {200: 150}

    def test_load_with_idle_connections_loses_nothing(self) -> None:
        """Load: 250 idle connections held open while 50 clients send 40 requests each.

        Every accepted span is stored exactly once and the sink's threads stay bounded.
        """
        limits = HttpLimits(header_timeout=120)
        with Sink(http_limits=limits, max_items=30_000) as sink:
            before = threading.active_count()
            idle = [socket.create_connection(("127.0.0.1", sink.http_port)) for _ in range(250)]
            try:
                assert _clients(sink, 50, 40) == []
                # The 50 client threads have ended; what is left is the sink's own.
                assert threading.active_count() - before < 45
            finally:
                for connection in idle:
                    connection.close()
            assert sorted(span.span_id for span in sink.spans()) == list(range(1, 20_001))
            assert sink.stats.accepted == {"traces": 20_000}
            assert sink.overflow == 0


def _clients(sink: Sink, count: int, requests: int) -> list[BaseException]:
    """Run *count* keep-alive clients at once, each posting *requests* batches of 10 spans.

    Span ids are unique over all clients (1 up); returns the errors the clients saw.
    """
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def client(number: int) -> None:
        start.wait()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", sink.http_port, timeout=60)
            for request in range(requests):
                first = (number * requests + request) * 10 + 1
                connection.request(
                    "POST",
                    "/v1/traces",
                    body=_request(first, 10),
                    headers={"content-type": "application/x-protobuf"},
                )
                response = connection.getresponse()
                response.read()
                assert response.status == 200
            connection.close()
        except (OSError, AssertionError, http.client.HTTPException) as error:
            errors.append(error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


class TestShutdown:
    def test_stop_cuts_keep_alive_clients(self) -> None:
        """stop() closes an idle keep-alive connection: the client sees it end, not hang."""
        sink = Sink().start()
        connection = http.client.HTTPConnection("127.0.0.1", sink.http_port, timeout=30)
        connection.request("GET", "/api/spans")
        assert connection.getresponse().read()
        assert connection.sock is not None
        sink.stop()
        assert _read_all(connection.sock) == b""
        connection.close()


class TestQueryApi:
    def test_query_api_never_answers_bare_nan(self, sink: Sink) -> None:
        """NaN and infinities come back as proto3 JSON strings, so JSON.parse accepts the answer."""
        points = [
            {"asDouble": value, "timeUnixNano": "1"} for value in ("NaN", "Infinity", "-Infinity")
        ]
        body = {
            "resourceMetrics": [
                {"scopeMetrics": [{"metrics": [{"name": "g", "gauge": {"dataPoints": points}}]}]}
            ]
        }
        status, _, _ = post(sink, "/v1/metrics", json.dumps(body).encode(), "application/json")
        assert status == 200
        connection = http.client.HTTPConnection("127.0.0.1", sink.http_port, timeout=30)
        connection.request("GET", "/api/metrics")
        raw = connection.getresponse().read()
        connection.close()
        assert b"NaN," not in raw
        document = json.loads(raw, parse_constant=lambda name: pytest.fail(f"bare {name}"))
        values = [item["value"] for item in document["items"]]
        assert values == ["NaN", "Infinity", "-Infinity"]

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
    def test_bearer_scheme_is_case_insensitive(self, scheme: str) -> None:
        """The auth scheme is case-insensitive (RFC 9110); the token itself is not."""
        with Sink(token="secret") as guarded:
            assert get_json(guarded, "/api/spans", {"authorization": f"{scheme} secret"})[0] == 200
            assert get_json(guarded, "/api/spans", {"authorization": f"{scheme} SECRET"})[0] == 401
