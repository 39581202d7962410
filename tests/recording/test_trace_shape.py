"""expect_trace: span trees, unordered and ordered siblings, and the side-by-side drawing."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from foundation_telemetry.testing import TelemetryAssertionError

tracer = trace.get_tracer("tests.testing.trace_shape")


def checkout():
    with tracer.start_as_current_span("checkout", attributes={"order.id": 7}):
        with tracer.start_as_current_span("db.query"):
            pass
        with (
            tracer.start_as_current_span("payment.charge"),
            tracer.start_as_current_span("http.post"),
        ):
            pass


class TestExpectTrace:
    def test_unordered_children(self, telemetry):
        """Siblings may be listed in any order by default."""
        with telemetry.expect_trace(
            ("checkout", {"order.id": 7}, [("payment.charge", ["http.post"]), ("db.query", [])])
        ) as seen:
            checkout()
        assert seen.record.name == "checkout"

    def test_ordered_children(self, telemetry):
        """With ordered=True, siblings must start in the listed order."""
        with (
            pytest.raises(TelemetryAssertionError, match="No ordered span tree matched"),
            telemetry.expect_trace(
                ("checkout", ["payment.charge", "db.query"]), ordered=True, timeout=0.05
            ),
        ):
            checkout()

    def test_extra_children_need_ellipsis(self, telemetry):
        """Unlisted children fail the match unless the list has `...`."""
        with telemetry.expect_trace(("checkout", ["db.query", ...])):
            checkout()
        with (
            pytest.raises(TelemetryAssertionError),
            telemetry.expect_trace(("checkout", ["db.query"]), timeout=0.05),
        ):
            checkout()

    def test_failure_draws_both_trees(self, telemetry):
        """The failure shows the expected tree next to the received one."""
        with (
            pytest.raises(TelemetryAssertionError) as caught,
            telemetry.expect_trace({"name": "checkout", "children": ["refund"]}, timeout=0.05),
        ):
            checkout()
        lines = str(caught.value).splitlines()
        assert lines[0] == "No span tree matched the expected shape within 0.05s."
        assert lines[1].split() == ["Expected:", "Received:"]
        assert lines[2].split() == ["'checkout'", "checkout"]
        assert lines[3].split() == ["'refund'", "db.query"]
        assert lines[4].split() == ["payment.charge"]
        assert lines[5].split() == ["http.post"]

    def test_bad_shape(self, telemetry):
        """A shape of the wrong type is a clear error."""
        with pytest.raises(TypeError, match="children of 'a' must be a list"):
            telemetry.expect_trace(("a", "b"))
        with pytest.raises(ValueError, match="needs 'name'"):
            telemetry.expect_trace({"children": []})
