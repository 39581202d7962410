"""SQLAlchemyPoolInstrumentor against real SQLAlchemy pools over SQLite files.

Exhaustion is produced for real: a pool of one connection is held by the test while another
thread (or the test itself, with a tiny ``pool_timeout``) asks for a second one. Each test names
its pool after its temporary directory, because pools of earlier tests may be garbage collected
(and leave the totals) while a later test runs.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy.pool import NullPool

from foundation_telemetry import taxonomy
from foundation_telemetry.instrumentation import SQLAlchemyPoolInstrumentor
from foundation_telemetry.testing import TelemetryFixture

from .conftest import attrs, metric_sum

POOL = "db.client.connection.pool.name"


def _engine(path: Path, **options: Any) -> sqlalchemy.Engine:
    options.setdefault("pool_logging_name", path.name)
    return sqlalchemy.create_engine(f"sqlite:///{path / 'test.db'}", **options)


def _counts(telemetry: TelemetryFixture, path: Path) -> tuple[float, float]:
    """(used, idle) connections of the pool named after *path*."""
    return tuple(  # type: ignore[return-value]
        metric_sum(
            telemetry,
            "db.client.connection.count",
            {POOL: path.name, "db.client.connection.state": state},
        )
        for state in ("used", "idle")
    )


class TestConnections:
    def test_checkout_and_checkin_are_reported_with_the_pool_name(self, pools, tmp_path):
        """pool_created, connection_acquired and connection_released carry the pool's name."""
        engine = _engine(tmp_path)

        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))

        names = [event.name for event in pools.events("foundation.connection.*")]
        assert names == [
            taxonomy.CONNECTION_POOL_CREATED,
            taxonomy.CONNECTION_ACQUIRED,
            taxonomy.CONNECTION_RELEASED,
        ]
        acquired = pools.events(taxonomy.CONNECTION_ACQUIRED)[0]
        assert attrs(acquired, POOL, "connections.used") == {
            POOL: tmp_path.name,
            "connections.used": 1,
        }
        assert acquired.attributes["wait_time"] >= 0
        released = pools.events(taxonomy.CONNECTION_RELEASED)[0]
        assert released.attributes["connections.used"] == 0

    def test_the_pool_ready_wait_recognises_the_pool(self, pools, tmp_path):
        """wait_for_connection_pool_ready(name) returns once the pool was announced."""
        with _engine(tmp_path).connect():
            pass

        ready = pools.wait_for_connection_pool_ready(tmp_path.name).wait()
        assert ready.name == taxonomy.CONNECTION_POOL_CREATED

    def test_connection_count_by_state_follows_the_pool(self, pools, tmp_path):
        """``db.client.connection.count`` moves between idle and used as connections move."""
        engine = _engine(tmp_path, pool_size=2, max_overflow=0)

        first, second = engine.connect(), engine.connect()
        assert _counts(pools, tmp_path) == (2, 0)
        first.close()
        assert _counts(pools, tmp_path) == (1, 1)
        second.close()
        assert _counts(pools, tmp_path) == (0, 2)
        engine.dispose()
        assert _counts(pools, tmp_path) == (0, 0)

    def test_capacity_and_timing_metrics_are_recorded(self, pools, tmp_path):
        """max and idle.max come from the pool's size; create/wait/use times are recorded."""
        engine = _engine(tmp_path, pool_size=3, max_overflow=2)

        with engine.connect():
            pass

        assert metric_sum(pools, "db.client.connection.max", {POOL: tmp_path.name}) == 5
        assert metric_sum(pools, "db.client.connection.idle.max", {POOL: tmp_path.name}) == 3
        for name in ("create_time", "wait_time", "use_time"):
            (point,) = pools.metric_points(
                f"db.client.connection.{name}", attributes={POOL: tmp_path.name}
            )
            assert point.value >= 0
            assert point.unit == "s"

    def test_an_invalidated_connection_leaves_the_count_and_is_recreated(self, pools, tmp_path):
        """Invalidating a connection closes it; the next checkout opens (and times) a new one."""
        engine = _engine(tmp_path, pool_size=1, max_overflow=0)
        with engine.connect() as connection:
            connection.invalidate()
        assert _counts(pools, tmp_path) == (0, 0)

        with engine.connect():
            assert _counts(pools, tmp_path)[0] == 1

        created = pools.metric_points(
            "db.client.connection.create_time", attributes={POOL: tmp_path.name}
        )
        assert len(created) == 2

    def test_a_connection_left_to_the_garbage_collector_is_counted_back(self, pools, tmp_path):
        """SQLAlchemy returns an unclosed connection from a finalizer; the counts follow it."""
        engine = _engine(tmp_path, pool_size=1, max_overflow=0)
        forgotten = engine.connect()
        assert _counts(pools, tmp_path) == (1, 0)

        del forgotten
        gc.collect()

        assert _counts(pools, tmp_path) == (0, 1)
        assert len(pools.events(taxonomy.CONNECTION_RELEASED)) == 1

    def test_a_pool_without_a_size_reports_no_capacity(self, pools, tmp_path):
        """NullPool has no fixed size: connections are reported, capacity is not."""
        engine = _engine(tmp_path, poolclass=NullPool, pool_logging_name="unpooled")

        with engine.connect():
            pass

        assert pools.metric_points("db.client.connection.max", attributes={POOL: "unpooled"}) == []
        (created,) = pools.events(taxonomy.CONNECTION_POOL_CREATED)
        assert created.attributes[POOL] == "unpooled"

    def test_pools_without_a_logging_name_get_a_generated_one(self, pools, tmp_path):
        """An engine without ``pool_logging_name`` is named after its dialect."""
        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'anonymous.db'}")

        with engine.connect():
            pass

        (created,) = pools.events(taxonomy.CONNECTION_POOL_CREATED)
        assert created.attributes[POOL].startswith("sqlite-")

    def test_a_disposed_and_collected_pool_leaves_the_totals(self, pools, tmp_path):
        """Once a replaced pool is garbage collected its capacity is subtracted again."""
        engine = _engine(tmp_path, pool_size=2, max_overflow=0)
        with engine.connect():
            pass
        engine.dispose()
        gc.collect()
        with engine.connect():
            pass
        # dispose() replaced the pool; the old one was collected and settled on this checkout.
        assert metric_sum(pools, "db.client.connection.max", {POOL: tmp_path.name}) == 2

        engine.dispose()
        del engine
        gc.collect()
        # The books are settled on the next pool activity, never inside the garbage collector.
        with _engine(tmp_path, pool_logging_name="another").connect():
            pass

        assert metric_sum(pools, "db.client.connection.max", {POOL: tmp_path.name}) == 0


