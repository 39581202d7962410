"""Aggregation: Stats from samples and from MetricPoint records, merges and percentiles."""

from __future__ import annotations

import math

import pytest

from foundation_telemetry.recording._records import MetricPoint
from foundation_telemetry.service import (
    AGGREGATES,
    Stats,
    parse_aggregate,
    stat,
    stats_from_points,
)
from foundation_telemetry.service._stats import Sample, compute_stats, merge_across, merge_into

S = 1_000_000_000


def counter_sample(start: float, end: float, increase: float, level: float) -> Sample:
    return Sample(start, end, 1, increase, level, level, level)


class TestParseAggregate:
    @pytest.mark.parametrize("name", [*AGGREGATES, "p95", "p99.9", "p1"])
    def test_known(self, name: str) -> None:
        """Every Stats field and any pNN percentile is accepted."""
        assert parse_aggregate(name) == name

    @pytest.mark.parametrize("name", ["p100", "p0", "avg", "P99", "rate5"])
    def test_unknown(self, name: str) -> None:
        """Anything else is refused with the list of accepted names."""
        with pytest.raises(ValueError, match=r"Unknown aggregate.*count, sum, rate"):
            parse_aggregate(name)


class TestComputeStats:
    def test_empty(self) -> None:
        """No samples give an empty Stats, never None, with zero count/sum/rate and nan elsewhere."""
        stats = compute_stats([], "counter")
        assert stats.empty
        assert (stats.count, stats.sum, stats.rate) == (0, 0.0, 0.0)
        assert math.isnan(stats.p99)
        assert math.isnan(stats.last)

    def test_counter(self) -> None:
        """A counter's sum is its increase, rate per second over the covered time, last its level."""
        samples = [
            counter_sample(0, 10, 20, 20),
            counter_sample(10, 20, 30, 50),
            counter_sample(20, 30, 10, 60),
        ]
        stats = compute_stats(samples, "counter")
        assert stats.sum == 60
        assert stats.rate == pytest.approx(2.0)
        assert stats.last == 60
        assert (stats.min, stats.max) == (20, 60)
        assert stats.mean == pytest.approx(130 / 3)
        assert stats.samples == 3

    def test_until_extends_rate_span(self) -> None:
        """A quiet period after the last sample lowers the rate when `until` is given."""
        samples = [counter_sample(0, 10, 100, 100)]
        assert compute_stats(samples, "counter").rate == 10
        assert compute_stats(samples, "counter", until=50).rate == 2

    def test_ewma(self) -> None:
        """The EWMA runs over the sample values with the given alpha."""
        samples = [counter_sample(i, i + 1, 1, v) for i, v in enumerate([10, 20, 20])]
        stats = compute_stats(samples, "gauge", ewma_alpha=0.5)
        assert stats.ewma == pytest.approx(17.5)

    def test_gauge(self) -> None:
        """A gauge's mean is over observed values and its rate is the change per second."""
        samples = [Sample(0, 10, 1, v, v, v, v) for v in (4.0,)]
        samples.append(Sample(10, 20, 1, 8.0, 8.0, 8.0, 8.0))
        stats = compute_stats(samples, "gauge")
        assert stats.mean == 6
        assert stats.rate == pytest.approx(0.4)
        assert stats.last == 8

    def test_histogram_percentiles_from_buckets(self) -> None:
        """Histogram percentiles interpolate within merged buckets and stay within min/max."""
        bounds = (1.0, 2.0, 4.0, math.inf)
        first = Sample(0, 10, 10, 10.0, 1.0, 0.5, 1.0, bounds, (10, 0, 0, 0))
        second = Sample(10, 20, 10, 30.0, 3.0, 2.5, 3.5, bounds, (0, 0, 10, 0))
        stats = compute_stats([first, second], "histogram")
        assert stats.count == 20
        assert stats.mean == 2.0
        assert stats.rate == 1.0
        assert (stats.min, stats.max) == (0.5, 3.5)
        assert stats.p50 == pytest.approx(1.0)
        assert 2.5 <= stats.p90 <= 3.5
        assert stats.p99 <= 3.5
        assert stats.quantile(0.25) == pytest.approx(0.75)

    def test_percentiles_exact_without_buckets(self) -> None:
        """Without buckets, percentiles are exact over the values (linear interpolation)."""
        samples = [Sample(i, i + 1, 1, v, v, v, v) for i, v in enumerate(range(1, 101))]
        stats = compute_stats(samples, "gauge")
        assert stats.p50 == pytest.approx(50.5)
        assert stats.p90 == pytest.approx(90.1)
        assert stats.get("p95") == pytest.approx(95.05)


