"""Named metric instruments with units: ``counter()``, ``gauge()``, ``histogram()``, ``summary()``.

Thin helpers over the global (rebinding) ``MeterProvider``: they validate the name and unit once,
when the instrument is made (a person's mistake raises a clear ``ValueError``), cache instruments
by name so calling the helper in a hot loop is cheap, and take attributes as a mapping or as
keywords. Recording never raises: values OpenTelemetry cannot take (NaN, infinities, negative
counter increments, non-numbers) and attributes it cannot carry are dropped and counted as
``SkipReason.INVALID_INPUT``. A ``summary`` is a histogram whose quantiles the TelemetryService
computes (OpenTelemetry has no summary instrument).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar, cast, final

from opentelemetry import metrics as otel_metrics

from .defensive._ledger import SkipReason, count_skip
from .events._attributes import coerce_attributes

__all__ = ["Counter", "Gauge", "Histogram", "Summary", "counter", "gauge", "histogram", "summary"]

_SCOPE: Final = "foundation_telemetry"
_COMPONENT: Final = "metrics"
_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,254}")
_meter = otel_metrics.get_meter(_SCOPE)
_lock = threading.Lock()
_instruments: dict[tuple[str, str], _Instrument] = {}


class _Instrument:
    """Shared parts: the OTel instrument, attribute coercion and value checks."""

    __slots__ = ("_instrument", "description", "name", "unit")
    kind: str = ""

    def __init__(self, name: str, unit: str, description: str, instrument: Any) -> None:
        self.name = name
        self.unit = unit
        self.description = description
        self._instrument = instrument

    def __repr__(self) -> str:
        return f"{self.kind}({self.name!r}, unit={self.unit!r})"

    def _attributes(
        self, attributes: Mapping[str, Any] | None, attrs: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        if not attributes and not attrs:
            return None
        result: dict[str, Any] = {}
        if attributes:
            coerce_attributes(_COMPONENT, self.name, attributes, result)
        if attrs:
            coerce_attributes(_COMPONENT, self.name, attrs, result)
        return result

    def _valid(self, value: Any, *, non_negative: bool) -> bool:
        kind = type(value)
        number = (
            kind is int or kind is float or (isinstance(value, int | float) and kind is not bool)
        )
        # value - value is 0 for every int and finite float, NaN for NaN and infinities.
        if number and value - value == 0 and not (non_negative and value < 0):
            return True
        count_skip(_COMPONENT, SkipReason.INVALID_INPUT, item=f"{self.name}: measurement {value!r}")
        return False


@final
class Counter(_Instrument):
    """A monotonic sum (requests served, bytes sent)."""

    __slots__ = ()
    kind = "counter"

    def add(
        self, amount: float = 1, attributes: Mapping[str, Any] | None = None, **attrs: Any
    ) -> None:
        """Add a non-negative *amount*; never raises."""
        if self._valid(amount, non_negative=True):
            self._instrument.add(amount, self._attributes(attributes, attrs))


@final
class Gauge(_Instrument):
    """The current value of something (queue depth, temperature)."""

    __slots__ = ()
    kind = "gauge"

    def set(self, value: float, attributes: Mapping[str, Any] | None = None, **attrs: Any) -> None:
        """Record the current *value*; never raises."""
        if self._valid(value, non_negative=False):
            self._instrument.set(value, self._attributes(attributes, attrs))


class Histogram(_Instrument):
    """A distribution of measurements (durations, sizes)."""

    __slots__ = ()
    kind = "histogram"

    def record(
        self, value: float, attributes: Mapping[str, Any] | None = None, **attrs: Any
    ) -> None:
        """Record one non-negative measurement; never raises."""
        if self._valid(value, non_negative=True):
            self._instrument.record(value, self._attributes(attributes, attrs))


@final
class Summary(Histogram):
    """A histogram whose quantiles (p50/p90/p99) the TelemetryService computes."""

    __slots__ = ()
    kind = "summary"


# Spelled-out units (lower case, without a plural "s") and their UCUM codes: the usual mistake.
_SPELLED_UNITS: Final = {
    "nanosecond": "ns",
    "microsecond": "us",
    "millisecond": "ms",
    "milli": "ms",
    "second": "s",
    "sec": "s",
    "minute": "min",
    "hour": "h",
    "day": "d",
    "byte": "By",
    "kilobyte": "kBy",
    "megabyte": "MBy",
    "gigabyte": "GBy",
    "bit": "bit",
    "percent": "%",
    "count": "1",
    "request": "{request}",
    "item": "{item}",
}
# UCUM codes that the spelled-out check would take for words ("s", "ms", "min", "h", ...).
_UCUM_WORDS: Final = frozenset({"s", "ms", "us", "ns", "min", "h", "d", "bit", "By", "1", "%"})


def _check(name: object, unit: object, description: object) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        msg = (
            f"Invalid instrument name {name!r}: OpenTelemetry names start with a letter and use "
            "only letters, digits, '_', '.', '-' and '/' (at most 255), e.g. 'http.server.duration'."
        )
        raise ValueError(msg)
    if not isinstance(unit, str) or len(unit) > 63 or not unit.isascii():
        msg = f"Invalid unit {unit!r}: use an ASCII UCUM unit of at most 63 characters, e.g. 's', 'By', '1'."
        raise ValueError(msg)
    ucum = _SPELLED_UNITS.get(unit.lower().rstrip("s")) if unit not in _UCUM_WORDS else None
    if ucum is not None or any(char.isspace() for char in unit):
        suggestion = f"use {ucum!r}" if ucum is not None else "write it without spaces"
        msg = (
            f"Invalid unit {unit!r}: units are UCUM codes, not words; {suggestion} "
            "(e.g. 's', 'ms', 'By', '1', '{request}')."
        )
        raise ValueError(msg)
    if not isinstance(description, str):
        msg = f"`description` must be a str, got {description!r}."
        raise TypeError(msg)


_I = TypeVar("_I", bound=_Instrument)


def _get(cls: type[_I], name: str, unit: str, description: str, create: Callable[[], Any]) -> _I:
    """Return the cached *cls* instrument *name*, or validate and wrap ``create()``'s."""
    key = (cls.kind, name)
    found = _instruments.get(key)
    if found is not None:
        if found.unit != unit:
            msg = f"{cls.kind} {name!r} already exists with unit {found.unit!r}; got unit {unit!r}."
            raise ValueError(msg)
        return cast("_I", found)
    _check(name, unit, description)
    with _lock:
        found = _instruments.get(key)
        if found is None:
            found = cls(name, unit, description, create())
            _instruments[key] = found
    return cast("_I", found)


