"""wait_for_metric_threshold: aggregates, temporality independence, failures."""

from __future__ import annotations

import asyncio
import threading

import pytest
from opentelemetry import metrics

from foundation_telemetry import service, testing
from foundation_telemetry.recording import MetricPoint
from foundation_telemetry.recording._aggregates import aggregate_points
from foundation_telemetry.testing import AGGREGATES, TelemetryAssertionError

meter = metrics.get_meter("tests.testing.metrics")  # module level: bound before the fixture ran
requests = meter.create_counter("http.requests")
latency = meter.create_histogram("http.latency", unit="ms")
queue = meter.create_up_down_counter("queue.depth")


def point(value, timestamp, temporality=None, count=1, kind="counter", **attributes):
    return MetricPoint(
        "m", attributes, value, timestamp, kind, temporality=temporality, count=count
    )


def measurements(kind, values):
    return [point(v, (t + 1) * 1_000_000_000, kind=kind) for t, v in enumerate(values)]


class TestAggregatePoints:
    @pytest.mark.parametrize(
        ("aggregate", "expected"),
        [("sum", 10), ("count", 4), ("last", 10), ("min", 1), ("max", 10), ("mean", 5)],
    )
    def test_counter_measurements_are_read_as_a_running_total(self, aggregate, expected):
        """On a counter, sum and count add the measurements; last/min/max/mean read the total."""
        assert aggregate_points(measurements("counter", [1, 2, 3, 4]), aggregate) == expected

    @pytest.mark.parametrize(
        ("aggregate", "expected"),
        [
            ("sum", 10),
            ("count", 4),
            ("last", 4),
            ("min", 1),
            ("max", 4),
            ("mean", 2.5),
            ("p50", 2.5),
            ("rate", 4 / 3),
        ],
    )
    def test_histogram_measurements_are_read_one_by_one(self, aggregate, expected):
        """On a histogram every aggregate is over the recorded values; rate is per second."""
        points = measurements("histogram", [1, 2, 3, 4])
        assert aggregate_points(points, aggregate) == pytest.approx(expected)

    def test_cumulative_points_are_differenced_per_stream(self):
        """Cumulative points count with their increase per attribute set."""
        counters = [
            point(5, 1, "cumulative", route="/a"),
            point(9, 2, "cumulative", route="/a"),
            point(4, 3, "cumulative", route="/b"),
        ]
        assert aggregate_points(counters, "sum") == 13
        histograms = [
            point(5, 1, "cumulative", count=2, kind="histogram", route="/a"),
            point(9, 2, "cumulative", count=3, kind="histogram", route="/a"),
            point(4, 3, "cumulative", count=1, kind="histogram", route="/b"),
        ]
        assert aggregate_points(histograms, "count") == 4

    def test_delta_points_add_up(self):
        """Delta points are summed, whatever their stream."""
        points = [point(5, 1, "delta", route="/a"), point(4, 2, "delta", route="/a")]
        assert aggregate_points(points, "sum") == 9

    def test_nothing_is_none_and_callables_plug_in(self):
        """No points is None; a callable aggregate gets the points."""
        assert aggregate_points([], "sum") is None
        assert aggregate_points([point(3, 1), point(5, 2)], lambda ps: ps[-1].value * 2) == 10

    @pytest.mark.parametrize("aggregate", [*AGGREGATES, "p95", "p99.9"])
    @pytest.mark.parametrize("kind", ["counter", "updowncounter", "gauge", "histogram"])
    def test_the_service_folds_the_same_way(self, aggregate, kind):
        """Every aggregate name means for a metric wait what it means for the service."""
        points = measurements(kind, [4, 1, 7, 2, 9])
        expected = service.stats_from_points(points).get(aggregate)
        assert aggregate_points(points, aggregate) == pytest.approx(expected, nan_ok=True)

    def test_one_list_of_aggregate_names(self):
        """testing and service export the same AGGREGATES."""
        assert testing.AGGREGATES is service.AGGREGATES
        assert {"sum", "count", "rate", "last", "ewma", "p99"} <= set(AGGREGATES)


