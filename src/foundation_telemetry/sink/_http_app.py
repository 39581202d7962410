"""The sink's ASGI app: the OTLP/HTTP endpoints and the JSON query API, behind one token.

``POST /v1/traces``, ``/v1/metrics`` and ``/v1/logs`` take ``application/x-protobuf`` or
``application/json`` bodies (optionally gzip/deflate encoded, ``Content-Length`` or chunked) and
answer as the OTLP specification says: 200 with an export response in the request's encoding
(partial success included), 400 with a ``google.rpc.Status`` for a bad body, 401 for a missing or
wrong token, 408 when the body stalls, 413 for an oversize body, 415 for another content type or
encoding, and 503 (with ``Retry-After`` when known) when a fault says so. ``GET /api/...`` serves
`_query_api` as strict JSON. Every route, those added with *extra_routes* included, needs the
token when one is set. Each answer is counted in ``sink.stats``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2

from ._asgi import (
    ASGIApp,
    Receive,
    Request,
    Response,
    Route,
    Router,
    Scope,
    Send,
    redirect,
    run_in_thread,
)
from ._body import BodyError, check_encoding, decompress, read_body
from ._decode import Signal
from ._ingest import Ingest, Status

__all__ = ["TOKEN_COOKIE", "Query", "build_app", "strict_json"]

_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_REASONS = {400: "invalid", 408: "timeout", 413: "too_large", 415: "unsupported_media_type"}
_CODES = {
    413: code_pb2.RESOURCE_EXHAUSTED,
    503: code_pb2.UNAVAILABLE,
    401: code_pb2.UNAUTHENTICATED,
}

Query = Callable[[str, str], tuple[int, dict[str, Any]]]


def strict_json(document: Any) -> bytes:
    """*document* as JSON that ``JSON.parse`` accepts: NaN and infinities become strings.

    They are spelled as proto3 JSON spells them: ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
    """
    return json.dumps(_finite(document), allow_nan=False, separators=(",", ":")).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _encode(message: Message, content_type: str) -> bytes:
    if content_type == _JSON:
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


def _status(
    status: int, message: str, content_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    code = _CODES.get(status, code_pb2.NOT_FOUND if status == 404 else code_pb2.INVALID_ARGUMENT)
    body = _encode(status_pb2.Status(code=code, message=message), content_type)
    return Response(body, status, headers=dict(headers or {}), media_type=content_type)


def _content_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").partition(";")[0].strip().lower()


TOKEN_COOKIE: Final = "foundation_sink_token"
"""The cookie the viewer's page and stream authenticate with when the sink has a token."""


class _Guard:
    """Token check for every route, and the count of every answer by status."""

    def __init__(self, app: ASGIApp, ingest: Ingest) -> None:
        self._app = app
        self._ingest = ingest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        authorization = request.headers.get("authorization")
        # A browser cannot set the header on a page load or an EventSource: the viewer's address
        # carries the token once (?token=), which is swapped for a same-site cookie.
        cookie = request.cookies.get(TOKEN_COOKIE)
        if authorization is None and cookie:
            authorization = f"Bearer {cookie}"
        link_token = request.query_params.get("token") if scope["path"] == "/ui/" else None
        if authorization is None and link_token:
            if self._ingest.authorized(f"Bearer {link_token}"):
                to_page = redirect("/ui/", 303)
                to_page.set_cookie(
                    TOKEN_COOKIE, link_token, httponly=True, samesite="strict", path="/"
                )
                await to_page(scope, receive, send)
                return
            authorization = f"Bearer {link_token}"
        if not self._ingest.authorized(authorization):
            content_type = _content_type(request)
            if content_type != _PROTOBUF:
                content_type = _JSON
            self._ingest.refuse("unauthenticated", 401)
            response = _status(
                401,
                "missing or wrong bearer token (send 'authorization: Bearer <token>')",
                content_type,
                {"www-authenticate": "Bearer", "connection": "close"},
            )
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)


class _Otlp:
    """The export endpoint of one signal."""

    def __init__(
        self, ingest: Ingest, signal: Signal, max_request_bytes: int, body_timeout: float
    ) -> None:
        self._ingest = ingest
        self._signal = signal
        self._limit = max_request_bytes
        self._timeout = body_timeout

    async def handle(self, request: Request) -> Response:
        content_type = _content_type(request)
        reply_type = content_type if content_type in (_PROTOBUF, _JSON) else _JSON
        try:
            if reply_type != content_type:
                msg = f"content type must be {_PROTOBUF} or {_JSON}, got {content_type or 'none'!r}"
                raise BodyError(415, msg, close=True)
            encoding = check_encoding(request.headers.get("content-encoding"))
            raw = await read_body(request.receive, request.headers, self._limit, self._timeout)
            body = decompress(raw, encoding, self._limit)
        except BodyError as error:
            self._ingest.refuse(_REASONS[error.status], error.status)
            # Closing instead of reading what is left of the body: nothing more is read.
            headers = {"connection": "close"} if error.close else {}
            return _status(error.status, error.message, reply_type, headers)
        outcome = await run_in_thread(
            self._ingest.handle, self._signal, body, json_encoded=content_type == _JSON
        )
        if outcome.status is Status.OK and outcome.response is not None:
            self._ingest.count_status(200)
            return Response(_encode(outcome.response, content_type), media_type=content_type)
        if outcome.status is Status.DROP:
            request.scope["extensions"]["foundation.abort"]()
            return Response(b"", 500)  # never sent: the connection is gone
        if outcome.status is Status.UNAVAILABLE:
            self._ingest.count_status(503)
            extra = (
                {} if outcome.retry_after is None else {"retry-after": f"{outcome.retry_after:g}"}
            )
            return _status(503, outcome.message, content_type, extra)
        self._ingest.count_status(400)
        return _status(400, outcome.message, content_type)


def build_app(
    ingest: Ingest,
    *,
    query: Query,
    max_request_bytes: int,
    body_timeout: float,
    extra_routes: Sequence[Route] = (),
) -> ASGIApp:
    """Build the HTTP app: OTLP endpoints, query API and *extra_routes*, behind the token."""

    async def api(request: Request) -> Response:
        status, document = query(request.path, request.query)
        return Response(strict_json(document), status, media_type=_JSON)

    async def not_found(request: Request) -> Response:
        paths = ", ".join(signal.info.path for signal in Signal)
        msg = f"no endpoint at {request.path!r}; OTLP export paths are {paths}"
        return _status(404, msg, _JSON, {"connection": "close"})  # the body is never read

    async def wrong_method(request: Request) -> Response:
        return _status(405, "export endpoints take POST", _JSON, {"allow": "POST"})

    routes: list[Route] = []
    for signal in Signal:
        endpoint = _Otlp(ingest, signal, max_request_bytes, body_timeout)
        routes.append(Route(signal.info.path, endpoint.handle, methods=["POST"]))
        routes.append(Route(signal.info.path, wrong_method, methods=["GET", "PUT", "DELETE"]))
    routes.extend(extra_routes)  # before the query API, which answers every other /api/ path
    routes.append(Route("/api/{rest:path}", api, methods=["GET"]))
    routes.append(Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]))
    return _Guard(Router(routes), ingest)
