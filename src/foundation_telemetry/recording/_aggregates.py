"""Folding metric points into aggregates: the one definition of ``sum``, ``rate``, ``p99`` and the rest.

A *sample* is what one time series did during an interval, already normalised: delta and
cumulative points both become "what happened between ``start`` and ``end``", so every aggregate
is temporality-agnostic. :func:`compute_stats` folds samples into a :class:`Stats` value and
:func:`fold_points` folds ``MetricPoint`` records (Recorder measurements or Sink points). The
functions are pure (no clock, no locks): the TelemetryService (queries and alert rules) and
``wait_for_metric_threshold`` both fold through here, so an aggregate name means the same in a
rule condition and in a test. The service adds its windows and series store on top.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, final

from ._records import MetricPoint

__all__ = [
    "AGGREGATES",
    "DEFAULT_EWMA_ALPHA",
    "Aggregate",
    "Kind",
    "Sample",
    "Stats",
    "add_buckets",
    "aggregate_points",
    "check_aggregate",
    "compute_stats",
    "exact_quantile",
    "fold_points",
    "nanmax",
    "nanmin",
    "normalize_kind",
    "parse_aggregate",
]

Kind = Literal["counter", "updowncounter", "gauge", "histogram"]

#: The aggregate names a rule condition, ``Stats.get()`` and the testing API accept; any other
#: percentile is written ``pNN`` or ``pNN.N`` (``p95``, ``p99.9``).
AGGREGATES: tuple[str, ...] = (
    "count",
    "sum",
    "rate",
    "min",
    "max",
    "mean",
    "last",
    "ewma",
    "p50",
    "p90",
    "p99",
)
DEFAULT_EWMA_ALPHA = 0.3
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_NAN = math.nan


def parse_aggregate(name: str) -> str:
    """Return *name* if it is a known aggregate or a ``pNN`` percentile, else raise ``ValueError``."""
    if name in AGGREGATES:
        return name
    match = _PERCENTILE.match(name)
    if match is not None and 0 < float(match.group(1)) < 100:
        return name
    msg = (
        f"Unknown aggregate {name!r}; use one of {', '.join(AGGREGATES)} "
        "or a percentile written pNN (e.g. p95, p99.9)."
    )
    raise ValueError(msg)


class Sample:
    """What one series did during ``[start, end]`` (seconds on the service clock).

    ``n`` is the number of measurements (histograms) or of collected points (others); ``total``
    the sum of recorded values (histograms), the increase (counters) or the sum of observed values
    (gauges); ``value`` the level (counters), the last value (gauges) or the interval mean
    (histograms); ``bounds``/``counts`` the histogram buckets (upper bounds, last is ``inf``).
    """

    __slots__ = ("bounds", "counts", "end", "n", "start", "total", "value", "vmax", "vmin")

    def __init__(
        self,
        start: float,
        end: float,
        n: float,
        total: float,
        value: float,
        vmin: float,
        vmax: float,
        bounds: tuple[float, ...] | None = None,
        counts: tuple[float, ...] | None = None,
    ) -> None:
        self.start = start
        self.end = end
        self.n = n
        self.total = total
        self.value = value
        self.vmin = vmin
        self.vmax = vmax
        self.bounds = bounds
        self.counts = counts

    def copy(self) -> Sample:
        """Return an independent copy (merges mutate in place)."""
        return Sample(
            self.start,
            self.end,
            self.n,
            self.total,
            self.value,
            self.vmin,
            self.vmax,
            self.bounds,
            self.counts,
        )

    def __repr__(self) -> str:
        return (
            f"Sample(start={self.start!r}, end={self.end!r}, n={self.n!r}, total={self.total!r}, "
            f"value={self.value!r}, vmin={self.vmin!r}, vmax={self.vmax!r})"
        )


def nanmin(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    return a if math.isnan(b) or a <= b else b


def nanmax(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    return a if math.isnan(b) or a >= b else b


def add_buckets(target: Sample, other: Sample) -> None:
    if (
        target.counts is None
        or other.counts is None
        or target.bounds is None
        or other.bounds is None
    ):
        target.bounds = target.counts = None
    elif target.bounds == other.bounds:
        target.counts = tuple(map(operator.add, target.counts, other.counts))
    else:
        merged: dict[float, float] = dict(zip(target.bounds, target.counts, strict=True))
        for bound, count in zip(other.bounds, other.counts, strict=True):
            merged[bound] = merged.get(bound, 0) + count
        ordered = sorted(merged)
        target.bounds = tuple(ordered)
        target.counts = tuple(merged[b] for b in ordered)


@final
@dataclass(frozen=True, slots=True)
class Stats:
    """Aggregates of one metric (one or several attribute sets summed) over a window.

    Field meanings by instrument kind (see docs/service.md for the full table):

    - ``count``: recorded measurements (histograms) or collected points (others).
    - ``sum``: sum of recorded values (histograms), increase (counters, up-down counters: net
      change), sum of observed values (gauges).
    - ``rate``: per second over the covered time: increase (counters), measurements
      (histograms), change of the value (gauges). ``nan`` when the samples cover no time.
    - ``min``/``max``/``mean``/``last``/``ewma``: of recorded values (histograms; ``last`` and
      ``ewma`` use per-interval means), of the level (counters) or of the values (gauges).
    - ``p50``/``p90``/``p99`` (any ``pNN`` via :meth:`quantile`): from histogram buckets
      (interpolated within a bucket, clamped to min/max), otherwise exact over the values.

    An empty window gives ``count == 0``, ``sum == rate == 0.0`` and ``nan`` elsewhere: never
    ``None``, and ``empty`` says so.
    """

    count: float = 0
    sum: float = 0.0
    rate: float = 0.0
    min: float = _NAN
    max: float = _NAN
    mean: float = _NAN
    last: float = _NAN
    ewma: float = _NAN
    p50: float = _NAN
    p90: float = _NAN
    p99: float = _NAN
    samples: int = 0
    start: float | None = None
    end: float | None = None
    kind: str | None = None
    _quantile: Callable[[float], float] | None = field(default=None, repr=False, compare=False)

    @property
    def empty(self) -> bool:
        """Whether no sample fell into the window."""
        return self.samples == 0

    def quantile(self, q: float) -> float:
        """Return the *q* quantile (``0 < q < 1``) with the same method as ``p50``/``p99``."""
        if not 0 < q < 1:
            msg = f"`q` must be between 0 and 1 (exclusive), got {q!r}."
            raise ValueError(msg)
        return _NAN if self._quantile is None else self._quantile(q)

    def get(self, aggregate: str) -> float:
        """Return the aggregate called *aggregate* (``"rate"``, ``"p99"``, ``"p95"``, ...)."""
        parse_aggregate(aggregate)
        if aggregate in AGGREGATES:
            return float(getattr(self, aggregate))
        return self.quantile(float(aggregate[1:]) / 100)

    def as_dict(self) -> dict[str, Any]:
        """Return the aggregates as a plain dict (for logs, JSON and failure messages)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in AGGREGATES}
        out.update(samples=self.samples, start=self.start, end=self.end, kind=self.kind)
        return out


