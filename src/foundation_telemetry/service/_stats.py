"""The service's side of aggregation: downsampling and merging series samples, and windows.

The folding itself (samples or ``MetricPoint`` records into :class:`Stats`, the aggregate names,
percentiles) is :mod:`foundation_telemetry.recording._aggregates`, shared with
``wait_for_metric_threshold`` so both mean the same by ``rate`` or ``p99``. Here the store folds a
later sample into an earlier one (:func:`merge_into`) or the series of one slot together
(:func:`merge_across`), and :func:`stats_from_points` / :func:`stat` add a time window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence

from ..recording._aggregates import (
    AGGREGATES,
    DEFAULT_EWMA_ALPHA,
    Kind,
    Sample,
    Stats,
    add_buckets,
    aggregate_points,
    compute_stats,
    exact_quantile,
    fold_points,
    nanmax,
    nanmin,
    normalize_kind,
    parse_aggregate,
)
from ..recording._records import MetricPoint
from ._durations import Duration, to_seconds

__all__ = [
    "AGGREGATES",
    "DEFAULT_EWMA_ALPHA",
    "Kind",
    "Sample",
    "Stats",
    "compute_stats",
    "exact_quantile",
    "merge_across",
    "merge_into",
    "normalize_kind",
    "parse_aggregate",
    "stat",
    "stats_from_points",
]


def _add_counts(target: Sample, other: Sample) -> None:
    """Widen *target* to cover *other*'s interval and add its measurement count and total."""
    target.start = min(target.start, other.start)
    target.end = max(target.end, other.end)
    target.n += other.n
    target.total += other.total


def _mean(sample: Sample) -> float:
    return sample.total / sample.n if sample.n else math.nan


def merge_into(target: Sample, later: Sample, kind: str) -> None:
    """Fold *later* into *target*: the same series over a longer interval (downsampling)."""
    _add_counts(target, later)
    target.vmin = nanmin(target.vmin, later.vmin)
    target.vmax = nanmax(target.vmax, later.vmax)
    if kind == "histogram":
        target.value = _mean(target)
        add_buckets(target, later)
    else:
        target.value = later.value


def merge_across(samples: Sequence[Sample], kind: str) -> Sample:
    """Combine samples of several series that cover the same slot into one (values add)."""
    merged = samples[0].copy()
    for other in samples[1:]:
        _add_counts(merged, other)
        if kind == "histogram":
            merged.vmin = nanmin(merged.vmin, other.vmin)
            merged.vmax = nanmax(merged.vmax, other.vmax)
            add_buckets(merged, other)
        else:
            merged.value += other.value
            merged.vmin += other.vmin
            merged.vmax += other.vmax
    if kind == "histogram":
        merged.value = _mean(merged)
    return merged


def _within(
    points: Iterable[MetricPoint], window: Duration | None, now: float | None
) -> Iterable[MetricPoint]:
    if window is None:
        return points
    horizon = (time.time() if now is None else now) - to_seconds(window, "window")
    return [p for p in points if p.timestamp_ns / 1e9 >= horizon]


def stats_from_points(
    points: Iterable[MetricPoint],
    *,
    window: Duration | None = None,
    now: float | None = None,
    ewma_alpha: float = DEFAULT_EWMA_ALPHA,
) -> Stats:
    """Compute :class:`Stats` from ``MetricPoint`` records (Recorder measurements or Sink points).

    Points of several attribute sets are summed like :meth:`TelemetryService.query` does; filter
    them first to look at one. In-process measurements (``temporality`` ``None``) and delta points
    are increments; cumulative points are differenced per attribute set, and a value that goes
    down on a counter is read as a restart. *window* keeps the points whose timestamp is within
    *window* seconds of *now* (default: the wall clock, the timestamps' clock).
    """
    return fold_points(_within(points, window, now), ewma_alpha=ewma_alpha)


def stat(
    aggregate: str, *, window: Duration | None = None
) -> Callable[[Sequence[MetricPoint]], float | None]:
    """Return a function computing *aggregate* of ``MetricPoint`` records, ``None`` while unknown.

    ``wait_for_metric_threshold(..., aggregate="p99")`` takes every aggregate name directly;
    ``stat`` adds a window: ``aggregate=stat("rate", window="30s")`` looks only at the points of
    the last 30 seconds. The aggregate name and the window are checked now (``ValueError``).
    """
    parse_aggregate(aggregate)
    if window is not None:
        to_seconds(window, "window", allow_zero=False)

    def compute(points: Sequence[MetricPoint]) -> float | None:
        return aggregate_points(list(_within(points, window, None)), aggregate)

    compute.__qualname__ = compute.__name__ = f"stat({aggregate!r})"
    return compute
