"""The public surface of foundation_telemetry.defensive: sorted, public homes, final."""

from __future__ import annotations

from _public_api import exports_tests

# SkipReason is an enum, final by nature; every wrapper is @final.
TestExports = exports_tests({"foundation_telemetry.defensive": (True, {})})