class TestMerges:
    def test_merge_into_keeps_last_level(self) -> None:
        """Downsampling a counter adds increases and keeps the newest level."""
        target = counter_sample(0, 10, 5, 5)
        merge_into(target, counter_sample(10, 12, 3, 8), "counter")
        assert (target.start, target.end, target.total, target.value, target.n) == (0, 12, 8, 8, 2)

    def test_merge_across_sums_levels(self) -> None:
        """Series of one metric in the same slot add up."""
        merged = merge_across(
            [counter_sample(0, 10, 5, 50), counter_sample(0, 10, 1, 7)], "counter"
        )
        assert (merged.total, merged.value) == (6, 57)

    def test_merge_histograms_with_different_bounds(self) -> None:
        """Histograms with different bucket bounds merge by bound."""
        a = Sample(0, 1, 2, 3.0, 1.5, 1.0, 2.0, (1.0, 2.0), (1, 1))
        b = Sample(0, 1, 1, 3.0, 3.0, 3.0, 3.0, (1.0, 4.0), (0, 1))
        merged = merge_across([a, b], "histogram")
        assert merged.bounds == (1.0, 2.0, 4.0)
        assert merged.counts == (1, 1, 1)
        assert merged.value == 2.0


class TestStatsAccess:
    def test_get_by_name(self) -> None:
        """`get` reads a field by aggregate name and rejects unknown names."""
        stats = Stats(count=3, sum=6.0, rate=1.5)
        assert stats.get("rate") == 1.5
        with pytest.raises(ValueError, match="Unknown aggregate"):
            stats.get("median")

    def test_quantile_bounds(self) -> None:
        """Quantiles outside (0, 1) are refused."""
        with pytest.raises(ValueError, match="between 0 and 1"):
            Stats().quantile(1.0)

    def test_as_dict(self) -> None:
        """`as_dict` has every aggregate plus the sample count."""
        out = Stats().as_dict()
        assert set(AGGREGATES) <= set(out)
        assert out["samples"] == 0


def point(
    value: float,
    t: float,
    *,
    kind: str = "counter",
    temporality: str | None = None,
    count: int = 1,
    **attributes: str,
) -> MetricPoint:
    return MetricPoint(
        name="m",
        attributes=attributes,
        value=value,
        timestamp_ns=int(t * S),
        instrument_kind=kind,
        temporality=temporality,
        count=count,
    )


class TestStatsFromPoints:
    def test_measurements(self) -> None:
        """In-process counter measurements add up; rate covers first to last measurement."""
        stats = stats_from_points([point(1, 100), point(2, 101), point(3, 102)])
        assert stats.sum == 6
        assert stats.last == 6
        assert stats.rate == 3.0

    def test_histogram_measurements_exact_percentiles(self) -> None:
        """Histogram measurements give exact percentiles."""
        points = [point(v, 100 + v, kind="histogram") for v in range(1, 11)]
        stats = stats_from_points(points)
        assert stats.count == 10
        assert stats.p50 == pytest.approx(5.5)
        assert (stats.min, stats.max) == (1, 10)

    def test_cumulative_points_with_restart(self) -> None:
        """Cumulative points are differenced; a counter going down is read as a restart."""
        values = [10, 15, 25, 4, 6]
        points = [point(v, 100 + i, temporality="cumulative") for i, v in enumerate(values)]
        stats = stats_from_points(points)
        assert stats.sum == 25 + 6

    def test_cumulative_equals_delta(self) -> None:
        """The same traffic as delta or cumulative points gives the same sum and rate."""
        deltas = [point(v, 100 + i, temporality="delta") for i, v in enumerate([1, 4, 2, 3])]
        running = [point(v, 100 + i, temporality="cumulative") for i, v in enumerate([1, 5, 7, 10])]
        a, b = stats_from_points(deltas), stats_from_points(running)
        assert (a.sum, a.rate, a.last) == (b.sum, b.rate, b.last)

    def test_attribute_sets_are_summed(self) -> None:
        """Levels of several attribute sets add up."""
        stats = stats_from_points([point(5, 100, route="a"), point(7, 101, route="b")])
        assert stats.last == 12

    def test_window(self) -> None:
        """A window keeps only recent points."""
        stats = stats_from_points([point(5, 100), point(7, 195)], window=10, now=200)
        assert stats.sum == 7

    def test_no_points(self) -> None:
        """No points give an empty Stats."""
        assert stats_from_points([]).empty


