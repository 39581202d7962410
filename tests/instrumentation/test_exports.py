"""The public instrumentation modules: sorted `__all__`, public homes, final instrumentors."""

from __future__ import annotations

from _public_api import exports_tests

TestExports = exports_tests(
    {
        "foundation_telemetry.instrumentation": (True, {}),
        "foundation_telemetry.instrumentation.tenacity": (False, {}),
        "foundation_telemetry.instrumentation.pybreaker": (False, {}),
        "foundation_telemetry.instrumentation.sqlalchemy_pool": (False, {}),
    }
)
