"""The little ASGI toolkit the sink's HTTP front end runs on (under uvicorn): just what it needs.

`Router` dispatches over a table of routes (`Route`: methods and a path pattern whose ``{name}``
matches one segment and ``{name:path}`` the rest); a path no route takes gets 404, a path only
other methods take 405 with ``Allow``, and an endpoint that raises before it answered 500, all as
``text/plain``. A route that takes GET takes HEAD too (uvicorn leaves the body out). `Request` is
a view of a request's scope and ``receive`` channel; `Response` (with `redirect`) answers with a
``Content-Length``, `StreamingResponse` sends chunks until its iterator ends or the client goes
away. `run_in_thread` runs blocking work on a worker thread of the running loop; `close_threads`
lets those threads go without waiting for the work still running.

The answers are byte for byte those Starlette gave when the sink ran on it (header order and
defaults included; ``Allow`` now lists methods in a fixed order), without its dependency on
``anyio``, whose pytest plugin every pytest run would otherwise import.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import http.cookies
import re
import threading
import weakref
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from ipaddress import AddressValueError, IPv6Address
from typing import Any, Final, Literal, ParamSpec, TypeAlias, TypeVar, final
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit

__all__ = [
    "ASGIApp",
    "Endpoint",
    "Headers",
    "Receive",
    "Request",
    "Response",
    "Route",
    "Router",
    "Scope",
    "Send",
    "StreamingResponse",
    "close_threads",
    "redirect",
    "run_in_thread",
]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

_P = ParamSpec("_P")
_T = TypeVar("_T")

# What RFC 3986 allows in an authority; anything else in a Host header is ignored for URLs.
_HOST: Final = re.compile(
    r"(?P<host>[a-z0-9._~%!$&'()*+,;=-]+|\[(?:(?P<ipv6>[a-f0-9]*:[a-f0-9.:]+)|"
    r"(?-i:v)[a-f0-9]+\.[a-z0-9._~!$&'()*+,;=:-]+)\])(?::(?P<port>[0-9]+))?",
    re.IGNORECASE,
)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_LOCATION_SAFE: Final = ":/%#?=@[]!$&'()*+,;"
_PARAM: Final = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(:path)?\}")
_MAX_THREADS: Final = 40


async def _no_receive() -> Message:
    msg = "this request view has no receive channel"
    raise RuntimeError(msg)


@final
class Headers(Mapping[str, str]):
    """A request's headers by case-insensitive name; of repeated headers the first is the value."""

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._raw = [
            (name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in raw
        ]

    def __getitem__(self, name: str) -> str:
        wanted = name.lower()
        for key, value in self._raw:
            if key == wanted:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key for key, _ in self._raw))

    def __len__(self) -> int:
        return len({key for key, _ in self._raw})

    def getlist(self, name: str) -> list[str]:
        """Every value of the header *name*, in the order they came."""
        wanted = name.lower()
        return [value for key, value in self._raw if key == wanted]