class TestExhaustion:
    def test_a_timeout_is_counted_and_reported_as_a_failed_connection(self, pools, tmp_path):
        """With every connection held, a request times out: timeouts +1, connection_failed."""
        engine = _engine(tmp_path, pool_size=1, max_overflow=0, pool_timeout=0.01)
        held = engine.connect()

        with pytest.raises(sqlalchemy.exc.TimeoutError):
            engine.connect()

        (failed,) = pools.events(taxonomy.CONNECTION_FAILED)
        assert attrs(failed, POOL, "error.type") == {
            POOL: tmp_path.name,
            "error.type": "sqlalchemy.exc.TimeoutError",
        }
        assert metric_sum(pools, "db.client.connection.timeouts", {POOL: tmp_path.name}) == 1
        assert (
            metric_sum(pools, "db.client.connection.pending_requests", {POOL: tmp_path.name}) == 0
        )
        (exhausted,) = pools.events(taxonomy.RESOURCE_EXHAUSTED)
        assert attrs(exhausted, "in_use", "capacity") == {"in_use": 1, "capacity": 1}
        held.close()

    def test_pool_health_goes_unhealthy_when_full_and_back_when_a_connection_returns(
        self, pools, tmp_path
    ):
        """pool_health reports the transitions: exhausted (healthy=False), then recovered."""
        engine = _engine(tmp_path, pool_size=1, max_overflow=0, pool_timeout=0.01)
        held = engine.connect()
        with pytest.raises(sqlalchemy.exc.TimeoutError):
            engine.connect()
        with pytest.raises(sqlalchemy.exc.TimeoutError):
            engine.connect()
        held.close()

        health = pools.events(taxonomy.CONNECTION_POOL_HEALTH)
        assert [attrs(event, "healthy", "connections.used") for event in health] == [
            {"healthy": False, "connections.used": 1},
            {"healthy": True, "connections.used": 0},
        ]
        assert len(pools.events(taxonomy.RESOURCE_EXHAUSTED)) == 2

    def test_a_waiting_request_is_pending_until_a_connection_returns(self, pools, tmp_path):
        """A second thread waits in the pool (pending_requests = 1) until the test lets go."""
        engine = _engine(tmp_path, pool_size=1, max_overflow=0, pool_timeout=30)
        held = engine.connect()
        exhausted = pools.attach_collector(taxonomy.RESOURCE_EXHAUSTED)
        acquired = threading.Event()

        def wait_for_a_connection() -> None:
            with engine.connect():
                acquired.set()

        waiter = threading.Thread(target=wait_for_a_connection)
        waiter.start()
        exhausted.wait()
        assert (
            metric_sum(pools, "db.client.connection.pending_requests", {POOL: tmp_path.name}) == 1
        )
        assert not acquired.is_set()

        held.close()
        waiter.join(timeout=30)

        assert acquired.is_set()
        assert (
            metric_sum(pools, "db.client.connection.pending_requests", {POOL: tmp_path.name}) == 0
        )
        assert len(pools.events(taxonomy.CONNECTION_ACQUIRED)) == 2
        # Handed straight to the waiter, the first checkin did not count as a recovery.
        health = pools.events(taxonomy.CONNECTION_POOL_HEALTH)
        assert [event.attributes["healthy"] for event in health] == [False, True]
        assert health[1].attributes["connections.used"] == 0