class TestWaitForMetricThreshold:
    def test_module_level_counter_from_a_thread(self, telemetry):
        """A module-level counter incremented on a worker thread reaches the threshold."""
        go = threading.Event()

        def work():
            go.wait()
            for _ in range(3):
                requests.add(1, {"route": "/a"})

        worker = threading.Thread(target=work)
        worker.start()
        go.set()
        reached = telemetry.wait_for_metric_threshold(
            "http.requests", 3, attributes={"route": "/a"}
        )
        assert reached.wait() == 3
        worker.join()

    def test_measurements_before_the_call_count(self, telemetry):
        """Measurements recorded earlier in the test count (it starts at the test's start)."""
        latency.record(10)
        latency.record(30)
        assert (
            telemetry.wait_for_metric_threshold("http.latency", 20, aggregate="mean").wait() == 20
        )

    def test_predicate_threshold(self, telemetry):
        """A non-numeric threshold is a matcher on the aggregate (e.g. going down)."""
        queue.add(3)
        queue.add(-3)
        drained = telemetry.wait_for_metric_threshold("queue.depth", lambda v: v <= 0)
        assert drained.wait() == 0

    def test_timeout_explains_where_it_got(self, telemetry):
        """A timeout says the current aggregate and lists the points."""
        requests.add(2, {"route": "/b"})
        with pytest.raises(TelemetryAssertionError) as caught:
            telemetry.wait_for_metric_threshold(
                "http.requests", 5, attributes={"route": "/b"}, timeout=0.05
            ).wait()
        message = str(caught.value)
        assert message.startswith(
            "metric 'http.requests' with {'route': '/b'} did not reach sum >= 5 within 0.05s: "
            "it is 2.0 over 1 point(s)."
        )
        assert "metric 'http.requests' {'route': '/b'} value=2" in message

    def test_no_points_never_returns_none(self, telemetry):
        """With no points at all the wait fails instead of returning None."""
        with pytest.raises(TelemetryAssertionError, match="no matching points over 0 point"):
            telemetry.wait_for_metric_threshold("never.recorded", 1, timeout=0.05).wait()

    def test_bad_aggregate(self, telemetry):
        """An unknown aggregate name is a clear error at the call, naming the accepted ones."""
        with pytest.raises(ValueError, match=r"`aggregate` must be one of count, sum, rate, .*p99"):
            telemetry.wait_for_metric_threshold("x", 1, aggregate="median")
        with pytest.raises(TypeError, match="`aggregate` must be one of"):
            telemetry.wait_for_metric_threshold("x", 1, aggregate=3)

    def test_percentile_and_level_aggregates(self, telemetry):
        """Any service aggregate works: a p99 over a histogram, the level of an up-down counter."""
        for value in range(1, 101):
            latency.record(value, {"route": "/p"})
        p99 = telemetry.wait_for_metric_threshold(
            "http.latency", 99, aggregate="p99", attributes={"route": "/p"}
        )
        assert p99.wait() == pytest.approx(99.01)
        queue.add(5, {"q": "level"})
        queue.add(-2, {"q": "level"})
        depth = telemetry.wait_for_metric_threshold(
            "queue.depth", 3, aggregate="last", attributes={"q": "level"}
        )
        assert depth.wait() == 3

    async def test_awaited(self, telemetry):
        """Awaited, the wait sees a task's measurements: the event loop is never blocked."""
        go = asyncio.Event()

        async def produce():
            await go.wait()
            requests.add(5, {"route": "/async"})

        task = asyncio.create_task(produce())
        go.set()
        value = await telemetry.wait_for_metric_threshold(
            "http.requests", 5, attributes={"route": "/async"}
        )
        await task
        assert value == 5