@final
class Request:
    """One HTTP request: its scope, the ``receive`` channel of its body and what the route matched.

    ``path`` and ``query`` are those of the request's URL (``?``, ``#`` and backslashes in the
    decoded path escaped again); ``url_with_path`` is the absolute URL with another path, its
    host taken from a valid ``Host`` header, else from the server's address.
    """

    def __init__(
        self,
        scope: Scope,
        receive: Receive = _no_receive,
        path_params: Mapping[str, str] | None = None,
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.path_params: Mapping[str, str] = path_params or {}

    @cached_property
    def headers(self) -> Headers:
        """The request headers."""
        return Headers(self.scope["headers"])

    @cached_property
    def cookies(self) -> dict[str, str]:
        """The cookies of every ``Cookie`` header, parsed as browsers send them (last one wins)."""
        cookies: dict[str, str] = {}
        decoder = http.cookies.SimpleCookie()
        for header in self.headers.getlist("cookie"):
            for chunk in header.split(";"):
                key, _, value = chunk.partition("=") if "=" in chunk else ("", "", chunk)
                key, value = key.strip(), value.strip()
                if key or value:
                    cookies[key] = decoder.value_decode(value)[0]
        return cookies

    @cached_property
    def query_params(self) -> dict[str, str]:
        """The query string's parameters; of repeated ones the last is the value."""
        query = self.scope.get("query_string", b"").decode("latin-1")
        return dict(parse_qsl(query, keep_blank_values=True))

    @cached_property
    def _url(self) -> SplitResult:
        scope = self.scope
        path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
        query = scope.get("query_string", b"").decode()
        url = SplitResult(self._url_scheme, self._netloc(), path, query, "")
        return urlsplit(url.geturl())

    def _netloc(self) -> str:
        host = next((v for k, v in self.scope["headers"] if k == b"host"), None)
        match = None if host is None else _HOST.fullmatch(host.decode("latin-1"))
        if match is not None and _valid_host(match):
            return match.group()
        name, port = self.scope["server"]
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        return name if port == _DEFAULT_PORTS.get(self._url_scheme) else f"{name}:{port}"

    @property
    def _url_scheme(self) -> str:
        scheme: str = self.scope.get("scheme", "http")
        return scheme

    @property
    def path(self) -> str:
        """The URL's path."""
        return self._url.path

    @property
    def query(self) -> str:
        """The URL's query string (after ``?``, without a fragment)."""
        return self._url.query

    def url_with_path(self, path: str) -> str:
        """Return the request's absolute URL with *path* instead of its own (query kept)."""
        return self._url._replace(path=path).geturl()


def _valid_host(match: re.Match[str]) -> bool:
    if match["ipv6"] is not None:
        try:
            IPv6Address(match["ipv6"])
        except AddressValueError:
            return False
    port = (match["port"] or "").lstrip("0")
    return len(port) <= 5 and int(port or "0") <= 65535


class Response:
    """A whole answer: status, headers (``Content-Length`` and ``Content-Type`` added) and body.

    A ``text/`` media type without a charset gets ``; charset=utf-8``; answers below 200, 204 and
    304 get no ``Content-Length``. Headers are sent in the order given, lower-cased, before those.
    """

    def __init__(
        self,
        body: bytes | str = b"",
        status: int = 200,
        *,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.raw_headers = _raw_headers(headers, media_type, len(self.body), status)

    def set_header(self, name: str, value: str) -> None:
        """Set *name* to *value*, in place of an existing value or after the others."""
        key = name.lower().encode("latin-1")
        encoded = value.encode("latin-1")
        for index, (existing, _) in enumerate(self.raw_headers):
            if existing == key:
                self.raw_headers[index] = (key, encoded)
                return
        self.raw_headers.append((key, encoded))

    def set_cookie(
        self,
        key: str,
        value: str,
        *,
        path: str = "/",
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` header (the value quoted as `http.cookies` quotes it)."""
        cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        cookie[key] = value
        cookie[key]["path"] = path
        if httponly:
            cookie[key]["httponly"] = True
        cookie[key]["samesite"] = samesite
        self.raw_headers.append((b"set-cookie", cookie.output(header="").strip().encode("latin-1")))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body})


def _raw_headers(
    headers: Mapping[str, str] | None, media_type: str | None, length: int | None, status: int
) -> list[tuple[bytes, bytes]]:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    names = {name for name, _ in raw}
    if length is not None and b"content-length" not in names and _has_body(status):
        raw.append((b"content-length", str(length).encode("latin-1")))
    if media_type is not None and b"content-type" not in names:
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            media_type += "; charset=utf-8"
        raw.append((b"content-type", media_type.encode("latin-1")))
    return raw


def _has_body(status: int) -> bool:
    return status >= 200 and status not in (204, 304)


def redirect(url: str, status: int = 307) -> Response:
    """Return an empty answer sending the client to *url* (307: same method; 303: GET)."""
    response = Response(b"", status)
    response.set_header("location", quote(url, safe=_LOCATION_SAFE))
    return response


@final
class StreamingResponse:
    """An answer sent in chunks (``Transfer-Encoding: chunked``) as *chunks* yields them.

    It ends when *chunks* does, or as soon as the client disconnects: *chunks* is then closed
    where it waits (its ``finally`` blocks run at once). An error in *chunks* propagates (the
    connection is closed, the answer incomplete).
    """

    def __init__(
        self,
        chunks: AsyncGenerator[str, None],
        *,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self._chunks = chunks
        self.raw_headers = _raw_headers(headers, media_type, None, 200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tasks = (
            asyncio.create_task(self._stream(send)),
            asyncio.create_task(_disconnected(receive)),
        )
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome

    async def _stream(self, send: Send) -> None:
        async with contextlib.aclosing(self._chunks) as chunks:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in chunks:
                await send(
                    {"type": "http.response.body", "body": chunk.encode(), "more_body": True}
                )
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


Endpoint: TypeAlias = Callable[[Request], Awaitable[Response | StreamingResponse]]


@final
class Route:
    """*endpoint* answers requests with one of *methods* whose path matches *path*.

    In *path*, ``{name}`` matches one non-empty segment and ``{name:path}`` anything (the
    endpoint finds them in ``request.path_params``); the rest is literal. GET implies HEAD.
    """

    def __init__(self, path: str, endpoint: Endpoint, *, methods: Sequence[str] = ("GET",)) -> None:
        if not path.startswith("/"):
            msg = f"a route's path must start with '/', got {path!r}."
            raise ValueError(msg)
        self.path = path
        self.endpoint = endpoint
        names = [method.upper() for method in methods]
        if "GET" in names and "HEAD" not in names:
            names.insert(names.index("GET") + 1, "HEAD")
        self.methods: tuple[str, ...] = tuple(dict.fromkeys(names))
        pattern, end = "", 0
        for param in _PARAM.finditer(path):
            value = ".*" if param[2] else "[^/]+"
            pattern += re.escape(path[end : param.start()]) + f"(?P<{param[1]}>{value})"
            end = param.end()
        # ``$``, not a full match: a path ending in one newline (``%0A``) matches, as it did.
        self._regex = re.compile(f"^{pattern}{re.escape(path[end:])}$")

    def match(self, path: str) -> dict[str, str] | None:
        """Return the path parameters when *path* is this route's, else ``None``."""
        found = self._regex.match(path)
        return None if found is None else found.groupdict()

    def __repr__(self) -> str:
        return f"Route({self.path!r}, methods={list(self.methods)!r})"


@final
class Router:
    """The ASGI app over *routes*: the first route whose path and method match answers.

    No route for the path: 404; routes for it, none for the method: 405 naming the first such
    route's methods in ``Allow``. An endpoint that raises before it started its answer gets a
    500 sent for it, and the error goes on to the server (which logs it and closes the
    connection). A WebSocket handshake is refused.
    """

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        if scope["type"] != "http":
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._dispatch(scope, receive, tracked)
        except Exception:
            if not started:
                await _plain("Internal Server Error", 500)(scope, receive, send)
            raise

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        other_methods: Route | None = None
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if scope["method"] in route.methods:
                response = await route.endpoint(Request(scope, receive, params))
                await response(scope, receive, send)
                return
            other_methods = other_methods or route
        if other_methods is None:
            response = _plain("Not Found", 404)
        else:
            allow = {"allow": ", ".join(other_methods.methods)}
            response = _plain("Method Not Allowed", 405, allow)
        await response(scope, receive, send)


def _plain(text: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(text, status, headers=headers, media_type="text/plain")


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ThreadPoolExecutor] = (
    weakref.WeakKeyDictionary()
)
_pools_lock = threading.Lock()


async def run_in_thread(func: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call *func* on one of the running loop's worker threads (at most 40) and await its result.

    The call runs in a copy of the caller's context. Cancelling the awaiting task does not stop
    it; see `close_threads`.
    """
    loop = asyncio.get_running_loop()
    with _pools_lock:
        pool = _pools.get(loop)
        if pool is None:
            pool = _pools[loop] = ThreadPoolExecutor(_MAX_THREADS, "otlp-sink-http-worker")
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    return await loop.run_in_executor(pool, call)


def close_threads() -> None:
    """Let the running loop's worker threads end; a call still running finishes on its own.

    The loop's end does not wait for it (a delayed export must not hold up ``Sink.stop()``).
    """
    with _pools_lock:
        pool = _pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
