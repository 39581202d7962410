"""Protocol-buffers wire format for OTLP: varints, fixed-width numbers and ``AnyValue`` attributes.

Every message is built as ``bytes`` and framed by its parent (tag, length, body), so no message
object is ever created. The attribute encoders reproduce ``opentelemetry-exporter-otlp-proto-
common``'s ``_encode_value`` field for field; any value they were not written for raises
:class:`Unsupported`, and the caller hands the whole batch to the stock encoder instead. The
``(key, value)`` cache keeps the framed ``KeyValue`` of short ``str``/``int``/``bool`` values (one
dictionary per value type, because ``True == 1``); it is a memo cache, cleared whenever it fills.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Final

from .._otel._internals import plain_attributes

__all__ = [
    "Unsupported",
    "double",
    "encode_attributes",
    "encode_plain_attributes",
    "encode_value",
    "field_bytes",
    "field_str",
    "fixed64",
    "frame",
    "name_field",
    "sint_varint",
    "varint",
]

_INT64_MIN: Final = -(1 << 63)
_INT64_LIMIT: Final = 1 << 63
_UINT64_LIMIT: Final = 1 << 64
_CACHE_LIMIT: Final = 8192
_CACHED_VALUE_LENGTH: Final = 128
_SMALL_VARINTS: Final = tuple(bytes((n,)) for n in range(128))
_pack_double = struct.Struct("<d").pack


class Unsupported(Exception):
    """An input the direct encoder does not reproduce; the stock encoder takes the batch."""


def varint(value: int) -> bytes:
    """Return the base-128 varint of a non-negative *value* below 2**64 (negatives: two's complement)."""
    if 0 <= value < 0x80:
        return _SMALL_VARINTS[value]
    if value < 0:
        if value < _INT64_MIN:
            raise Unsupported(value)
        value += _UINT64_LIMIT
    elif value >= _UINT64_LIMIT:
        raise Unsupported(value)
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def sint_varint(value: int) -> bytes:
    """Return the zig-zag varint of a ``sint32`` *value*."""
    if not -(1 << 31) <= value < (1 << 31):
        raise Unsupported(value)
    return varint((value << 1) ^ (value >> 31))


def fixed64(value: int) -> bytes:
    """Return eight little-endian bytes of an unsigned 64-bit *value* (raises below 0 or at 2**64)."""
    return value.to_bytes(8, "little")


def double(value: float) -> bytes:
    """Return eight little-endian bytes of an IEEE-754 *value*."""
    return _pack_double(value)


def frame(tag: bytes, body: bytes) -> bytes:
    """Return a length-delimited field: *tag*, the body's length and *body*."""
    size = len(body)
    return tag + (_SMALL_VARINTS[size] if size < 0x80 else varint(size)) + body


def field_str(tag: bytes, value: str | None) -> bytes:
    """Return a ``string`` field with implicit presence: nothing for ``None`` or ``""``."""
    if not value:
        return b""
    if type(value) is not str:
        raise Unsupported(value)
    return frame(tag, value.encode())


def field_bytes(tag: bytes, value: bytes | None) -> bytes:
    """Return a ``bytes`` field with implicit presence: nothing for ``None`` or ``b""``."""
    return frame(tag, value) if value else b""


def _int_value(value: int) -> bytes:
    if not _INT64_MIN <= value < _INT64_LIMIT:
        raise Unsupported(value)
    return b"\x18" + varint(value)


def encode_value(value: Any) -> bytes:
    """Return the body of the ``AnyValue`` the stock ``_encode_value`` builds for *value*."""
    kind = type(value)
    if kind is str:
        return frame(b"\x0a", value.encode())
    if kind is bool:
        return b"\x10\x01" if value else b"\x10\x00"
    if kind is int:
        return _int_value(value)
    if kind is float:
        return b"\x21" + _pack_double(value)
    if value is None:
        return b""
    if kind is bytes:
        return frame(b"\x3a", value)
    if kind is tuple or kind is list:
        return frame(b"\x2a", b"".join([frame(b"\x0a", encode_value(item)) for item in value]))
    if kind is dict:
        return frame(
            b"\x32",
            b"".join(
                [
                    frame(
                        b"\x0a",
                        _key_value(item_key if type(item_key) is str else str(item_key), item),
                    )
                    for item_key, item in value.items()
                ]
            ),
        )
    raise Unsupported(kind)


def _key_value(key: str, value: Any) -> bytes:
    if type(key) is not str:
        raise Unsupported(key)
    head = frame(b"\x0a", key.encode()) if key else b""
    return head + frame(b"\x12", encode_value(value))


_by_type: Final[dict[type, dict[tuple[str, Any], bytes]]] = {str: {}, int: {}, bool: {}}
_names: Final[dict[tuple[bytes, str], bytes]] = {}


def _framed_key_value(key: str, value: Any) -> bytes:
    """Return the ``KeyValue`` length and body (the caller prepends the tag), memoised if small."""
    framed = frame(b"", _key_value(key, value))
    cache = _by_type.get(type(value))
    if cache is not None and (type(value) is not str or len(value) <= _CACHED_VALUE_LENGTH):
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key, value] = framed
    return framed


def encode_attributes(tag: bytes, attributes: Mapping[str, Any] | None) -> bytes:
    """Encode every attribute as a repeated ``KeyValue`` field *tag*, in the mapping's order."""
    if not attributes:
        return b""
    return encode_plain_attributes(tag, plain_attributes(attributes))


def encode_plain_attributes(tag: bytes, attributes: Mapping[str, Any]) -> bytes:
    """Encode like :func:`encode_attributes`, from a mapping known not to be ``BoundedAttributes``."""
    caches = _by_type
    out = []
    for key, value in attributes.items():
        cache = caches.get(type(value))
        framed = None if cache is None else cache.get((key, value))
        out.append(tag + (_framed_key_value(key, value) if framed is None else framed))
    return b"".join(out)


def name_field(tag: bytes, name: str | None) -> bytes:
    """Return a ``string`` field like :func:`field_str`, memoised: span and event names repeat."""
    framed = _names.get((tag, name))  # type: ignore[arg-type]
    if framed is None:
        framed = field_str(tag, name)
        if len(_names) >= _CACHE_LIMIT:
            _names.clear()
        if type(name) is str and len(name) <= _CACHED_VALUE_LENGTH:
            _names[tag, name] = framed
    return framed
