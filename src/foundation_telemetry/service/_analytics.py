"""Analytics over a time series: moving averages, windowed percentiles, anomalies and trend.

Everything here is a pure function of a list of ``(time, value)`` points (seconds, oldest
first), which :func:`signal` derives from stored samples: the per-interval rate for counters
(a counter's level only ever grows, so its *rate* is what can be unusual) and the value
otherwise (gauge value, up-down counter level, histogram interval mean).

Anomaly detection compares the newest point with a baseline made of the points before it:

- ``"zscore"``: ``score = (x - mean) / stdev`` of the baseline (sample standard deviation).
- ``"ewma"``: an exponentially weighted mean ``m`` and variance ``v`` are run over the baseline
  (``m += a * (x - m)``, ``v = (1 - a) * (v + a * (x - m_old)**2)``), then
  ``score = (x - m) / sqrt(v)``.

The newest point is anomalous when ``|score| >= threshold`` (default 3) and the baseline holds at
least ``min_points`` points (default 5). A flat baseline (zero deviation) flags any change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, final

from ._stats import Sample, exact_quantile

__all__ = [
    "Anomaly",
    "Point",
    "anomaly",
    "moving_average",
    "signal",
    "trend",
    "windowed_percentile",
]

Point = tuple[float, float]
Source = Literal["value", "rate"]
Method = Literal["zscore", "ewma"]
METHODS: tuple[str, ...] = ("zscore", "ewma")


@final
@dataclass(frozen=True, slots=True)
class Anomaly:
    """The verdict on the newest point of a series.

    Attributes:
        is_anomaly: whether ``|score| >= threshold`` with a large enough baseline.
        score: deviations from the expected value (signed; ``nan`` without a baseline).
        value: the newest value.
        expected: the baseline mean (z-score) or EWMA.
        deviation: the baseline standard deviation (or EWMA deviation).
        method: ``"zscore"`` or ``"ewma"``.
        baseline: how many points the baseline had.
    """

    is_anomaly: bool
    score: float
    value: float
    expected: float
    deviation: float
    method: str
    baseline: int


def signal(samples: Sequence[Sample], kind: str, source: Source | None = None) -> list[Point]:
    """Return the ``(end, value)`` series analytics run on (see the module docstring)."""
    chosen = source or ("rate" if kind == "counter" else "value")
    points: list[Point] = []
    if chosen == "value":
        for sample in samples:
            if not math.isnan(sample.value):
                points.append((sample.end, sample.value))
        return points
    previous: Sample | None = None
    for sample in samples:
        span = sample.end - sample.start
        if kind == "gauge":
            if previous is not None and sample.end > previous.end:
                moved = sample.value - previous.value
                points.append((sample.end, moved / (sample.end - previous.end)))
        elif span > 0:
            amount = sample.n if kind == "histogram" else sample.total
            points.append((sample.end, amount / span))
        previous = sample
    return points


def moving_average(points: Sequence[Point], span: float) -> list[Point]:
    """Return the trailing mean over *span* seconds at each point."""
    out: list[Point] = []
    head = 0
    running = 0.0
    for index, (at, value) in enumerate(points):
        running += value
        while points[head][0] <= at - span and head < index:
            running -= points[head][1]
            head += 1
        out.append((at, running / (index - head + 1)))
    return out


def windowed_percentile(points: Sequence[Point], q: float, span: float) -> list[Point]:
    """Return the trailing *q* quantile (``0 < q < 1``) over *span* seconds at each point."""
    if not 0 < q < 1:
        msg = f"`q` must be between 0 and 1 (exclusive), got {q!r}."
        raise ValueError(msg)
    out: list[Point] = []
    head = 0
    for index, (at, _) in enumerate(points):
        while points[head][0] <= at - span and head < index:
            head += 1
        window = sorted(value for _, value in points[head : index + 1])
        out.append((at, exact_quantile(window, q)))
    return out


def trend(points: Sequence[Point]) -> float:
    """Return the least-squares slope in units per second (``nan`` with fewer than 2 points)."""
    if len(points) < 2:
        return math.nan
    origin = points[0][0]
    xs = [at - origin for at, _ in points]
    ys = [value for _, value in points]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return math.nan
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def _score(value: float, expected: float, deviation: float) -> float:
    if deviation > 0:
        return (value - expected) / deviation
    return 0.0 if value == expected else math.copysign(math.inf, value - expected)


def anomaly(
    points: Sequence[Point],
    *,
    method: Method = "zscore",
    threshold: float = 3.0,
    min_points: int = 5,
    alpha: float = 0.3,
) -> Anomaly:
    """Judge the newest point of *points* against the ones before it (module docstring)."""
    if method not in METHODS:
        msg = f"Unknown anomaly method {method!r}; use one of {', '.join(METHODS)}."
        raise ValueError(msg)
    if not points:
        return Anomaly(False, math.nan, math.nan, math.nan, math.nan, method, 0)
    value = points[-1][1]
    baseline = [v for _, v in points[:-1]]
    if len(baseline) < max(min_points, 2):
        return Anomaly(False, math.nan, value, math.nan, math.nan, method, len(baseline))
    if method == "zscore":
        expected = sum(baseline) / len(baseline)
        variance = sum((v - expected) ** 2 for v in baseline) / (len(baseline) - 1)
    else:
        expected, variance = baseline[0], 0.0
        for v in baseline[1:]:
            diff = v - expected
            expected += alpha * diff
            variance = (1 - alpha) * (variance + alpha * diff * diff)
    deviation = math.sqrt(variance)
    score = _score(value, expected, deviation)
    return Anomaly(
        abs(score) >= threshold, score, value, expected, deviation, method, len(baseline)
    )