def exact_quantile(ordered: Sequence[float], q: float) -> float:
    """Return the *q* quantile of sorted *ordered* by linear interpolation (``nan`` if empty)."""
    if not ordered:
        return _NAN
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _bucket_quantile(
    bounds: Sequence[float], counts: Sequence[float], q: float, lo: float, hi: float
) -> float:
    total = sum(counts)
    if total <= 0:
        return _NAN
    rank = q * total
    cumulative = 0.0
    for index, count in enumerate(counts):
        if count <= 0:
            continue
        if cumulative + count >= rank:
            lower = bounds[index - 1] if index > 0 else (lo if not math.isnan(lo) else 0.0)
            upper = bounds[index]
            if not math.isnan(lo):
                lower = max(lower, lo)
            if math.isinf(upper) or (not math.isnan(hi) and upper > hi):
                upper = hi if not math.isnan(hi) else lower
            lower = min(lower, upper)
            return lower + (upper - lower) * ((rank - cumulative) / count)
        cumulative += count
    return hi


def _quantile_fn(
    samples: Sequence[Sample], kind: str, lo: float, hi: float
) -> Callable[[float], float]:
    if kind == "histogram" and all(s.counts is not None for s in samples if s.n):
        acc: Sample | None = None
        for sample in samples:
            if not sample.n:
                continue
            if acc is None:
                acc = sample.copy()
            else:
                add_buckets(acc, sample)
        if acc is not None and acc.bounds is not None and acc.counts is not None:
            bounds, counts = acc.bounds, acc.counts
            return lambda q: _bucket_quantile(bounds, counts, q, lo, hi)
    ordered = sorted(s.value for s in samples if not math.isnan(s.value))
    return lambda q: exact_quantile(ordered, q)


