"""foundation-telemetry: an OpenTelemetry SDK extension you can trust in production and assert on in tests."""

from __future__ import annotations

import typing

from ._config._configure import Telemetry as Telemetry
from ._config._configure import configure as configure
from ._config._configure import current as current
from ._config._configure import force_flush as force_flush
from ._config._configure import shutdown as shutdown
from ._config._harden import harden as harden
from ._exports import fixup_module_metadata as _fixup_module_metadata
from .correlation import caused_by as caused_by
from .correlation import correlated as correlated
from .correlation import correlation_id as correlation_id
from .defensive._ledger import SkipReason as SkipReason
from .defensive._ledger import available as available
from .defensive._ledger import health as health
from .events import emit as emit
from .events import instrument as instrument
from .events import span as span
from .handlers import attach as attach
from .handlers import attach_many as attach_many
from .handlers import detach as detach
from .lifecycle import ServiceLifecycle as ServiceLifecycle
from .lifecycle import service_lifecycle as service_lifecycle
from .metrics import counter as counter
from .metrics import gauge as gauge
from .metrics import histogram as histogram
from .metrics import summary as summary

# ``handlers`` is the module foundation_telemetry.handlers, which is callable (``ft.handlers()``
# returns the attached handlers); type checkers see the function it calls.
if typing.TYPE_CHECKING:
    from .handlers import handlers as handlers
else:
    from . import handlers as handlers

__all__ = [
    "ServiceLifecycle",
    "SkipReason",
    "Telemetry",
    "attach",
    "attach_many",
    "available",
    "caused_by",
    "configure",
    "correlated",
    "correlation_id",
    "counter",
    "current",
    "detach",
    "emit",
    "force_flush",
    "gauge",
    "handlers",
    "harden",
    "health",
    "histogram",
    "instrument",
    "service_lifecycle",
    "shutdown",
    "span",
    "summary",
]

_fixup_module_metadata(__name__, globals())
