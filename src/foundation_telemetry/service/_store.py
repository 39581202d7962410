"""The metric store: one bounded time series per (metric name, attribute set).

Collected SDK points are normalised here into :class:`~._stats.Sample` intervals: a cumulative
point is differenced against the series' previous one (a new start time or a counter that went
down is a restart, and the whole value is then the increase), a delta point is taken as is, and
both end up as "what happened since the previous collection". Samples are downsampled into slots
of ``resolution`` seconds, ``(k * resolution, (k + 1) * resolution]`` (a collection belongs to the
slot its time falls in; several in one slot are merged), and dropped after ``retention`` seconds.
A counter, up-down counter or gauge series that is quiet in a slot keeps its level there (a carry
sample: nothing happened, the level stands) until it reports again or has been quiet for a whole
retention; a series with no sample left is then forgotten. A window cuts the sample it starts
in, counting the part of its increase (and measurements) that falls inside, pro rata. The number
of series is capped; points of series over the cap are counted as skips.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    MetricsData,
    NumberDataPoint,
    Sum,
)

from ..defensive._ledger import SkipReason, count_skip
from ._stats import Kind, Sample, merge_across, merge_into

__all__ = ["MetricStore", "Series"]

_COMPONENT = "service.store"
_NAN = math.nan
AttrKey = frozenset[tuple[str, Any]]


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def attr_key(attributes: Mapping[str, Any] | None) -> AttrKey:
    """Return the hashable identity of an attribute set."""
    if not attributes:
        return frozenset()
    return frozenset((k, _freeze(v)) for k, v in attributes.items())


def slot_of(at: float, resolution: float) -> int:
    """Return the index of the slot ``(k * resolution, (k + 1) * resolution]`` holding *at*."""
    return math.ceil(at / resolution) - 1


def _exponential_buckets(point: ExponentialHistogramDataPoint) -> dict[float, int]:
    base = 2.0 ** (2.0**-point.scale)
    buckets: dict[float, int] = {}
    negative = point.negative
    for index in range(len(negative.bucket_counts) - 1, -1, -1):
        buckets[-(base ** (negative.offset + index))] = negative.bucket_counts[index]
    if point.zero_count:
        buckets[0.0] = point.zero_count
    positive = point.positive
    for index, count in enumerate(positive.bucket_counts):
        buckets[base ** (positive.offset + index + 1)] = count
    return buckets


class Series:
    """One (metric, attribute set): its samples and the state needed to difference new points."""

    __slots__ = (
        "attributes",
        "kind",
        "last_seen",
        "level",
        "name",
        "prev",
        "prev_start",
        "samples",
    )

    def __init__(self, name: str, attributes: dict[str, Any], kind: Kind, maxlen: int) -> None:
        self.name = name
        self.attributes = attributes
        self.kind: Kind = kind
        self.samples: deque[Sample] = deque(maxlen=maxlen)
        self.level = 0.0
        self.prev: Sample | None = None
        self.prev_start = -1
        self.last_seen = -math.inf

    def _sample(self, point: Any, cumulative: bool, start: float, end: float) -> Sample | None:
        if isinstance(point, NumberDataPoint):
            value = float(point.value)
            if self.kind == "gauge":
                return Sample(start, end, 1, value, value, value, value)
            first = self.prev_start < 0
            if cumulative:
                restarted = (
                    first
                    or point.start_time_unix_nano != self.prev_start
                    or (self.kind == "counter" and value < self.level)
                )
                increase = value if restarted else value - self.level
                level = value
            else:
                increase = value
                level = self.level + value
            self.level = level
            self.prev_start = point.start_time_unix_nano
            # A point counts when the level moved: a cumulative reader reports every series at
            # every collection, a delta one only those that changed, and `count` must not tell.
            moved = 1 if first or increase != 0 else 0
            return Sample(start, end, moved, increase, level, level, level)
        if isinstance(point, HistogramDataPoint | ExponentialHistogramDataPoint):
            return self._histogram_sample(point, cumulative, start, end)
        return None

    def _histogram_sample(
        self,
        point: HistogramDataPoint | ExponentialHistogramDataPoint,
        cumulative: bool,
        start: float,
        end: float,
    ) -> Sample:
        if isinstance(point, HistogramDataPoint):
            bounds: tuple[float, ...] = (*point.explicit_bounds, math.inf)
            counts: tuple[int, ...] = tuple(point.bucket_counts)
        else:
            mapping = _exponential_buckets(point)
            bounds, counts = tuple(mapping), tuple(mapping.values())
        previous = self.prev
        if previous is not None and previous.bounds == bounds:
            bounds = previous.bounds  # share one tuple between samples of a series
        count, total = float(point.count), float(point.sum)
        vmin = float(point.min) if count else _NAN
        vmax = float(point.max) if count else _NAN
        current = Sample(start, end, count, total, _NAN, vmin, vmax, bounds, counts)
        self.prev = current
        restarted = (
            previous is None or point.start_time_unix_nano != self.prev_start or count < previous.n
        )
        self.prev_start = point.start_time_unix_nano
        if not cumulative or restarted or previous is None:
            sample = current.copy()
        else:
            sample = _difference(current, previous)
        sample.value = sample.total / sample.n if sample.n else _NAN
        return sample

    def add(
        self, point: Any, cumulative: bool, since: float, now: float, resolution: float
    ) -> None:
        """Normalise *point* into a sample ending *now* and store it (merging within a slot)."""
        if isinstance(point, NumberDataPoint) and not math.isfinite(point.value):
            count_skip(_COMPONENT, SkipReason.INVALID_INPUT, item=self.name)
            return
        # The interval is since the previous collection, not the series' previous sample: a
        # delta series that had no point in a collection had nothing happen in it.
        sample = self._sample(point, cumulative, min(since, now), now)
        if sample is None:
            count_skip(_COMPONENT, SkipReason.CONTRACT_VIOLATION, item=self.name)
            return
        self.last_seen = now
        if self.samples and slot_of(self.samples[-1].end, resolution) == slot_of(now, resolution):
            merge_into(self.samples[-1], sample, self.kind)
        else:
            self.samples.append(sample)

    def carry(self, since: float, now: float, resolution: float, retention: float) -> None:
        """Record that a series reported nothing in the collection at *now* (since *since*).

        Its sample in the slot of *now* then reaches *now*; a counter, up-down counter or gauge
        that has none there yet gets one keeping its level (unless it has been quiet for a whole
        retention).
        """
        samples = self.samples
        if not samples or self.last_seen == now:
            return
        last = samples[-1]
        if slot_of(last.end, resolution) == slot_of(now, resolution):
            last.end = max(last.end, now)
        elif self.kind != "histogram" and now - self.last_seen <= retention:
            level = last.value
            samples.append(Sample(min(since, now), now, 0, 0.0, level, level, level))


def _difference(current: Sample, previous: Sample) -> Sample:
    """Return the interval between two cumulative histogram points (min/max: docs/service.md)."""
    count = current.n - previous.n
    total = current.total - previous.total
    counts: tuple[float, ...] | None = None
    if current.bounds == previous.bounds and current.counts and previous.counts:
        counts = tuple(a - b for a, b in zip(current.counts, previous.counts, strict=True))
    if not count:
        return Sample(current.start, current.end, 0, 0.0, _NAN, _NAN, _NAN, current.bounds, counts)
    # A cumulative min/max is exact for this interval only when it moved in it; otherwise the
    # interval's extremes lie within its non-empty buckets, which bound the estimate.
    vmin, vmax = current.vmin, current.vmax
    if counts is not None and current.bounds is not None:
        filled = [i for i, c in enumerate(counts) if c > 0]
        if filled:
            if not current.vmin < previous.vmin and filled[0] > 0:
                vmin = max(vmin, current.bounds[filled[0] - 1])
            if not current.vmax > previous.vmax and not math.isinf(current.bounds[filled[-1]]):
                vmax = min(vmax, current.bounds[filled[-1]])
    return Sample(
        current.start, current.end, count, total, _NAN, vmin, vmax, current.bounds, counts
    )


def _cut(sample: Sample, horizon: float, kind: Kind) -> Sample:
    """Return the part of *sample* after *horizon*: its increase and measurements pro rata.

    Levels, values and extremes are kept whole (they are states, not amounts), as are a gauge's
    observations.
    """
    part = sample.copy()
    part.start = horizon
    if kind == "gauge":
        return part
    share = (sample.end - horizon) / (sample.end - sample.start)
    part.total *= share
    if kind == "histogram":
        part.n *= share
        if part.counts is not None:
            part.counts = tuple(count * share for count in part.counts)
    return part


def _kind_of(data: Any) -> tuple[Kind, bool] | None:
    if isinstance(data, Sum):
        cumulative = data.aggregation_temporality == AggregationTemporality.CUMULATIVE
        return ("counter" if data.is_monotonic else "updowncounter"), cumulative
    if isinstance(data, Gauge):
        return "gauge", False
    if isinstance(data, Histogram | ExponentialHistogram):
        return "histogram", data.aggregation_temporality == AggregationTemporality.CUMULATIVE
    return None


_CACHE_LIMIT = 256
_SLOT_GENERATIONS = 8  # the newest slots whose last ingest is remembered


class _OpenSum(NamedTuple):
    """The last cross-series sum of a slot that was still open when it was taken."""

    slot: int
    generation: int  # the store's ingest generation at the time
    merged: Sample
    samples: int  # how many series samples the sum is made of


class _SlotCache:
    """Cross-series sums of closed slots for one (metric, attribute filter), oldest first."""

    __slots__ = ("closed", "open", "sizes", "slots")

    def __init__(self) -> None:
        self.closed = -math.inf
        self.slots: dict[int, Sample] = {}
        self.sizes: dict[int, int] = {}
        self.open: _OpenSum | None = None


class MetricStore:
    """Thread-safe bounded storage of :class:`Series`, fed with collected ``MetricsData``."""

    def __init__(self, retention: float, resolution: float, max_series: int) -> None:
        self.retention = retention
        self.resolution = resolution
        self.max_series = max_series
        self.maxlen = math.ceil(retention / resolution) + 2
        self.lock = threading.RLock()
        self._series: dict[str, dict[AttrKey, Series]] = {}
        self._cache: dict[tuple[str, AttrKey], _SlotCache] = {}
        self._count = 0
        # Ingests are numbered; a slot's samples only change in an ingest whose `now` falls in
        # that slot, so the generation of the last such ingest says whether a sum is still true.
        self._generation = 0
        self._slot_generations: dict[int, int] = {}

    def __len__(self) -> int:
        return self._count

    def ingest(self, data: MetricsData, since: float, now: float) -> None:
        """Store every point of *data* as covering ``[since, now]``, then apply retention."""
        metrics = (
            metric
            for resource_metrics in data.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        )
        with self.lock:
            self._generation += 1
            slot = slot_of(now, self.resolution)
            slot_generations = self._slot_generations
            slot_generations.pop(slot, None)  # re-inserted as the newest
            slot_generations[slot] = self._generation
            while len(slot_generations) > _SLOT_GENERATIONS:
                del slot_generations[next(iter(slot_generations))]  # unknown reads as changed
            for metric in metrics:
                shape = _kind_of(metric.data)
                if shape is None:
                    count_skip(_COMPONENT, SkipReason.CONTRACT_VIOLATION, item=metric.name)
                    continue
                kind, cumulative = shape
                for point in metric.data.data_points:
                    series = self._series_for(metric.name, point.attributes, kind)
                    if series is not None:
                        series.add(point, cumulative, since, now, self.resolution)
            for by_attrs in self._series.values():
                for series in by_attrs.values():
                    series.carry(since, now, self.resolution, self.retention)
            self.evict(now)

    def _series_for(
        self, name: str, attributes: Mapping[str, Any] | None, kind: Kind
    ) -> Series | None:
        by_attrs = self._series.setdefault(name, {})
        key = attr_key(attributes)
        series = by_attrs.get(key)
        if series is None:
            if self._count >= self.max_series:
                count_skip(_COMPONENT, SkipReason.SYSTEM_LIMIT, item=name)
                return None
            series = Series(name, dict(attributes or {}), kind, self.maxlen)
            by_attrs[key] = series
            self._count += 1
        return series

    def evict(self, now: float) -> None:
        """Drop samples older than the retention, and series that reported nothing in it."""
        horizon = now - self.retention
        with self.lock:
            for name in list(self._series):
                by_attrs = self._series[name]
                for key in list(by_attrs):
                    series = by_attrs[key]
                    samples = series.samples
                    while samples and samples[0].end < horizon:
                        samples.popleft()
                    if not samples and series.last_seen < horizon:
                        del by_attrs[key]
                        self._count -= 1
                if not by_attrs:
                    del self._series[name]

    def names(self) -> list[str]:
        """Return the metric names currently stored, sorted."""
        with self.lock:
            return sorted(self._series)

    def matching(self, name: str, attributes: Mapping[str, Any] | None) -> list[Series]:
        """Return the series of *name* whose attributes include all of *attributes*."""
        with self.lock:
            by_attrs = self._series.get(name)
            if not by_attrs:
                return []
            if not attributes:
                return list(by_attrs.values())
            wanted = attr_key(attributes)
            return [s for key, s in by_attrs.items() if wanted <= key]

    def window(
        self,
        name: str,
        attributes: Mapping[str, Any] | None,
        window: float | None,
        now: float,
    ) -> tuple[Kind | None, list[Sample]]:
        """Return the kind and the samples of the matching series in the window, summed per slot.

        ``(None, [])`` means the metric has no matching series at all (no data, as opposed to an
        empty window).
        """
        horizon = max(now - self.retention, -math.inf if window is None else now - window)
        with self.lock:
            series = self.matching(name, attributes)
            if not series:
                return None, []
            kind = series[0].kind
            stored = (
                series[0].samples
                if len(series) == 1
                else self._merged(name, attributes, series, now)
            )
            inside = [s for s in stored if s.end > horizon]
        if inside and inside[0].start < horizon:
            inside[0] = _cut(inside[0], horizon, kind)
        return kind, inside

    def _merged(
        self, name: str, attributes: Mapping[str, Any] | None, series: list[Series], now: float
    ) -> list[Sample]:
        # Only the newest slot of a series ever changes (later points merge into it, or start a
        # new one), so the sum of several series over an earlier slot is final: it is kept and
        # only the slots newer than the last kept one are summed again. This is what keeps rule
        # evaluation over many series cheap on every collection.
        key = (name, attr_key(attributes))
        cache = self._cache.get(key)
        if cache is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            cache = self._cache[key] = _SlotCache()
        resolution, kind = self.resolution, series[0].kind
        current = slot_of(now, resolution)
        fresh: dict[int, list[Sample]] = {}
        for one in series:
            for sample in reversed(one.samples):
                slot = slot_of(sample.end, resolution)
                if slot <= cache.closed:
                    break
                fresh.setdefault(slot, []).append(sample)
        still_open: list[Sample] = []
        last_open, cache.open = cache.open, None
        for slot in sorted(fresh):
            samples = fresh[slot]
            if (
                last_open is not None
                and last_open.slot == slot
                and last_open.samples == len(samples)
                and self._slot_generations.get(slot, math.inf) <= last_open.generation
            ):
                merged = last_open.merged  # the slot was open at the last look and is unchanged
            else:
                merged = merge_across(samples, kind)
            if slot < current:
                cache.slots[slot] = merged
                cache.sizes[slot] = len(samples)
                cache.closed = slot
            else:
                cache.open = _OpenSum(slot, self._generation, merged, len(samples))
                still_open.append(merged)
        oldest = now - self.retention
        while cache.slots:
            first = next(iter(cache.slots))
            if cache.slots[first].end > oldest:
                break
            del cache.slots[first], cache.sizes[first]
        if cache.slots:
            self._refresh_oldest(cache, series, kind)
        return [*cache.slots.values(), *still_open]

    def _refresh_oldest(self, cache: _SlotCache, series: list[Series], kind: Kind) -> None:
        # Retention drops samples one by one, so the oldest kept slot may have lost some of
        # the samples its cached sum was made of; sum what is left again.
        first = next(iter(cache.slots))
        present: list[Sample] = []
        for one in series:
            for sample in one.samples:
                slot = slot_of(sample.end, self.resolution)
                if slot > first:
                    break
                if slot == first:
                    present.append(sample)
        if len(present) == cache.sizes[first]:
            return
        if present:
            cache.slots[first] = merge_across(present, kind)
            cache.sizes[first] = len(present)
        else:
            del cache.slots[first], cache.sizes[first]

    def __iter__(self) -> Iterator[Series]:
        with self.lock:
            everything = [s for by_attrs in self._series.values() for s in by_attrs.values()]
        return iter(everything)
