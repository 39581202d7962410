"""The sink's HTTP server: the ASGI app of `_http_app` on uvicorn, in a daemon thread.

uvicorn runs its own asyncio loop on the thread; `HttpReceiver` binds the listening socket in the
caller's thread (so a busy port fails in ``start()`` with a clear error), returns once uvicorn
reports it is serving, and on `stop` closes the port and cuts every open connection, idle
keep-alive or in flight. The HTTP layer (h11) takes ``Content-Length`` and chunked bodies,
HTTP/1.0 and keep-alive; the protocol subclass here adds what uvicorn leaves out, each answer
counted in ``sink.stats``: a request whose headers do not arrive within the header timeout gets
408, headers over the size limit 431 (uvicorn would say 400), and a connection over the limit 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, final

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ._asgi import Route, close_threads
from ._http_app import Query, build_app
from ._ingest import Ingest

__all__ = ["HttpLimits", "HttpReceiver"]

_logger = logging.getLogger("foundation_telemetry.sink.http")
# Bad requests from clients are answered and counted; they are not the host's log's business
# unless it configured logging.
_logger.addHandler(logging.NullHandler())


@final
@dataclass(frozen=True)
class HttpLimits:
    """The OTLP/HTTP server's limits and timeouts (seconds), with the sink's defaults.

    Attributes:
        backlog: the listen queue (connections waiting to be accepted).
        header_timeout: a connection whose request headers are not complete by then gets 408.
        body_timeout: the longest wait for the next piece of a body before 408.
        keep_alive_timeout: an idle keep-alive connection is closed after this.
        max_header_bytes: request line and headers over this size get 431.
        max_connections: connections over this number get 503 (``Retry-After: 1``).

    .. versionadded:: 0.2.0
    """

    backlog: int = 2048
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: int = 30
    max_header_bytes: int = 64 * 1024
    max_connections: int = 4096

    def __post_init__(self) -> None:
        for name in ("backlog", "header_timeout", "body_timeout", "keep_alive_timeout"):
            if not getattr(self, name) > 0:
                msg = f"HttpLimits.{name} must be > 0, got {getattr(self, name)!r}."
                raise ValueError(msg)
        for name in ("max_header_bytes", "max_connections"):
            if getattr(self, name) < 1:
                msg = f"HttpLimits.{name} must be >= 1, got {getattr(self, name)!r}."
                raise ValueError(msg)


class _Config(uvicorn.Config):
    """uvicorn's config plus what the protocol subclass needs (the counters and limits)."""

    ingest: Ingest
    limits: HttpLimits


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout, a 431, a connection cap and counting."""

    config: _Config

    def __init__(self, config: _Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.logger = _logger
        self._header_timer: asyncio.TimerHandle | None = None
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})["foundation.abort"] = self._abort
            await inner(scope, receive, send)

        self.app = app

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.config.limits.max_connections:
            self.config.ingest.refuse("overloaded", 503)
            self._answer_and_close(503, b"too many connections", b"retry-after: 1")
            return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._headers_too_large(data):
            self._unset_keepalive_if_required()
            self.config.ingest.refuse("headers_too_large", 431)
            self._answer_and_close(431, b"request headers are over the sink's limit")
            return
        super().data_received(data)
        # Still waiting for the end of a request's headers: keep (or start) the clock running.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self._header_timer is None:
                self._arm_header_timer()
        else:
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Between requests uvicorn's keep-alive timeout applies; a pipelined request already
        # parsed needs no clock.
        self._cancel_header_timer()

    def _headers_too_large(self, data: bytes) -> bool:
        # h11 checks its limit only while it waits for more bytes, so headers that arrive in
        # one piece would pass it; measured here on what is buffered plus what just came.
        limit = self.config.limits.max_header_bytes
        buffered = self.conn.trailing_data[0] + data
        end = buffered.find(b"\r\n\r\n", 0, limit + 4)
        return end > limit or (end == -1 and len(buffered) > limit)

    def _arm_header_timer(self) -> None:
        timeout = self.config.limits.header_timeout
        self._header_timer = self.loop.call_later(timeout, self._header_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return
        self.config.ingest.refuse("timeout", 408)
        self._answer_and_close(408, b"request headers did not arrive in time")

    def send_400_response(self, msg: str) -> None:
        del msg  # uvicorn's text names no reason; h11's does not reach here
        self.config.ingest.refuse("invalid", 400)
        self._answer_and_close(400, b"malformed HTTP request (request line, headers or framing)")

    def _answer_and_close(self, status: int, message: bytes, *extra: bytes) -> None:
        # Written raw: h11 will not send a response before it has parsed a request.
        head = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(),
            b"content-type: text/plain; charset=utf-8",
            b"content-length: " + str(len(message)).encode(),
            *extra,
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + message)
        self.transport.close()

    def _abort(self) -> None:
        """Cut the connection without an answer (the ``drop`` fault)."""
        self.transport.abort()


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        msg = f"the OTLP/HTTP sink could not listen on {host}:{port}: {error.strerror or error}"
        raise OSError(error.errno, msg) from error
    sock.setblocking(False)
    return sock


class HttpReceiver:
    """One running HTTP server on its own thread; not restartable (make a new one)."""

    def __init__(
        self,
        ingest: Ingest,
        host: str,
        port: int,
        *,
        query: Query,
        max_request_bytes: int,
        limits: HttpLimits | None = None,
        extra_routes: Sequence[Route] = (),
    ) -> None:
        limits = limits or HttpLimits()
        app = build_app(
            ingest,
            query=query,
            max_request_bytes=max_request_bytes,
            body_timeout=limits.body_timeout,
            extra_routes=extra_routes,
        )
        config = _Config(
            app,
            http=_Protocol,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            backlog=limits.backlog,
            timeout_keep_alive=limits.keep_alive_timeout,
            h11_max_incomplete_event_size=limits.max_header_bytes,
        )
        config.ingest = ingest
        config.limits = limits
        self._socket = _listen(host, port, limits.backlog)
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(config)
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="otlp-sink-http", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            self._thread.join()
            self._socket.close()
            raise self._failure

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as error:  # reported to start(), or logged once serving
            if self._started.is_set():
                _logger.warning("the OTLP/HTTP sink's server failed", exc_info=error)
            self._failure = error
        finally:
            self._started.set()

    async def _serve(self) -> None:
        server = self._server
        config = server.config
        config.load()
        server.lifespan = config.lifespan_class(config)
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        await server.startup(sockets=[self._socket])
        if not server.started:
            msg = "the OTLP/HTTP sink's server did not start"
            raise RuntimeError(msg)
        await server.on_tick(0)  # sets the Date header uvicorn sends
        self._started.set()
        ticker = asyncio.create_task(self._tick())
        await self._stopping.wait()
        ticker.cancel()
        await self._shutdown()

    async def _tick(self) -> None:
        counter = 0
        while True:
            await asyncio.sleep(1.0)  # allow-sleep: refreshes the Date header once a second
            counter += 10
            await self._server.on_tick(counter)

    async def _shutdown(self) -> None:
        # uvicorn's own shutdown waits for connections to finish; the sink cuts them instead
        # (in-flight requests are cut off, keep-alive clients see the connection close).
        server = self._server
        for listener in server.servers:
            listener.close()
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        tasks = list(server.server_state.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        close_threads()  # a request still in a worker thread (a delay fault) is not waited for
        for listener in server.servers:
            await listener.wait_closed()

    def stop(self) -> None:
        """Stop serving, close the port and cut every open connection."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        self._thread.join()
        self._socket.close()