def compute_stats(
    samples: Sequence[Sample],
    kind: str,
    *,
    ewma_alpha: float = DEFAULT_EWMA_ALPHA,
    until: float | None = None,
) -> Stats:
    """Aggregate *samples* (one series, oldest first) of an instrument of *kind*.

    Rates cover from the start of the first sample to *until* (default: the end of the last), so
    a delta counter that reported nothing lately is not read as still busy.
    """
    if not samples:
        return Stats(kind=kind)
    first, last = samples[0], samples[-1]
    n = 0.0
    total = 0.0
    lo = hi = _NAN
    ewma = _NAN
    level_sum = 0.0
    for sample in samples:
        n += sample.n
        total += sample.total
        lo = nanmin(lo, sample.vmin)
        hi = nanmax(hi, sample.vmax)
        value = sample.value
        if not math.isnan(value):
            level_sum += value
            ewma = value if math.isnan(ewma) else ewma + ewma_alpha * (value - ewma)
    span = max(last.end, until if until is not None else last.end) - first.start
    if kind == "histogram":
        rate = n / span if span > 0 else _NAN
        mean = total / n if n else _NAN
    elif kind == "gauge":
        moved = last.end - first.end
        rate = (last.value - first.value) / moved if moved > 0 else _NAN
        mean = total / n if n else _NAN
    else:
        rate = total / span if span > 0 else _NAN
        valid = sum(1 for s in samples if not math.isnan(s.value))
        mean = level_sum / valid if valid else _NAN
    quantile = _quantile_fn(samples, kind, lo, hi)
    return Stats(
        count=n,
        sum=total,
        rate=rate,
        min=lo,
        max=hi,
        mean=mean,
        last=last.value,
        ewma=ewma,
        p50=quantile(0.5),
        p90=quantile(0.9),
        p99=quantile(0.99),
        samples=len(samples),
        start=first.start,
        end=last.end,
        kind=kind,
        _quantile=quantile,
    )


def normalize_kind(instrument_kind: str) -> Kind:
    """Map an instrument kind as records spell it (``"observable_counter"``...) to a :data:`Kind`."""
    spelled = instrument_kind.lower().replace("_", "").replace("-", "").removeprefix("observable")
    if spelled in ("counter", "sum", "monotonicsum"):
        return "counter"
    if spelled in ("updowncounter", "nonmonotonicsum"):
        return "updowncounter"
    if spelled in ("histogram", "exponentialhistogram", "summary"):
        return "histogram"
    return "gauge"


def _attr_key(attributes: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in attributes.items()))


def fold_points(points: Iterable[MetricPoint], *, ewma_alpha: float = DEFAULT_EWMA_ALPHA) -> Stats:
    """Compute :class:`Stats` from ``MetricPoint`` records (Recorder measurements or Sink points).

    Points of several attribute sets are summed like :meth:`TelemetryService.query` does; filter
    them first to look at one. In-process measurements (``temporality`` ``None``) and delta points
    are increments; cumulative points are differenced per attribute set, and a value that goes
    down on a counter is read as a restart.
    """
    ordered = sorted(points, key=lambda p: p.timestamp_ns)
    if not ordered:
        return Stats()
    kind = normalize_kind(ordered[0].instrument_kind)
    levels: dict[tuple[tuple[str, str], ...], float] = {}
    previous: dict[tuple[tuple[str, str], ...], tuple[float, float]] = {}
    samples: list[Sample] = []
    before = ordered[0].timestamp_ns / 1e9
    for point in ordered:
        at = point.timestamp_ns / 1e9
        key = _attr_key(point.attributes)
        cumulative = (point.temporality or "").lower() == "cumulative"
        value, count = float(point.value), float(point.count)
        if cumulative:
            prior = previous.get(key)
            previous[key] = (value, count)
            if prior is not None and (kind == "updowncounter" or value >= prior[0]):
                value, count = value - prior[0], count - prior[1]
        if kind == "histogram":
            mean = value / count if count else _NAN
            samples.append(Sample(before, at, count, value, mean, mean, mean))
        else:
            if kind == "gauge":
                levels[key] = value
            else:
                levels[key] = levels.get(key, 0.0) + value
            level = sum(levels.values())
            samples.append(Sample(before, at, 1, value, level, level, level))
        before = at
    return compute_stats(samples, kind, ewma_alpha=ewma_alpha)


Aggregate: TypeAlias = Callable[[Sequence[MetricPoint]], "float | None"]
"""A custom aggregate: the matching points in, a number (or ``None``: not yet) out."""


def check_aggregate(aggregate: object) -> str | Aggregate:
    """Return *aggregate* (a name from :data:`AGGREGATES`, a ``pNN`` or a callable), or raise."""
    if callable(aggregate):
        return aggregate
    if not isinstance(aggregate, str):
        msg = (
            f"`aggregate` must be one of {', '.join(AGGREGATES)}, a percentile written pNN "
            f"(p95, p99.9) or a callable taking the points, got {aggregate!r}."
        )
        raise TypeError(msg)
    try:
        return parse_aggregate(aggregate)
    except ValueError:
        msg = (
            f"`aggregate` must be one of {', '.join(AGGREGATES)}, a percentile written pNN "
            f"(p95, p99.9) or a callable taking the points, got {aggregate!r}."
        )
        raise ValueError(msg) from None


def aggregate_points(points: Sequence[MetricPoint], aggregate: str | Aggregate) -> float | None:
    """Fold *points* into the one number *aggregate* names; ``None`` while it is unknown.

    Unknown means no point yet, or an aggregate that needs more (a ``rate`` over no time).
    """
    if callable(aggregate):
        return aggregate(points)
    stats = fold_points(points)
    value = stats.get(aggregate)
    return None if stats.empty or math.isnan(value) else value
