"""foundation-telemetry: an OpenTelemetry SDK extension you can trust in production and assert on in tests."""

from __future__ import annotations

from ._config import Telemetry as Telemetry
from ._config import configure as configure
from ._config import current as current
from ._config import force_flush as force_flush
from ._config import shutdown as shutdown
from ._health import SkipReason as SkipReason
from .lifecycle import ServiceLifecycle as ServiceLifecycle
from .lifecycle import service_lifecycle as service_lifecycle

__all__ = [
    "ServiceLifecycle",
    "SkipReason",
    "Telemetry",
    "configure",
    "current",
    "force_flush",
    "service_lifecycle",
    "shutdown",
]
