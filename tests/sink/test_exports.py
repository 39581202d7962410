"""The public surface of foundation_telemetry.sink: sorted, public homes, final."""

from __future__ import annotations

from _public_api import exports_tests

# sink/_ingest.py belongs to branch h17-sink this round; SinkStats becomes @final there.
TestExports = exports_tests(
    {"foundation_telemetry.sink": (True, {"SinkStats": "pending: mark @final in sink/_ingest.py"})}
)
