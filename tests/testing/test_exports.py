"""The public surface of foundation_telemetry.testing."""

from __future__ import annotations

import pytest

import foundation_telemetry.testing as testing
from _imports import imported_after
from _public_api import exports_tests

MODULE = "foundation_telemetry.testing"

OPEN = {
    "TelemetryQueries": "the mixin a record store subclasses to get the query API",
    "TelemetrySource": "the protocol such a store implements",
}


TestExports = exports_tests({MODULE: (True, OPEN)})


class TestSurface:
    def test_homes(self):
        """The testing vocabulary reports this module; the record types report recording."""
        for name in ("Wait", "Collector", "EventExpectation", "TelemetryQueries", "all_of"):
            assert getattr(testing, name).__module__ == MODULE
        assert testing.Collector.detach.__module__ == MODULE
        # The record types and the Recorder live in recording, which testing re-exports.
        assert testing.SpanRecord.__module__ == "foundation_telemetry.recording"

    def test_error_is_an_assertion_error(self):
        """TelemetryAssertionError is an AssertionError named where users import it."""
        assert issubclass(testing.TelemetryAssertionError, AssertionError)
        assert testing.TelemetryAssertionError.__module__ == MODULE

    def test_one_method_per_wait(self):
        """No wait_for_* free functions or _async twins are exported; the waits are methods."""
        assert not [name for name in testing.__all__ if name.startswith("wait_for")]
        methods = [name for name in dir(testing.TelemetryQueries) if name.startswith("wait_for")]
        assert methods == [
            "wait_for",
            "wait_for_agent_registration",
            "wait_for_connection_pool_ready",
            "wait_for_coordination_completion",
            "wait_for_metric_threshold",
            "wait_for_process_restart",
            "wait_for_resource_cleanup",
            "wait_for_service_ready",
        ]

    @pytest.mark.parametrize(
        "module",
        [
            "pytest",
            "requests",  # ~70 ms to import; only an OTLP/HTTP exporter needs it
        ],
    )
    def test_importing_does_not_import(self, module):
        """Importing the testing package (as the sink and the fixture do) leaves *module* alone."""
        assert imported_after("import foundation_telemetry.testing", module) == []


class TestDeprecatedFunctionForms:
    def test_old_function_form_still_blocks_and_warns(self, telemetry):
        """The function forms docs/taxonomy.md once showed still work, with a DeprecationWarning."""
        from foundation_telemetry.events import emit

        emit("foundation.coordination.completed", None, **{"session.id": "s-1"})
        with pytest.warns(DeprecationWarning, match=r"use telemetry\.wait_for_coordination"):
            record = testing.wait_for_coordination_completion(telemetry, "s-1", timeout=5)
        assert record.attributes["session.id"] == "s-1"

    def test_service_health_maps_to_service_ready_with_a_status(self, telemetry):
        """wait_for_service_health(t, name, status) is wait_for_service_ready(name, status=...)."""
        from foundation_telemetry.events import emit

        emit(
            "foundation.service.health_check",
            None,
            **{"service.name": "api", "status": "degraded"},
        )
        with pytest.warns(DeprecationWarning, match=r"wait_for_service_ready\(\.\.\.\)\.wait\(\)"):
            record = testing.wait_for_service_health(telemetry, "api", "degraded", timeout=5)
        assert record.attributes["status"] == "degraded"

    def test_unknown_names_still_raise(self):
        """Any other missing attribute is an AttributeError."""
        with pytest.raises(AttributeError, match="wait_for_metric_threshold_async"):
            _ = testing.wait_for_metric_threshold_async
