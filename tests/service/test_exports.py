"""The public surface of foundation_telemetry.service: sorted, public homes, final."""

from __future__ import annotations

import foundation_telemetry.service as service
from _public_api import exports_tests

TestExports = exports_tests({"foundation_telemetry.service": (True, {})})


def test_stats_reports_the_service():
    """Stats, folded in recording, is public from (and reports) foundation_telemetry.service."""
    assert service.Stats.__module__ == "foundation_telemetry.service"
