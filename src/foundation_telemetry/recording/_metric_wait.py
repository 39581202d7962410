"""Waiting for a metric to reach a threshold, whatever the temporality.

The Recorder sees every measurement (a ``MetricPoint`` with no temporality); the sink sees
exported data points, delta or cumulative. Both fold into one number through
:func:`~._aggregates.aggregate_points`, the same folding the TelemetryService uses, so
``aggregate="p99"`` or ``"rate"`` means here what it means in an alert rule. ``aggregate`` may
also be any callable taking the matching points and returning a number (or ``None`` for "not
yet").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._aggregates import Aggregate, aggregate_points, check_aggregate
from ._failures import Report, format_record
from ._matchers import Record, RecordMatcher, describe_value, is_metric, value_matches
from ._records import MetricPoint
from ._source import TelemetrySource
from ._watch import Waitable, Watch

__all__ = ["MetricThresholdWait", "metric_matcher"]

_MAX_POINTS_SHOWN: Final = 10


def _numeric(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class MetricThresholdWait(Waitable):
    """Satisfied once the aggregate of the matching points reaches the threshold.

    A numeric *threshold* means ``value >= threshold``; anything else is a matcher applied to
    the aggregate (``lambda v: v <= 0``, ``any_of(...)``, dirty-equals). Points count from the
    source's origin (the start of the test for the fixture).
    """

    stop_early = False

    def __init__(
        self,
        source: TelemetrySource,
        matcher: RecordMatcher,
        threshold: Any,
        aggregate: str | Aggregate,
        timeout: float,
    ) -> None:
        self.watch = Watch.from_origin(source, [matcher])
        self.matcher = matcher
        self.matchers = [matcher]
        self.threshold = threshold
        self.aggregate = check_aggregate(aggregate)
        self.timeout = timeout
        self.points: list[MetricPoint] = []
        self.value: float | None = None

    def _reached(self, value: float | None) -> bool:
        if value is None:
            return False
        if _numeric(self.threshold):
            return value >= self.threshold  # type: ignore[no-any-return]
        return value_matches(self.threshold, value)

    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Keep this test's matching points."""
        if not foreign and not late and self.matcher.matches(record):
            self.points.append(record)  # type: ignore[arg-type]

    def done(self) -> bool:
        """Re-aggregate and compare."""
        self.value = aggregate_points(self.points, self.aggregate)
        return self._reached(self.value)

    def reached(self) -> float:
        """Return the aggregate after a successful wait."""
        if self.value is None:  # a successful wait always has a value; this is a bug guard
            msg = "wait_for_metric_threshold has no value although the wait succeeded."
            raise RuntimeError(msg)
        return self.value

    def _condition(self) -> str:
        how = self.aggregate if isinstance(self.aggregate, str) else describe_value(self.aggregate)
        if _numeric(self.threshold):
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
