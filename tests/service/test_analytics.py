"""Analytics: signals, moving averages, windowed percentiles, trend and anomaly detection."""

from __future__ import annotations

import math

import pytest
from opentelemetry.metrics import Observation

from foundation_telemetry.service._analytics import (
    anomaly,
    moving_average,
    signal,
    trend,
    windowed_percentile,
)
from foundation_telemetry.service._stats import Sample

from .conftest import FakeClock, make_service


class TestSignal:
    def test_counter_rate(self) -> None:
        """A counter's signal is its per-interval rate."""
        samples = [Sample(0, 10, 1, 20, 20, 20, 20), Sample(10, 20, 1, 50, 70, 70, 70)]
        assert signal(samples, "counter") == [(10, 2.0), (20, 5.0)]

    def test_gauge_value_and_rate(self) -> None:
        """A gauge's signal is its value, or its change per second on request."""
        samples = [Sample(0, 10, 1, 4, 4, 4, 4), Sample(10, 20, 1, 9, 9, 9, 9)]
        assert signal(samples, "gauge") == [(10, 4), (20, 9)]
        assert signal(samples, "gauge", "rate") == [(20, 0.5)]

    def test_histogram_value_skips_empty_intervals(self) -> None:
        """Histogram intervals without measurements have no mean and are left out."""
        samples = [Sample(0, 1, 2, 3.0, 1.5, 1, 2), Sample(1, 2, 0, 0.0, math.nan, 0, 0)]
        assert signal(samples, "histogram") == [(1, 1.5)]


class TestMovingAverage:
    def test_trailing_window(self) -> None:
        """Each point averages the points within the span before it."""
        points = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]
        assert moving_average(points, 2.0) == [(0.0, 1.0), (1.0, 2.0), (2.0, 4.0), (3.0, 6.0)]


class TestWindowedPercentile:
    def test_trailing_window(self) -> None:
        """Each point gets the quantile of the values within the span."""
        points = [(float(t), float(v)) for t, v in enumerate([1, 9, 2, 8])]
        result = windowed_percentile(points, 0.5, 1.5)
        assert [v for _, v in result] == [1.0, 5.0, 5.5, 5.0]

    def test_bad_quantile(self) -> None:
        """A quantile outside (0, 1) is refused."""
        with pytest.raises(ValueError, match="between 0 and 1"):
            windowed_percentile([], 50, 1.0)


class TestTrend:
    def test_slope(self) -> None:
        """The slope is least-squares units per second."""
        assert trend([(0, 1), (10, 21), (20, 41)]) == pytest.approx(2.0)

    def test_too_few(self) -> None:
        """Fewer than two points have no trend."""
        assert math.isnan(trend([(0, 1)]))


class TestAnomaly:
    baseline = [10.0, 11.0, 9.0, 10.0, 10.5, 9.5]

    def points(self, last: float) -> list[tuple[float, float]]:
        return [(float(i), v) for i, v in enumerate([*self.baseline, last])]

    @pytest.mark.parametrize("method", ["zscore", "ewma"])
    def test_spike_detected(self, method: str) -> None:
        """A value far outside the baseline is an anomaly with a large positive score."""
        verdict = anomaly(self.points(30.0), method=method)  # type: ignore[arg-type]
        assert verdict.is_anomaly
        assert verdict.score > 3
        assert verdict.baseline == len(self.baseline)

    @pytest.mark.parametrize("method", ["zscore", "ewma"])
    def test_normal_value(self, method: str) -> None:
        """A value inside the baseline's spread is not an anomaly."""
        assert not anomaly(self.points(10.2), method=method).is_anomaly  # type: ignore[arg-type]

    def test_zscore_value(self) -> None:
        """The z-score uses the baseline mean and sample standard deviation."""
        verdict = anomaly([(0, 1.0), (1, 2.0), (2, 3.0), (3, 5.0)], min_points=3)
        assert verdict.expected == 2.0
        assert verdict.deviation == 1.0
        assert verdict.score == 3.0

    def test_small_baseline(self) -> None:
        """Too short a baseline never flags."""
        verdict = anomaly([(0, 1.0), (1, 100.0)])
        assert not verdict.is_anomaly
        assert math.isnan(verdict.score)

    def test_flat_baseline(self) -> None:
        """After a perfectly flat baseline, any change is an anomaly."""
        verdict = anomaly([(float(i), 5.0) for i in range(6)] + [(6.0, 5.1)])
        assert verdict.is_anomaly
        assert math.isinf(verdict.score)

    def test_unknown_method(self) -> None:
        """An unknown method is refused."""
        with pytest.raises(ValueError, match="Unknown anomaly method"):
            anomaly([], method="magic")  # type: ignore[arg-type]


class TestServiceAnalytics:
    def test_query_functions(self) -> None:
        """The service's analytics read the stored series on the service clock."""
        clock = FakeClock(0)
        service, provider = make_service(clock, resolution=1)
        try:
            gauge_value = [0.0]
            meter = provider.get_meter("t")
            meter.create_observable_gauge(
                "queue.depth", callbacks=[lambda _o: [Observation(gauge_value[0])]]
            )
            for step in range(10):
                clock.advance(10)
                gauge_value[0] = 5.0 + step * 2
                service.force_flush()
            assert service.trend("queue.depth") == pytest.approx(0.2)
            assert service.series("queue.depth")[-1] == (100.0, 23.0)
            assert service.moving_average("queue.depth", span=15)[-1] == (100.0, 22.0)
            assert service.windowed_percentile("queue.depth", 0.5, span=25)[-1] == (100.0, 21.0)
            assert not service.anomaly("queue.depth").is_anomaly
            clock.advance(10)
            gauge_value[0] = 500.0
            service.force_flush()
            assert service.anomaly("queue.depth").is_anomaly
            assert service.metrics() == ["queue.depth"]
        finally:
            provider.shutdown()
