"""The sink's web viewer: the page, its assets, a live record stream and a health answer.

``ui_routes(source, buffer)`` gives the routes the sink's HTTP app (`_http_app`) adds when it runs
with ``ui=True``: ``/ui/`` (the page), ``/ui/assets/<name>`` (the bundled scripts and styles, see
``foundation_telemetry._web``), ``/api/stream`` (server-sent events: every record already
received, an ``event: ready``, then each new record as it arrives, woken by the record buffer,
never polled) and ``/api/health`` (the sink's stats, fault mode and the alerts of an attached
TelemetryService). Everything is served from the wheel: the page loads nothing from the network.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Final, Protocol

from .._web import asset
from ..recording._buffer import AsyncWaiter, RecordBuffer
from ..recording._json import kind_of, record_to_json
from ..recording._records import RecordKind
from ._asgi import Request, Response, Route, StreamingResponse, redirect, run_in_thread
from ._http_app import strict_json

__all__ = ["UiSource", "ui_routes"]

_ASSETS: Final = {
    "viewer.js": "text/javascript; charset=utf-8",
    "waterfall.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_BATCH: Final = 5000
_KEEPALIVE_SECONDS: Final = 15.0
# Span starts are not records the viewer shows; the stream wakes for what it sends.
_STREAMED_KINDS: Final = frozenset(RecordKind) - {RecordKind.SPAN_START}


class UiSource(Protocol):
    """What the viewer reads besides the records: the sink's stats, fault mode and alerts."""

    def ui_health(self) -> Mapping[str, Any]:
        """Return the ``/api/health`` answer."""
        ...


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {strict_json(data).decode()}\n\n"


def _batch_message(entries: Sequence[Any]) -> str | None:
    batch: dict[str, list[dict[str, Any]]] = {"spans": [], "events": [], "metrics": []}
    for entry in entries:
        kind, item = entry[0], entry[1]
        if kind is RecordKind.SPAN_START:
            continue
        family = kind_of(item)
        batch["spans" if family == "span" else "events" if family == "event" else "metrics"].append(
            record_to_json(item)
        )
    if not any(batch.values()):
        return None
    return _sse("records", batch)


async def _records(buffer: RecordBuffer) -> AsyncGenerator[str, None]:
    # Ends when the client goes away: the response closes it where it waits.
    waiter = AsyncWaiter(_STREAMED_KINDS)
    buffer.add_waiter(waiter)
    try:
        cursor = 0
        ready_sent = False
        while True:
            waiter.arm()
            first, entries, _dropped = buffer.read(cursor)
            cursor = first + len(entries)
            for start in range(0, len(entries), _BATCH):
                message = _batch_message(entries[start : start + _BATCH])
                if message is not None:
                    yield message
            if not ready_sent:
                ready_sent = True
                yield _sse("ready", {"cursor": cursor})
            if not await waiter.wait(_KEEPALIVE_SECONDS):
                yield ": keep-alive\n\n"
    finally:
        buffer.remove_waiter(waiter)


def ui_routes(source: UiSource, buffer: RecordBuffer) -> list[Route]:
    """Return the viewer's routes for the sink's HTTP app, streaming from *buffer*."""

    async def page(request: Request) -> Response:
        return Response(asset("viewer.html"), media_type="text/html", headers=_SECURITY_HEADERS)

    async def to_page(request: Request) -> Response:
        return redirect(request.url_with_path("/ui/"))

    async def asset_file(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = _ASSETS.get(name)
        if media_type is None:
            return Response(f"no asset {name!r}\n", 404, media_type="text/plain")
        return Response(asset(name), media_type=media_type, headers=_SECURITY_HEADERS)

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(
            _records(buffer),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def health(request: Request) -> Response:
        answer = await run_in_thread(source.ui_health)
        return Response(strict_json(answer), media_type="application/json")

    return [
        Route("/ui", to_page),
        Route("/ui/", page),
        Route("/ui/assets/{name}", asset_file),
        Route("/api/stream", stream),
        Route("/api/health", health),
    ]
