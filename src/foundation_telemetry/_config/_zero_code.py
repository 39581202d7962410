"""Zero-code entry points: ``opentelemetry-instrument`` configures through ``configure()``.

With ``OTEL_PYTHON_DISTRO=foundation_telemetry`` and ``OTEL_PYTHON_CONFIGURATOR=
foundation_telemetry``, the stock auto-instrumentation runner loads these two classes (declared
as ``opentelemetry_distro`` and ``opentelemetry_configurator`` entry points), so an unmodified
application gets our defaults, the defensive layer and bounded, quiet shutdown.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from importlib import metadata
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

from .._otel._internals import BaseConfigurator
from ..defensive._debug import LOGGER_NAME, debug_enabled
from ._settings import SIGNALS, Signal, resolve_settings

__all__ = ["FoundationConfigurator", "FoundationDistro"]


_ENTRY_POINT_NAME = "foundation_telemetry"


def _chosen(variable: str) -> bool:
    """Whether *variable* names us; unset means the runner merely took the first entry point."""
    return os.environ.get(variable) == _ENTRY_POINT_NAME


def _other_entry_point(group: str) -> Any:
    """Return the entry point of *group* the runner would take without us (or ``None``)."""
    for entry_point in metadata.entry_points(group=group):
        if entry_point.name != _ENTRY_POINT_NAME:
            return entry_point
    return None


def _not_chosen(kind: str, variable: str, instead: Any) -> None:
    """Say, in debug mode only, that we stood aside (a plain run prints nothing, as without us)."""
    if not debug_enabled():
        return
    logging.getLogger(LOGGER_NAME).debug(
        "opentelemetry-instrument took foundation-telemetry's %s without %s=%s; %s",
        kind,
        variable,
        _ENTRY_POINT_NAME,
        f"running {instead.name!r} as it would have" if instead else "doing nothing, as without it",
    )


class FoundationDistro(BaseDistro):  # type: ignore[misc]
    """The distro: OTLP for every signal unless the environment says otherwise.

    Only when ``OTEL_PYTHON_DISTRO=foundation_telemetry`` selects it. The runner takes the first
    distro it finds when the variable is unset; then this one stands aside: it runs the distro
    that would have been taken without this package, or does nothing, so installing the package
    changes no ``opentelemetry-instrument`` run that did not ask for it.
    """

    def _configure(self, **kwargs: Any) -> None:
        if not _chosen("OTEL_PYTHON_DISTRO"):
            other = _other_entry_point("opentelemetry_distro")
            _not_chosen("distro", "OTEL_PYTHON_DISTRO", other)
            distro = other.load()() if other is not None else None
            if isinstance(distro, BaseDistro):
                self.load_instrumentor = distro.load_instrumentor
                distro.configure(**kwargs)
            return
        for variable in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"):
            os.environ.setdefault(variable, "otlp")


_LOGGING_VARIABLE = "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"


class FoundationConfigurator(BaseConfigurator):
    """The configurator: builds the providers with :func:`foundation_telemetry.configure`.

    Like the SDK's configurator, it bridges stdlib ``logging`` into the log pipeline when
    ``OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true`` (or ``setup_logging_handler=True``
    is passed), through the defensive logging handler. A mistake in the environment is one line
    on stderr, not a traceback: the signals whose own settings are wrong are turned off, the
    others and the instrumentors keep running. Only when ``OTEL_PYTHON_CONFIGURATOR=
    foundation_telemetry`` selects it; otherwise it stands aside as the distro does.
    """

    def _configure(self, **kwargs: Any) -> None:
        if not _chosen("OTEL_PYTHON_CONFIGURATOR"):
            # Taken only because it came first: as for the distro, stand aside.
            other = _other_entry_point("opentelemetry_configurator")
            _not_chosen("configurator", "OTEL_PYTHON_CONFIGURATOR", other)
            if other is not None:
                other.load()().configure(**kwargs)
            return
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