def counter(name: str, *, unit: str = "1", description: str = "") -> Counter:
    """Return the counter *name* (created on first use, then cached).

    Raises:
        ValueError: *name* or *unit* break OpenTelemetry's naming rules, or *name* exists with
            another unit.

    .. versionadded:: 0.1.0
    """
    return _get(
        Counter, name, unit, description, lambda: _meter.create_counter(name, unit, description)
    )


def gauge(name: str, *, unit: str = "1", description: str = "") -> Gauge:
    """Return the (synchronous) gauge *name*; see :func:`counter` for errors.

    .. versionadded:: 0.1.0
    """
    return _get(
        Gauge, name, unit, description, lambda: _meter.create_gauge(name, unit, description)
    )


def histogram(
    name: str,
    *,
    unit: str = "1",
    description: str = "",
    boundaries: Sequence[float] | None = None,
) -> Histogram:
    """Return the histogram *name*; *boundaries* advises explicit bucket boundaries.

    .. versionadded:: 0.1.0
    """
    return _get(
        Histogram,
        name,
        unit,
        description,
        lambda: _make_histogram(name, unit, description, boundaries),
    )


def summary(name: str, *, unit: str = "1", description: str = "") -> Summary:
    """Return the summary *name*: a histogram the TelemetryService computes quantiles from.

    .. versionadded:: 0.1.0
    """
    return _get(
        Summary, name, unit, description, lambda: _make_histogram(name, unit, description, None)
    )


def _make_histogram(
    name: str, unit: str, description: str, boundaries: Sequence[float] | None
) -> Any:
    if boundaries is None:
        return _meter.create_histogram(name, unit, description)
    bounds = [float(bound) for bound in boundaries]
    if any(not math.isfinite(b) for b in bounds) or bounds != sorted(set(bounds)):
        msg = f"`boundaries` must be finite, strictly increasing numbers, got {list(boundaries)!r}."
        raise ValueError(msg)
    return _meter.create_histogram(
        name, unit, description, explicit_bucket_boundaries_advisory=bounds
    )
