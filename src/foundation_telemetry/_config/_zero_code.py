"""Zero-code entry points: ``opentelemetry-instrument`` configures through ``configure()``.

With ``OTEL_PYTHON_DISTRO=foundation_telemetry`` and ``OTEL_PYTHON_CONFIGURATOR=
foundation_telemetry``, the stock auto-instrumentation runner loads these two classes (declared
as ``opentelemetry_distro`` and ``opentelemetry_configurator`` entry points), so an unmodified
application gets our defaults, the defensive layer and bounded, quiet shutdown.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

from .._otel._internals import BaseConfigurator

__all__ = ["FoundationConfigurator", "FoundationDistro"]


class FoundationDistro(BaseDistro):  # type: ignore[misc]
    """The distro: OTLP for every signal unless the environment says otherwise."""

    def _configure(self, **kwargs: Any) -> None:
        for variable in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"):
            os.environ.setdefault(variable, "otlp")


_LOGGING_VARIABLE = "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"


class FoundationConfigurator(BaseConfigurator):
    """The configurator: builds the providers with :func:`foundation_telemetry.configure`.

    Like the SDK's configurator, it bridges stdlib ``logging`` into the log pipeline when
    ``OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true`` (or ``setup_logging_handler=True``
    is passed), through the defensive logging handler.
    """

    def _configure(self, **kwargs: Any) -> None:
        from ._configure import configure

        bridge = kwargs.get("setup_logging_handler")
        if bridge is None:
            bridge = os.environ.get(_LOGGING_VARIABLE, "false").strip().lower() == "true"
        configure(logging_bridge=bool(bridge))
