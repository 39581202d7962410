"""wait_for_metric_threshold: aggregates, temporality independence, failures."""

from __future__ import annotations

import asyncio
import threading

import pytest
from opentelemetry import metrics

from foundation_telemetry.recording._records import MetricPoint
from foundation_telemetry.testing import TelemetryAssertionError, aggregate_points

meter = metrics.get_meter("tests.testing.metrics")  # module level: bound before the fixture ran
requests = meter.create_counter("http.requests")
latency = meter.create_histogram("http.latency", unit="ms")
queue = meter.create_up_down_counter("queue.depth")


def point(value, timestamp, temporality=None, count=1, **attributes):
    return MetricPoint("m", attributes, value, timestamp, temporality=temporality, count=count)


class TestAggregatePoints:
    @pytest.mark.parametrize(
        ("aggregate", "expected"),
        [("sum", 10), ("count", 4), ("last", 4), ("min", 1), ("max", 4), ("mean", 2.5)],
    )
    def test_raw_measurements(self, aggregate, expected):
        """Raw measurements fold one by one."""
        points = [point(v, t) for t, v in enumerate([1, 2, 3, 4])]
        assert aggregate_points(points, aggregate) == expected

    def test_cumulative_points_use_the_latest_per_stream(self):
        """Cumulative points count with the latest point of each attribute set."""
        points = [
            point(5, 1, "cumulative", count=2, route="/a"),
            point(9, 2, "cumulative", count=3, route="/a"),
            point(4, 3, "cumulative", count=1, route="/b"),
        ]
        assert aggregate_points(points, "sum") == 13
        assert aggregate_points(points, "count") == 4

    def test_delta_points_add_up(self):
        """Delta points are summed, whatever their stream."""
        points = [point(5, 1, "delta", route="/a"), point(4, 2, "delta", route="/a")]
        assert aggregate_points(points, "sum") == 9

    def test_nothing_is_none_and_callables_plug_in(self):
        """No points is None; a callable aggregate gets the points."""
        assert aggregate_points([], "sum") is None
        assert aggregate_points([point(3, 1), point(5, 2)], lambda ps: ps[-1].value * 2) == 10


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
        assert (
            telemetry.wait_for_metric_threshold("http.requests", 3, attributes={"route": "/a"}) == 3
        )
        worker.join()

    def test_measurements_before_the_call_count(self, telemetry):
        """Measurements recorded earlier in the test count (it starts at the test's start)."""
        latency.record(10)
        latency.record(30)
        assert telemetry.wait_for_metric_threshold("http.latency", 20, aggregate="mean") == 20

    def test_predicate_threshold(self, telemetry):
        """A non-numeric threshold is a matcher on the aggregate (e.g. going down)."""
        queue.add(3)
        queue.add(-3)
        assert (
            telemetry.wait_for_metric_threshold("queue.depth", lambda v: v <= 0, aggregate="sum")
            == 0
        )

    def test_timeout_explains_where_it_got(self, telemetry):
        """A timeout says the current aggregate and lists the points."""
        requests.add(2, {"route": "/b"})
        with pytest.raises(TelemetryAssertionError) as caught:
            telemetry.wait_for_metric_threshold(
                "http.requests", 5, attributes={"route": "/b"}, timeout=0.05
            )
        message = str(caught.value)
        assert message.startswith(
            "metric 'http.requests' with {'route': '/b'} did not reach sum >= 5 within 0.05s: "
            "it is 2 over 1 point(s)."
        )
        assert "metric 'http.requests' {'route': '/b'} value=2" in message

    def test_no_points_never_returns_none(self, telemetry):
        """With no points at all the wait fails instead of returning None."""
        with pytest.raises(TelemetryAssertionError, match="no matching points over 0 point"):
            telemetry.wait_for_metric_threshold("never.recorded", 1, timeout=0.05)

    def test_bad_aggregate(self, telemetry):
        """An unknown aggregate name is a clear error."""
        with pytest.raises(ValueError, match="`aggregate` must be one of sum, count"):
            telemetry.wait_for_metric_threshold("x", 1, aggregate="p99")

    async def test_async_variant(self, telemetry):
        """The async form waits for a task's measurements without blocking the loop."""
        go = asyncio.Event()

        async def produce():
            await go.wait()
            requests.add(5, {"route": "/async"})

        task = asyncio.create_task(produce())
        go.set()
        value = await telemetry.wait_for_metric_threshold_async(
            "http.requests", 5, attributes={"route": "/async"}
        )
        await task
        assert value == 5
