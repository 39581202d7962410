"""Zero-code configuration: ``opentelemetry-instrument`` configures through ``configure()``.

With ``OTEL_PYTHON_DISTRO=foundation_telemetry`` and ``OTEL_PYTHON_CONFIGURATOR=
foundation_telemetry``, the light entry points in ``foundation_telemetry_zero_code`` (the
``opentelemetry_distro`` and ``opentelemetry_configurator``) hand over to this configurator, so
an unmodified application gets our defaults, the defensive layer and bounded, quiet shutdown.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

from .._otel._internals import BaseConfigurator
from ..defensive._debug import LOGGER_NAME
from ._settings import SIGNALS, Signal, resolve_settings

__all__ = ["FoundationConfigurator"]


_LOGGING_VARIABLE = "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"


class FoundationConfigurator(BaseConfigurator):
    """The configurator: builds the providers with :func:`foundation_telemetry.configure`.

    Like the SDK's configurator, it bridges stdlib ``logging`` into the log pipeline when
    ``OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true`` (or ``setup_logging_handler=True``
    is passed), through the defensive logging handler. A mistake in the environment is one line
    on stderr, not a traceback: the signals whose own settings are wrong are turned off, the
    others and the instrumentors keep running.
    """

    def _configure(self, **kwargs: Any) -> None:
        from ._configure import configure

        bridge = kwargs.get("setup_logging_handler")
        if bridge is None:
            bridge = os.environ.get(_LOGGING_VARIABLE, "false").strip().lower() == "true"
        configure_here = functools.partial(configure, logging_bridge=bool(bridge))
        try:
            configure_here()
        except (TypeError, ValueError) as error:
            _degrade(configure_here, error)


def _fails_alone(signal: Signal) -> bool:
    """Return whether *signal*'s settings are wrong when the other signals are off."""
    environ = dict(os.environ)
    for other in SIGNALS:
        if other != signal:
            environ[f"OTEL_{other.upper()}_EXPORTER"] = "none"
    try:
        resolve_settings(
            service_name=None,
            exporter=None,
            endpoint=None,
            protocol=None,
            headers=None,
            resource_attributes=None,
            debug=None,
            shutdown_timeout=1.0,  # not read from the environment: any valid value
            environ=environ,
        )
    except (TypeError, ValueError):
        return True
    return False


def _degrade(configure: Callable[[], object], error: Exception) -> None:
    """Configure the signals that can be; say in one line what was turned off."""
    broken = [signal for signal in SIGNALS if _fails_alone(signal)]
    kept = [signal for signal in SIGNALS if signal not in broken]
    if broken and kept:
        for signal in broken:
            os.environ[f"OTEL_{signal.upper()}_EXPORTER"] = "none"
        try:
            configure()
        except (TypeError, ValueError):
            kept = []
    if kept:
        outcome = (
            f"{' and '.join(broken).capitalize()} turned off; {', '.join(kept)} and the "
            "instrumentation keep running."
        )
    else:
        outcome = "Telemetry is off; the instrumentation keeps running."
    logging.getLogger(LOGGER_NAME).error("%s %s", error, outcome)
