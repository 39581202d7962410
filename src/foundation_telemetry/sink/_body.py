"""Strict reading of an OTLP/HTTP request body off an ASGI ``receive`` channel.

Bodies arrive with a ``Content-Length`` (digits only, checked again here although the HTTP layer
checks it too) or chunked. The size limit is enforced while the body streams in: a declared
length over the limit is refused before a byte is read, and a chunked body is refused as soon as
it passes the limit; the rest is never read (the connection is closed instead). ``gzip`` and
``deflate`` bodies are decompressed with the same limit on the output (a decompression bomb stops
at the limit) and must be complete: a missing trailer or bytes after the compressed stream are a
bad request; several gzip members are read in turn, as RFC 1952 allows and a Collector does.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

__all__ = ["BodyError", "decompress", "read_body"]

Receive = Callable[[], Awaitable[Mapping[str, Any]]]

_GZIP_MAGIC = b"\x1f\x8b"
_ENCODINGS = ("identity", "gzip", "deflate")


class BodyError(Exception):
    """A body that cannot be accepted: the HTTP *status* to answer and a readable *message*."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close


def content_length(headers: Mapping[str, str], limit: int) -> int | None:
    """Return the declared body length (``None``: chunked); 400 if malformed, 413 over *limit*."""
    value = headers.get("content-length")
    if value is None:
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        msg = f"content-length must be a non-negative decimal integer, got {value!r}"
        raise BodyError(400, msg, close=True)
    length = int(text)
    if length > limit:
        msg = f"request body of {length} bytes is over the sink's limit of {limit} bytes"
        raise BodyError(413, msg, close=True)
    return length


async def read_body(
    receive: Receive, headers: Mapping[str, str], limit: int, timeout: float
) -> bytes:
    """Read the whole body, at most *limit* bytes, each part within *timeout* seconds."""
    declared = content_length(headers, limit)
    parts: list[bytes] = []
    size = 0
    more = True
    while more:
        try:
            async with asyncio.timeout(timeout):
                message = await receive()
        except TimeoutError:
            msg = f"no body bytes for {timeout:g} s; the request timed out"
            raise BodyError(408, msg, close=True) from None
        if message["type"] == "http.disconnect":
            msg = f"the client went away after {size} body bytes"
            raise BodyError(400, msg, close=True)
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            msg = f"request body is over the sink's limit of {limit} bytes (stopped reading)"
            raise BodyError(413, msg, close=True)
        parts.append(chunk)
        more = bool(message.get("more_body", False))
    if declared is not None and size != declared:
        msg = f"body of {size} bytes does not match content-length {declared}"
        raise BodyError(400, msg, close=True)
    return b"".join(parts)


def check_encoding(value: str | None) -> str:
    """Return the normalised ``content-encoding``; 415 for one the sink does not take."""
    encoding = (value or "identity").strip().lower()
    if encoding not in _ENCODINGS:
        msg = f"content encoding must be gzip, deflate or identity, got {encoding!r}"
        raise BodyError(415, msg)
    return encoding


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Return the decoded body; 400 for a broken stream, 413 past *limit* decompressed bytes."""
    if encoding == "identity":
        return body
    wbits = 31 if encoding == "gzip" else 15
    out: list[bytes] = []
    size = 0
    rest = body
    while True:
        decompressor = zlib.decompressobj(wbits=wbits)
        try:
            plain = decompressor.decompress(rest, limit + 1 - size)
        except zlib.error as error:
            msg = f"body is not valid {encoding} data: {error}"
            raise BodyError(400, msg) from None
        size += len(plain)
        if size > limit or decompressor.unconsumed_tail:
            msg = f"decompressed request body is over the sink's limit of {limit} bytes"
            raise BodyError(413, msg)
        out.append(plain)
        if not decompressor.eof:
            msg = f"{encoding} body is truncated (no end of stream / trailer)"
            raise BodyError(400, msg)
        rest = decompressor.unused_data
        if not rest:
            return b"".join(out)
        if encoding != "gzip" or not rest.startswith(_GZIP_MAGIC):
            msg = f"{len(rest)} bytes of garbage after the {encoding} stream"
            raise BodyError(400, msg)
