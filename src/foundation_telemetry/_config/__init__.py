"""``configure()`` and the ``Telemetry`` it returns: settings, pipelines, exporters and globals.

``_settings`` resolves arguments and ``OTEL_*`` variables, ``_exporters`` builds the stock
exporters, ``_pipelines`` puts every component behind the defensive layer, ``_globals`` holds
the rebinding global providers and ``_zero_code`` the ``opentelemetry-instrument`` entry points.
"""

from __future__ import annotations

from ._configure import Telemetry as Telemetry
from ._configure import configure as configure
from ._configure import current as current
from ._configure import force_flush as force_flush
from ._configure import shutdown as shutdown
from ._harden import harden as harden

__all__ = ["Telemetry", "configure", "current", "force_flush", "harden", "shutdown"]
