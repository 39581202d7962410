"""foundation-telemetry: an OpenTelemetry SDK extension you can trust in production and assert on in tests."""

from __future__ import annotations

from ._health import SkipReason as SkipReason
from .lifecycle import ServiceLifecycle as ServiceLifecycle
from .lifecycle import service_lifecycle as service_lifecycle

__all__ = [
    "ServiceLifecycle",
    "SkipReason",
    "service_lifecycle",
]
