"""counter/gauge/histogram/summary helpers: validation, caching and never-raising recording."""

from __future__ import annotations

import math

import pytest

from foundation_telemetry.defensive import SkipReason, skipped
from foundation_telemetry.metrics import Summary, counter, gauge, histogram, summary


def _invalid() -> int:
    return skipped("metrics", SkipReason.INVALID_INPUT)


class TestInstruments:
    def test_counter_with_attributes(self, pipeline):
        """Counter increments are exported per attribute set; keywords and mappings combine."""
        requests = counter("test.requests", unit="{request}", description="served")
        requests.add(1, route="/a")
        requests.add(2, {"http.route": "/b"})
        requests.add()
        points = {
            tuple(sorted(p.attributes.items())): p.value
            for p in pipeline.metric_points("test.requests")
        }
        assert points == {(("route", "/a"),): 1, (("http.route", "/b"),): 2, (): 1}

    def test_gauge(self, pipeline):
        """A gauge exports the last value set."""
        depth = gauge("test.queue.depth")
        depth.set(3)
        depth.set(5)
        assert [p.value for p in pipeline.metric_points("test.queue.depth")] == [5]

    def test_histogram_with_boundaries(self, pipeline):
        """Histogram boundaries are passed as the advisory bucket boundaries."""
        sizes = histogram("test.sizes", unit="By", boundaries=[10, 100])
        for value in (5, 50, 500):
            sizes.record(value)
        (point,) = pipeline.metric_points("test.sizes")
        assert list(point.explicit_bounds) == [10.0, 100.0]
        assert list(point.bucket_counts) == [1, 1, 1]

    def test_summary_is_a_histogram(self, pipeline):
        """summary() records like a histogram (quantiles are the TelemetryService's job)."""
        latency = summary("test.latency", unit="s")
        assert isinstance(latency, Summary)
        latency.record(0.25)
        assert pipeline.metric_points("test.latency")[0].sum == 0.25

    def test_cached_by_name(self):
        """Calling the helper again returns the same instrument."""
        assert counter("test.cached") is counter("test.cached")

    def test_unit_conflict(self):
        """The same name with another unit is a clear ValueError."""
        counter("test.unit", unit="s")
        with pytest.raises(ValueError, match="already exists with unit"):
            counter("test.unit", unit="ms")

    @pytest.mark.parametrize("name", ["", "1abc", "has space", "x" * 300, 3])
    def test_invalid_names(self, name):
        """Names breaking OpenTelemetry rules are rejected with the rule in the message."""
        with pytest.raises(ValueError, match="start with a letter"):
            counter(name)

    def test_invalid_unit(self):
        """A non-ASCII unit is rejected."""
        with pytest.raises(ValueError, match="unit"):
            histogram("test.bad.unit", unit="µs")

    @pytest.mark.parametrize(
        ("unit", "code"),
        [("milliseconds", "ms"), ("Seconds", "s"), ("bytes", "By"), ("percent", "%")],
    )
    def test_spelled_out_unit_names_its_ucum_code(self, unit, code):
        """`unit="milliseconds"` is refused at once with the UCUM code to use instead."""
        with pytest.raises(ValueError, match="not words") as raised:
            histogram(f"test.word.{unit.lower()}", unit=unit)
        assert str(raised.value) == (
            f"Invalid unit {unit!r}: units are UCUM codes, not words; use {code!r} "
            "(e.g. 's', 'ms', 'By', '1', '{request}')."
        )

    @pytest.mark.parametrize(
        "unit", ["s", "ms", "us", "min", "h", "By", "kBy", "1", "{request}", "%"]
    )
    def test_ucum_codes_pass(self, unit):
        """The UCUM codes themselves (some look like words) are accepted."""
        assert (
            histogram(f"test.ucum.{len(unit)}.{unit.strip('{}%') or 'pct'}", unit=unit).unit == unit
        )

    def test_invalid_boundaries(self):
        """Unsorted boundaries are rejected."""
        with pytest.raises(ValueError, match="increasing"):
            histogram("test.bad.bounds", boundaries=[2, 1])


class TestRecordingNeverRaises:
    @pytest.mark.parametrize("value", [math.nan, math.inf, -1, "3", None, True])
    def test_bad_counter_values_are_counted(self, pipeline, value):
        """Values a counter cannot take are dropped and counted, never raised."""
        before = _invalid()
        counter("test.bad.values").add(value)  # type: ignore[arg-type]
        assert _invalid() == before + 1
        assert pipeline.metric_points("test.bad.values") == []

    def test_gauge_accepts_negative(self, pipeline):
        """Negative values are fine for a gauge."""
        gauge("test.temperature", unit="Cel").set(-4.5)
        assert pipeline.metric_points("test.temperature")[0].value == -4.5

    def test_bad_attribute_dropped_measurement_kept(self, pipeline):
        """A bad attribute value is dropped; the measurement is still recorded."""
        before = _invalid()
        counter("test.attr").add(1, good="x", bad=math.nan)
        assert [dict(p.attributes) for p in pipeline.metric_points("test.attr")] == [{"good": "x"}]
        assert _invalid() == before + 1
