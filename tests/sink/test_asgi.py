"""The sink's own ASGI router and responses: the answers Starlette gave, kept byte for byte."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from _imports import imported_after
from foundation_telemetry.sink import Sink
from foundation_telemetry.sink._asgi import Headers, Request, Response, Route, redirect

from ._helpers import post


@pytest.fixture
def ui_sink() -> Iterator[Sink]:
    with Sink(ui=True) as running:
        yield running


def _raw(sink: Sink, request: bytes) -> bytes:
    """Send *request* (``connection: close``) and return the answer without its Date header."""
    with socket.create_connection(("127.0.0.1", sink.http_port), timeout=30) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    lines = b"".join(chunks).split(b"\r\n")
    return b"\r\n".join(line for line in lines if not line.startswith(b"date: "))


def _get(method: str, target: str, *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "host: sink", "connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class TestRouting:
    def test_route_params_match_one_segment_or_the_rest(self) -> None:
        """``{name}`` is one non-empty segment, ``{name:path}`` anything; GET implies HEAD."""

        async def endpoint(request: Request) -> Response:
            return Response()

        assets = Route("/ui/assets/{name}", endpoint)
        rest = Route("/api/{rest:path}", endpoint, methods=["GET", "POST"])
        assert assets.match("/ui/assets/viewer.js") == {"name": "viewer.js"}
        assert assets.match("/ui/assets/") is None
        assert assets.match("/ui/assets/a/b") is None
        assert rest.match("/api/a/b") == {"rest": "a/b"}
        assert rest.match("/api/") == {"rest": ""}
        assert (assets.methods, rest.methods) == (("GET", "HEAD"), ("GET", "HEAD", "POST"))

    def test_wrong_method_is_405_naming_the_methods_of_the_first_route(self, sink: Sink) -> None:
        """A method no route for the path takes is 405 with Allow, as plain text."""
        answer = _raw(sink, _get("PATCH", "/v1/traces"))
        assert answer.startswith(b"HTTP/1.1 405 Method Not Allowed\r\nallow: POST\r\n")
        assert answer.endswith(
            b"content-length: 18\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"Connection: close\r\n\r\nMethod Not Allowed"
        )
        assert b"allow: GET, HEAD, POST, PUT, DELETE\r\n" in _raw(sink, _get("PATCH", "/nothing"))

    def test_a_target_no_route_takes_is_404_as_plain_text(self, sink: Sink) -> None:
        """``OPTIONS *`` (no path at all) gets the router's own 404."""
        answer = _raw(sink, _get("OPTIONS", "*"))
        assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
        assert answer.endswith(b"\r\n\r\nNot Found")

    def test_head_answers_the_get_headers_without_a_body(self, sink: Sink) -> None:
        """HEAD on the query API has the GET answer's Content-Length and no body."""
        get = _raw(sink, _get("GET", "/api/spans"))
        head = _raw(sink, _get("HEAD", "/api/spans"))
        assert head == get.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"

    def test_an_endpoint_error_is_a_plain_500(
        self, sink: Sink, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An endpoint that raises gets 500 with a length, and the sink keeps serving."""

        def broken(*args: object) -> None:
            msg = "boom"
            raise ValueError(msg)

        monkeypatch.setattr("foundation_telemetry.sink._sink.answer", broken)
        answer = _raw(sink, _get("GET", "/api/spans"))
        assert answer == (
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 21\r\n"
            b"content-type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
            b"Internal Server Error"
        )
        body = trace_service_pb2.ExportTraceServiceRequest().SerializeToString()
        assert post(sink, "/v1/traces", body)[0] == 200


class TestRequestAndResponse:
    def test_headers_are_case_insensitive_and_the_first_wins(self) -> None:
        """Of repeated headers the first is the value; getlist has them all."""
        headers = Headers([(b"x-a", b"1"), (b"X-A", b"2"), (b"b", b"3")])
        assert (headers["X-a"], headers.getlist("x-a"), list(headers)) == (
            "1",
            ["1", "2"],
            ["x-a", "b"],
        )

    def test_cookies_and_query_parse_as_before(self) -> None:
        """Cookies are unquoted (last one wins); of repeated query parameters the last wins."""
        scope = {
            "headers": [(b"cookie", b'a=1; t="s3 cret\\054\\"x\\""; a=2'), (b"cookie", b"b=3")],
            "query_string": b"token=x&token=y%20z",
            "path": "/ui",
            "server": ("127.0.0.1", 80),
        }
        request = Request(scope)
        assert request.cookies == {"a": "2", "t": 's3 cret,"x"', "b": "3"}
        assert request.query_params == {"token": "y z"}
        assert request.url_with_path("/ui/") == "http://127.0.0.1/ui/?token=x&token=y%20z"

    def test_response_headers_come_in_starlettes_order(self) -> None:
        """Given headers (lower-cased) first, then Content-Length, Content-Type, Location, cookies."""
        response = Response("x", headers={"X-Extra": "1"}, media_type="text/html")
        assert response.raw_headers == [
            (b"x-extra", b"1"),
            (b"content-length", b"1"),
            (b"content-type", b"text/html; charset=utf-8"),
        ]
        moved = redirect("/a b", 303)
        moved.set_cookie("k", 'v "q"', httponly=True, samesite="strict")
        assert moved.raw_headers == [
            (b"content-length", b"0"),
            (b"location", b"/a%20b"),
            (b"set-cookie", b'k="v \\"q\\""; HttpOnly; Path=/; SameSite=strict'),
        ]


class TestViewer:
    def test_ui_without_slash_redirects_to_the_absolute_page_url(self, ui_sink: Sink) -> None:
        """``/ui`` is a 307 to ``/ui/`` on the host the client named, query kept."""
        answer = _raw(ui_sink, _get("GET", "/ui?x=1"))
        assert answer.startswith(
            b"HTTP/1.1 307 Temporary Redirect\r\ncontent-length: 0\r\n"
            b"location: http://sink/ui/?x=1\r\n"
        )

    def test_token_link_sets_a_quoted_cookie_that_logs_in(self) -> None:
        """The link's token becomes a strict HttpOnly cookie; sent back, it opens the page."""
        with Sink(ui=True, token='s3 cret,"x"') as sink:
            answer = _raw(sink, _get("GET", "/ui/?token=s3%20cret%2C%22x%22"))
            assert answer.startswith(
                b"HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /ui/\r\n"
                b'set-cookie: foundation_sink_token="s3 cret\\054\\"x\\""; HttpOnly; Path=/; '
                b"SameSite=strict\r\n"
            )
            cookie = 'cookie: foundation_sink_token="s3 cret\\054\\"x\\""'
            assert _raw(sink, _get("GET", "/ui/", cookie)).startswith(b"HTTP/1.1 200 OK\r\n")

    def test_stream_ends_when_the_client_goes_away(
        self, ui_sink: Sink, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Closing the connection ends the event stream at once: its buffer waiter is removed."""
        buffer = ui_sink._buffer
        removed = threading.Event()
        remove = buffer.remove_waiter

        def tracked(waiter: Any) -> None:
            remove(waiter)
            removed.set()

        monkeypatch.setattr(buffer, "remove_waiter", tracked)
        connection = http.client.HTTPConnection("127.0.0.1", ui_sink.http_port, timeout=30)
        connection.request("GET", "/api/stream")
        response = connection.getresponse()
        assert response.getheader("content-type") == "text/event-stream; charset=utf-8"
        assert response.getheader("transfer-encoding") == "chunked"
        assert response.readline() == b"event: ready\n"
        connection.close()
        assert removed.wait(5)  # the keep-alive comes only after 15 s


class TestShutdown:
    def test_stop_does_not_wait_for_a_delayed_request(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A request held by a delay fault in a worker thread does not hold up stop()."""
        sink = Sink().start()
        sink.faults.delay(5, requests=1)
        in_delay = threading.Event()
        verdict = sink.faults.next_verdict

        def tracked(*args: Any) -> Any:
            try:
                return verdict(*args)
            finally:
                in_delay.set()

        monkeypatch.setattr(sink.faults, "next_verdict", tracked)
        body = trace_service_pb2.ExportTraceServiceRequest().SerializeToString()
        seen: list[BaseException] = []

        def client() -> None:
            try:
                post(sink, "/v1/traces", body)
            except (OSError, http.client.HTTPException) as error:
                seen.append(error)

        thread = threading.Thread(target=client)
        thread.start()
        assert in_delay.wait(30)
        start = time.monotonic()
        sink.stop()
        assert time.monotonic() - start < 4
        thread.join()
        assert len(seen) == 1  # cut off, not answered


def test_serving_http_imports_neither_starlette_nor_anyio() -> None:
    """A sink answering OTLP/HTTP, its UI and the query API runs without either.

    anyio registers a pytest plugin that every pytest run of every user imports (50-80 ms), so
    the base install must not depend on it, or on Starlette, which requires it.
    """
    code = (
        "import urllib.request\n"
        "from foundation_telemetry.sink import Sink\n"
        "with Sink(ui=True) as sink:\n"
        "    for path in ('/api/health', '/ui/', '/api/spans'):\n"
        "        urllib.request.urlopen(sink.http_endpoint + path, timeout=10).read()\n"
    )
    assert imported_after(code, "anyio", "starlette", "sniffio") == []
