"""Turn arbitrary Python values into attribute values OpenTelemetry can carry, without raising.

``emit()``, ``span()``, the metric helpers and the routing processors receive attributes from
application code on the hot path. Values OpenTelemetry can carry (``str``, ``bool``, ``int`` in
64-bit range, finite ``float`` and homogeneous sequences of those) pass unchanged through a fast
path; everything else is coerced (enums, paths, dates, huge numbers, bytes, mixed sequences,
arbitrary objects) or dropped (``None``, NaN and infinities, values whose ``str()`` fails), and
every lossy step is counted with ``count_skip(component, SkipReason.INVALID_INPUT)`` so the rest
of the item still goes out.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import fractions
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ..defensive._ledger import SkipReason, count_skip

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_SEQUENCE_LENGTH",
    "MAX_STRING_LENGTH",
    "coerce_attribute",
    "coerce_attributes",
    "coerce_name",
    "coerce_value",
    "error_message",
]

MAX_STRING_LENGTH: Final = 16 * 1024
"""Longer string values are truncated to this many characters (and counted)."""
MAX_SEQUENCE_LENGTH: Final = 1024
"""Longer sequence values are truncated to this many items (and counted)."""

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
_PRIMITIVES: Final = (str, bool, int, float)


class _Dropped:
    """Sentinel: the value cannot be carried and is left out."""


_DROP: Final = _Dropped()


def coerce_attributes(
    component: str,
    item: str,
    source: Mapping[Any, Any],
    into: dict[str, Any],
) -> None:
    """Copy *source* into *into* with every value made carriable; count what had to change.

    *component* and *item* (e.g. the event name) label the skip counts. Never raises.
    """
    for key, value in source.items():
        kind = type(value)
        # Fast path: the types OpenTelemetry carries as they are.
        if kind is str:
            if len(value) <= MAX_STRING_LENGTH and type(key) is str:
                into[key] = value
                continue
        elif kind is int:
            if INT64_MIN <= value <= INT64_MAX and type(key) is str:
                into[key] = value
                continue
        elif kind is float:
            if value - value == 0.0 and type(key) is str:  # false for NaN and +-inf
                into[key] = value
                continue
        elif kind is bool and type(key) is str:
            into[key] = value
            continue
        coerce_attribute(component, item, key, value, into)


def coerce_attribute(component: str, item: str, key: Any, value: Any, into: dict[str, Any]) -> None:
    """Coerce one attribute the fast path did not accept into *into*, counting any loss."""
    if type(key) is not str:
        try:
            key = str(key)
        except Exception as error:  # noqa: BLE001 - a key whose str() fails is dropped
            count_skip(component, SkipReason.INVALID_INPUT, item=item, error=error)
            return
        count_skip(component, SkipReason.INVALID_INPUT, item=f"{item}: non-string key {key!r}")
    coerced, lossy = coerce_value(value)
    if lossy:
        count_skip(component, SkipReason.INVALID_INPUT, item=f"{item}: attribute {key!r}")
    if coerced is not _DROP:
        into[key] = coerced


def coerce_value(value: Any) -> tuple[Any, bool]:
    """Return ``(carriable value or the drop sentinel, whether information was lost)``."""
    try:
        return _coerce(value, nested=False)
    except Exception:  # noqa: BLE001 - str()/iteration of user objects can raise anything
        return _DROP, True


def _coerce(value: Any, *, nested: bool) -> tuple[Any, bool]:
    if value is None:
        return _DROP, True
    if isinstance(value, bool):
        return bool(value), False
    if isinstance(value, enum.Enum):
        inner = value.value
        if isinstance(inner, _PRIMITIVES):
            return _coerce(inner, nested=nested)
        return value.name, False
    if isinstance(value, int):
        integer = int(value)
        if INT64_MIN <= integer <= INT64_MAX:
            return integer, False
        return _truncate(str(integer))[0], True
    if isinstance(value, float):
        real = float(value)
        return (real, False) if math.isfinite(real) else (_DROP, True)
    if isinstance(value, str):
        return _truncate(str(value))
    if isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value).decode("utf-8", "backslashreplace")
        return _truncate(text)[0], True
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat(), False
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        return _truncate(path if isinstance(path, str) else os.fsdecode(path))
    if not nested and isinstance(value, Sequence | set | frozenset) and not isinstance(value, str):
        return _coerce_sequence(value)
    if isinstance(value, decimal.Decimal | fractions.Fraction):
        return _coerce(float(value), nested=nested)
    return _truncate(str(value))[0], True


def _coerce_sequence(value: Sequence[Any] | set[Any] | frozenset[Any]) -> tuple[Any, bool]:
    items = list(value)
    lossy = False
    if len(items) > MAX_SEQUENCE_LENGTH:
        items = items[:MAX_SEQUENCE_LENGTH]
        lossy = True
    coerced: list[Any] = []
    for element in items:
        converted, element_lossy = _coerce(element, nested=True)
        lossy = lossy or element_lossy
        if converted is not _DROP:
            coerced.append(converted)
    kinds = {type(element) for element in coerced}
    if len(kinds) > 1:
        # OpenTelemetry sequences are homogeneous: fall back to strings for mixed ones.
        return tuple(str(element) for element in coerced), True
    return tuple(coerced), lossy


def _truncate(text: str) -> tuple[str, bool]:
    if len(text) <= MAX_STRING_LENGTH:
        return text, False
    return text[:MAX_STRING_LENGTH], True


def error_message(error: BaseException) -> str:
    """Return ``str(error)``, or ``<unprintable Type>`` when the exception's ``__str__`` fails."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - an exception whose __str__ fails is still reported
        return f"<unprintable {type(error).__qualname__}>"


def coerce_name(component: str, name: Any) -> str:
    """Return *name* as an event/span name; tuples of parts are joined with dots (like ``:telemetry``).

    Anything that is not a non-empty string or a sequence of strings is converted with ``str()``
    and counted; a name that cannot be converted becomes ``"foundation.invalid_name"``.
    """
    if type(name) is str and name:
        return name
    if isinstance(name, str) and name:
        return str(name)
    if isinstance(name, tuple | list) and name and all(isinstance(part, str) for part in name):
        return ".".join(name)
    try:
        text = str(name)
    except Exception as error:  # noqa: BLE001 - user objects' __str__ may raise
        count_skip(component, SkipReason.INVALID_INPUT, item="<unprintable name>", error=error)
        return "foundation.invalid_name"
    count_skip(component, SkipReason.INVALID_INPUT, item=f"event name {text[:100]!r}")
    return _truncate(text)[0] if text else "foundation.invalid_name"
