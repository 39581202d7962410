"""foundation-telemetry: an OpenTelemetry SDK extension you can trust in production and assert on in tests."""

from __future__ import annotations

from ._health import SkipReason as SkipReason

__all__ = [
    "SkipReason",
]