class TestConcurrency:
    def test_the_books_balance_after_many_threads_share_a_pool(self, pools, tmp_path):
        """After concurrent checkouts every connection is idle again and nothing is pending."""
        engine = _engine(tmp_path, pool_size=2, max_overflow=1, pool_timeout=60)
        threads, rounds = 6, 20
        start = threading.Barrier(threads)

        def run() -> None:
            start.wait()
            for _ in range(rounds):
                with engine.connect() as connection:
                    connection.execute(sqlalchemy.text("SELECT 1"))

        workers = [threading.Thread(target=run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)

        used, idle = _counts(pools, tmp_path)
        assert used == 0
        assert 1 <= idle <= 3
        assert (
            metric_sum(pools, "db.client.connection.pending_requests", {POOL: tmp_path.name}) == 0
        )
        acquired = pools.events(taxonomy.CONNECTION_ACQUIRED, attributes={POOL: tmp_path.name})
        assert len(acquired) == threads * rounds


class TestHistogramBuckets:
    def test_time_histograms_use_the_advised_second_buckets(self, tmp_path):
        """create/wait/use time histograms are bucketed in seconds as semconv advises."""
        reader = InMemoryMetricReader()
        instrumentor = SQLAlchemyPoolInstrumentor()
        instrumentor.instrument(meter_provider=MeterProvider(metric_readers=[reader]))
        try:
            with _engine(tmp_path).connect():
                pass
        finally:
            instrumentor.uninstrument()

        data = reader.get_metrics_data()
        assert data is not None
        bounds = {
            metric.name: tuple(metric.data.data_points[0].explicit_bounds)
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name.endswith("_time")
        }
        advised = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)
        assert bounds == {
            "db.client.connection.create_time": advised,
            "db.client.connection.wait_time": advised,
            "db.client.connection.use_time": advised,
        }
