"""Waiting for a metric to reach a threshold, whatever the temporality.

The Recorder sees every measurement (a ``MetricPoint`` with no temporality); the sink sees
exported data points, delta or cumulative. :func:`aggregate_points` folds either into one number:
a cumulative stream (one name plus one attribute set) counts with its latest point, delta points
and raw measurements count one by one. ``aggregate`` is one of the names in :data:`AGGREGATES` or
any callable taking the matching points and returning a number (or ``None`` for "not yet"),
which is how richer statistics (percentiles, rates) plug in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeAlias

from ._failures import Report, format_record
from ._matchers import Record, RecordMatcher, describe_value, is_metric, kinds_for, value_matches
from ._records import MetricPoint, RecordKind
from ._watch import Source, Waitable, Watch

__all__ = ["AGGREGATES", "Aggregate", "MetricThresholdWait", "aggregate_points"]

Aggregate: TypeAlias = Callable[[Sequence[MetricPoint]], "float | None"]

AGGREGATES: Final = ("sum", "count", "last", "min", "max", "mean")

_MAX_POINTS_SHOWN: Final = 10


def _streams(points: Sequence[MetricPoint]) -> list[MetricPoint]:
    """Keep every delta/raw point, and only the latest point of each cumulative stream."""
    latest: dict[tuple[str, tuple[tuple[str, Any], ...]], MetricPoint] = {}
    out: list[MetricPoint] = []
    for point in points:
        if (point.temporality or "").lower() == "cumulative":
            key = (point.name, tuple(sorted((k, repr(v)) for k, v in point.attributes.items())))
            previous = latest.get(key)
            if previous is None or point.timestamp_ns >= previous.timestamp_ns:
                latest[key] = point
        else:
            out.append(point)
    return out + list(latest.values())


def aggregate_points(points: Sequence[MetricPoint], aggregate: str | Aggregate) -> float | None:
    """Fold *points* into one number; ``None`` while there is nothing to fold."""
    if callable(aggregate):
        return aggregate(points)
    if not points:
        return None
    if aggregate == "last":
        return max(points, key=lambda p: p.timestamp_ns).value
    streams = _streams(points)
    if aggregate == "sum":
        return sum(p.value for p in streams)
    if aggregate == "count":
        return sum(p.count for p in streams)
    if aggregate == "min":
        return min(p.value for p in points)
    if aggregate == "max":
        return max(p.value for p in points)
    total = sum(p.count for p in streams)
    return sum(p.value for p in streams) / total if total else None


def check_aggregate(aggregate: object) -> str | Aggregate:
    """Return *aggregate*, or raise for an unknown name."""
    if callable(aggregate):
        return aggregate
    if aggregate not in AGGREGATES:
        msg = (
            f"`aggregate` must be one of {', '.join(AGGREGATES)} or a callable taking the "
            f"points, got {aggregate!r}."
        )
        raise ValueError(msg)
    return aggregate


class MetricThresholdWait(Waitable):
    """Satisfied once the aggregate of the matching points reaches the threshold.

    A numeric *threshold* means ``value >= threshold``; anything else is a matcher applied to
    the aggregate (``lambda v: v <= 0``, ``any_of(...)``, dirty-equals).
    """

    def __init__(
        self,
        source: Source,
        matcher: RecordMatcher,
        threshold: Any,
        aggregate: str | Aggregate,
        timeout: float,
    ) -> None:
        self.watch = Watch(source, since=source._telemetry_origin())
        self.matcher = matcher
        self.threshold = threshold
        self.aggregate = check_aggregate(aggregate)
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.points: list[MetricPoint] = []
        self.value: float | None = None

    def _reached(self, value: float | None) -> bool:
        if value is None:
            return False
        if isinstance(self.threshold, int | float) and not isinstance(self.threshold, bool):
            return value >= self.threshold
        return value_matches(self.threshold, value)

    def kinds(self) -> frozenset[RecordKind] | None:
        """Return the one entry kind that matters: measurements."""
        return kinds_for([self.matcher])

    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Keep this test's matching points."""
        if not foreign and not late and self.matcher.matches(record):
            self.points.append(record)  # type: ignore[arg-type]

    def done(self) -> bool:
        """Re-aggregate and compare."""
        self.value = aggregate_points(self.points, self.aggregate)
        return self._reached(self.value)

    def _condition(self) -> str:
        how = self.aggregate if isinstance(self.aggregate, str) else describe_value(self.aggregate)
        if isinstance(self.threshold, int | float) and not isinstance(self.threshold, bool):
            return f"{how} >= {self.threshold!r}"
        return f"{how} matching {describe_value(self.threshold)}"

    def failure(self) -> Report | None:
        """Say where the aggregate got to."""
        if self.done():
            return None
        current = "no matching points" if self.value is None else f"it is {self.value!r}"
        headline = (
            f"{self.matcher.describe()} did not reach {self._condition()} within "
            f"{self.timeout:g}s: {current} over {len(self.points)} point(s)."
        )
        shown = self.points[-_MAX_POINTS_SHOWN:]
        details = [f"- {format_record(p, self.watch.begin_ns)}" for p in shown]
        return self.watch.report(headline, details=details, matchers=[self.matcher])


def metric_matcher(name: Any, attributes: Mapping[str, Any]) -> RecordMatcher:
    """Build the matcher for metric points named *name* with an attribute subset."""
    return RecordMatcher("metric", is_metric, name, attributes)
