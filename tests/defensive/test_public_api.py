"""The public surface of ``foundation_telemetry.defensive``."""

from __future__ import annotations

import pytest

from foundation_telemetry import defensive

WRAPPERS = [
    defensive.DefensiveSpanProcessor,
    defensive.DefensiveSpanExporter,
    defensive.DefensiveMetricReader,
    defensive.DefensiveMetricExporter,
    defensive.DefensiveLogRecordProcessor,
    defensive.DefensiveLogExporter,
    defensive.DefensiveLoggingHandler,
]


class TestPublicAPI:
    def test_all(self) -> None:
        """``__all__`` lists exactly the public names."""
        assert sorted(defensive.__all__) == sorted(
            [
                "SKIPPED_METRIC",
                "DefensiveLogExporter",
                "DefensiveLogRecordProcessor",
                "DefensiveLoggingHandler",
                "DefensiveMetricExporter",
                "DefensiveMetricReader",
                "DefensiveSpanExporter",
                "DefensiveSpanProcessor",
                "SkipReason",
                "available",
                "classify",
                "debug_enabled",
                "flush_all",
                "health",
                "register_for_exit",
                "register_health_source",
                "set_debug",
                "set_shutdown_timeout",
                "shutdown_all",
                "skipped",
            ]
        )

    @pytest.mark.parametrize("cls", WRAPPERS, ids=lambda cls: cls.__name__)
    def test_wrappers_are_final(self, cls: type) -> None:
        """The wrappers are final: one concern each, composed rather than subclassed."""
        assert getattr(cls, "__final__", False) is True

    def test_skip_reasons(self) -> None:
        """Every reason the design names exists."""
        names = {reason.name for reason in defensive.SkipReason}
        assert {
            "BACKEND_UNAVAILABLE",
            "SHUTDOWN",
            "INTERPRETER_FINALIZING",
            "RESOURCE_CLOSED",
            "SYSTEM_LIMIT",
            "CONTRACT_VIOLATION",
            "TIMEOUT",
            "UNEXPECTED",
        } <= names