class TestSameAnswersAsTheService:
    def test_recorder_points_match_service_query(self) -> None:
        """Stats from the Recorder's measurements agree with the service's query of the same data."""
        from foundation_telemetry._config import configure
        from foundation_telemetry.service import TelemetryService

        now = [100.0]
        service = TelemetryService(clock=lambda: now[0])
        telemetry = configure("svc", exporter="memory", set_global=False, service=service)
        try:
            assert telemetry.recorder is not None
            meter = telemetry.meter_provider.get_meter("t")
            requests = meter.create_counter("requests")
            inflight = meter.create_up_down_counter("inflight")
            latency = meter.create_histogram("latency")
            for value in (3, 4, 5):
                requests.add(value, {"route": "/a"})
                inflight.add(1 if value != 4 else -1)
                latency.record(value / 10)
            now[0] += 10
            assert telemetry.force_flush()
            for name, fields in (
                ("requests", ("sum", "last")),
                ("inflight", ("sum", "last")),
                ("latency", ("count", "sum", "min", "max", "mean")),
            ):
                from_points = stats_from_points(telemetry.recorder.metric_points(name))
                queried = service.query(name)
                for field in fields:
                    assert from_points.get(field) == pytest.approx(queried.get(field)), (
                        name,
                        field,
                    )
        finally:
            telemetry.shutdown()


class TestStat:
    def test_computes_a_field_of_points(self) -> None:
        """`stat(name)` computes that aggregate of points, None while there are none."""
        p99 = stat("p99")
        assert p99([]) is None
        points = [point(v, 100 + v, kind="histogram") for v in range(1, 101)]
        assert p99(points) == pytest.approx(99.01)
        assert stat("rate")([point(5, 100), point(5, 110)]) == 1.0
        assert repr(stat("p95").__name__) == repr("stat('p95')")

    def test_unknown_name(self) -> None:
        """An unknown aggregate is refused at once."""
        with pytest.raises(ValueError, match="Unknown aggregate 'median'"):
            stat("median")

    def test_with_the_testing_api(self) -> None:
        """`stat()` plugs into wait_for_metric_threshold as its aggregate."""
        from foundation_telemetry._config import configure
        from foundation_telemetry.service import TelemetryService

        # A metric reader must be registered for the SDK to process (and the Recorder to see)
        # measurements; the service is one.
        telemetry = configure(
            "svc", exporter="memory", set_global=False, service=TelemetryService()
        )
        try:
            assert telemetry.recorder is not None
            latency = telemetry.meter_provider.get_meter("t").create_histogram("latency")
            for value in range(1, 101):
                latency.record(value / 100)
            reached = telemetry.recorder.wait_for_metric_threshold(
                "latency", 0.9, aggregate=stat("p99"), timeout=10
            ).wait()
            assert reached == pytest.approx(0.9901)
            by_name = telemetry.recorder.wait_for_metric_threshold(
                "latency", 0.9, aggregate="p99", timeout=10
            ).wait()
            assert by_name == reached
        finally:
            telemetry.shutdown()
