"""The sink's OTLP/HTTP front end (stdlib ``http.server``) and its JSON query API.

``POST /v1/traces``, ``/v1/metrics`` and ``/v1/logs`` take ``application/x-protobuf`` or
``application/json`` bodies (optionally gzip/deflate encoded) and answer as the OTLP
specification says: 200 with an export response in the request's encoding (partial success
included), 400 with a ``google.rpc.Status`` for a bad body, 401 for a missing or wrong token, 413
for an oversize body, 415 for another content type or encoding, and 503 (with ``Retry-After``
when known) when a fault says so. ``GET /api/...`` serves `_query_api`. The server remembers its
open connections so that stopping it really cuts keep-alive clients off.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import socket
import sys
import threading
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2

from ._decode import Signal
from ._ingest import Ingest, Status

__all__ = ["HttpReceiver"]

_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_DRAIN_LIMIT = 64 * 1024 * 1024
_SIGNALS = {signal.info.path: signal for signal in Signal}

_logger = logging.getLogger("foundation_telemetry.sink")

Query = Callable[[str, str], tuple[int, dict[str, Any]]]


class _TooLarge(ValueError):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], ingest: Ingest, query: Query, max_request_bytes: int
    ) -> None:
        self.ingest = ingest
        self.query = query
        self.max_request_bytes = max_request_bytes
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log unexpected handler errors once per request; a client that went away is normal."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        _logger.warning("OTLP/HTTP sink: error handling a request", exc_info=error)

    def cut_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the sink reports what arrives, not every request line."""

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path in _SIGNALS:
            self._status(405, "export endpoints take POST", _JSON, allow="POST")
            return
        if not self._authorized():
            return
        status, document = self.server.query(path, query)
        self._send(status, json.dumps(document).encode(), _JSON)

    def do_POST(self) -> None:
        signal = _SIGNALS.get(self.path.partition("?")[0])
        if signal is None:
            self._discard_body()
            self._status(
                404,
                f"no OTLP endpoint at {self.path!r}; use /v1/traces, /v1/metrics or /v1/logs",
                _JSON,
            )
            return
        content_type = (self.headers.get("content-type") or "").partition(";")[0].strip().lower()
        if content_type not in (_PROTOBUF, _JSON):
            self._discard_body()
            self.server.ingest.refuse("unsupported_media_type")
            self._status(
                415,
                f"content type must be {_PROTOBUF} or {_JSON}, got {content_type or 'none'!r}",
                _JSON,
            )
            return
        if not self._authorized(content_type):
            return
        encoding = (self.headers.get("content-encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "deflate"):
            self._discard_body()
            self.server.ingest.refuse("unsupported_media_type")
            self._status(
                415,
                f"content encoding must be gzip, deflate or identity, got {encoding!r}",
                content_type,
            )
            return
        try:
            body = self._read_body(encoding)
        except _TooLarge as error:
            self.server.ingest.refuse("too_large")
            self.close_connection = True
            self._status(413, str(error), content_type, code=code_pb2.RESOURCE_EXHAUSTED)
            return
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as error:
            self.server.ingest.refuse("invalid")
            self._status(400, f"body could not be read or decompressed: {error}", content_type)
            return
        if body is None:
            return
        outcome = self.server.ingest.handle(signal, body, json_encoded=content_type == _JSON)
        if outcome.status is Status.OK and outcome.response is not None:
            self._send(200, _encode(outcome.response, content_type), content_type)
        elif outcome.status is Status.DROP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif outcome.status is Status.UNAVAILABLE:
            extra = (
                {} if outcome.retry_after is None else {"retry-after": f"{outcome.retry_after:g}"}
            )
            self._status(503, outcome.message, content_type, code=code_pb2.UNAVAILABLE, **extra)
        else:
            self._status(400, outcome.message, content_type)

    def _authorized(self, content_type: str = _JSON) -> bool:
        if self.server.ingest.authorized(self.headers.get("authorization")):
            return True
        self._discard_body()
        self.server.ingest.refuse("unauthenticated")
        self._status(
            401,
            "missing or wrong bearer token (send 'authorization: Bearer <token>')",
            content_type,
            code=code_pb2.UNAUTHENTICATED,
            **{"www-authenticate": "Bearer"},
        )
        return False

    def _read_body(self, encoding: str) -> bytes | None:
        limit = self.server.max_request_bytes
        length_header = self.headers.get("content-length")
        if length_header is None:
            self.close_connection = True
            self._status(411, "a content-length header is required", _JSON)
            return None
        try:
            length = int(length_header)
        except ValueError:
            self.close_connection = True
            self._status(400, f"content-length must be an integer, got {length_header!r}", _JSON)
            return None
        if length > limit:
            self._discard_body()
            msg = f"request body of {length} bytes is over the sink's limit of {limit} bytes"
            raise _TooLarge(msg)
        body = self.rfile.read(length)
        if len(body) < length:
            msg = f"connection closed after {len(body)} of {length} body bytes"
            raise EOFError(msg)
        if encoding == "identity":
            return body
        decompressor = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
        plain = decompressor.decompress(body, limit + 1)
        if len(plain) > limit or decompressor.unconsumed_tail:
            msg = f"decompressed request body is over the sink's limit of {limit} bytes"
            raise _TooLarge(msg)
        return plain + decompressor.flush()

    def _discard_body(self) -> None:
        """Read and drop the body of a request refused before reading it, then close.

        A client still sending when we answer and close sees a reset instead of our status, and
        the OTLP exporters retry resets; so a body of reasonable size is read first. An unread
        body would otherwise be parsed as the next request on a keep-alive connection.
        """
        self.close_connection = True
        try:
            remaining = int(self.headers.get("content-length") or 0)
        except ValueError:
            return
        if remaining > _DRAIN_LIMIT:
            return
        with contextlib.suppress(OSError):
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)

    def _status(
        self,
        status: int,
        message: str,
        content_type: str,
        code: int = code_pb2.INVALID_ARGUMENT,
        **headers: str,
    ) -> None:
        if status == 404:
            code = code_pb2.NOT_FOUND
        elif status == 415:
            code = code_pb2.INVALID_ARGUMENT
        body = _encode(status_pb2.Status(code=code, message=message), content_type)
        self._send(status, body, content_type, **headers)

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)


def _encode(message: Message, content_type: str) -> bytes:
    if content_type == _JSON:
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


class HttpReceiver:
    """One running HTTP server on its own thread; not restartable (make a new one)."""

    def __init__(
        self, ingest: Ingest, host: str, port: int, *, query: Query, max_request_bytes: int
    ) -> None:
        try:
            self._server = _Server((host, port), ingest, query, max_request_bytes)
        except OSError as error:
            msg = f"the OTLP/HTTP sink could not listen on {host}:{port}: {error.strerror or error}"
            raise OSError(error.errno, msg) from error
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="otlp-sink-http",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the port and cut every open connection."""
        self._server.shutdown()
        self._server.server_close()
        self._server.cut_connections()
        self._thread.join()
