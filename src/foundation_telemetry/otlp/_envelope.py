"""The resource and scope envelope every OTLP signal shares, grouped as the stock encoders group.

The stock encoders group items in dictionaries keyed by the SDK ``Resource`` and
``InstrumentationScope`` (equal objects share a group, the first one seen is the one encoded);
:func:`group` does the same, but looks the dictionaries up only when an item's resource or scope
object differs from the previous item's, because hashing a ``Resource`` serialises it to JSON. The
encoded ``Resource`` and ``InstrumentationScope`` bodies are memoised by object identity (the memo
holds the object, so its id cannot be reused while cached).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from ._wire import encode_attributes, field_str, frame

__all__ = ["encode_envelope", "group", "resource_body", "scope_body"]

_MEMO_LIMIT: Final = 256
_resources: Final[dict[int, tuple[Any, bytes]]] = {}
_scopes: Final[dict[int, tuple[Any, bytes]]] = {}


def _memoised(
    memo: dict[int, tuple[Any, bytes]], item: Any, encode: Callable[[Any], bytes]
) -> bytes:
    entry = memo.get(id(item))
    if entry is not None and entry[0] is item:
        return entry[1]
    body = encode(item)
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[id(item)] = (item, body)
    return body


def _encode_resource(resource: Any) -> bytes:
    return frame(b"\x0a", encode_attributes(b"\x0a", resource.attributes))


def _encode_scope(scope: Any) -> bytes:
    if scope is None:
        return b"\x0a\x00"
    body = field_str(b"\x0a", scope.name) + field_str(b"\x12", scope.version)
    return frame(b"\x0a", body + encode_attributes(b"\x1a", scope.attributes))


def resource_body(resource: Any) -> bytes:
    """Return the framed ``resource`` field (number 1) of a ``Resource{Spans,Logs,Metrics}``."""
    return _memoised(_resources, resource, _encode_resource)


def scope_body(scope: Any) -> bytes:
    """Return the framed ``scope`` field (number 1) of a ``Scope{Spans,Logs,Metrics}``."""
    return _memoised(_scopes, scope, _encode_scope)


Groups = dict[Any, dict[Any, list[bytes]]]


def group(
    items: Iterable[Any], encode: Callable[[Any], bytes], scope_of: Callable[[Any], Any]
) -> Groups:
    """Encode every item (as its framed field 2) under its resource, then its scope, in order."""
    groups: Groups = {}
    last_resource: Any = object()
    last_scope: Any = object()
    bucket: list[bytes] = []
    for item in items:
        resource = item.resource
        scope = scope_of(item)
        if resource is not last_resource or scope is not last_scope:
            scopes = groups.setdefault(resource, {})
            bucket = scopes.setdefault(scope, [])
            last_resource, last_scope = resource, scope
        bucket.append(encode(item))
    return groups


def encode_envelope(groups: Groups) -> bytes:
    """Return the ``Export*ServiceRequest`` body: resources, their scopes, their framed items."""
    resources = []
    for resource, scopes in groups.items():
        parts = [resource_body(resource)]
        for scope, items in scopes.items():
            scope_url = field_str(b"\x1a", scope.schema_url) if scope is not None else b""
            body = scope_body(scope) + b"".join(items) + scope_url
            parts.append(frame(b"\x12", body))
        parts.append(field_str(b"\x1a", resource.schema_url))
        resources.append(frame(b"\x0a", b"".join(parts)))
    return b"".join(resources)
