"""The ``otlp`` package exports exactly its public names, from its public home."""

from __future__ import annotations

from _public_api import exports_tests

PUBLIC = {
    # module: (only re-exports?, open classes with the reason they may be subclassed)
    "foundation_telemetry.otlp": (
        True,
        {"EncodingCounts": "a TypedDict describing a dict, never instantiated"},
    ),
}

TestPublicModules = exports_tests(PUBLIC)
