"""The ``opentelemetry-instrument`` entry points, loadable without importing foundation_telemetry.

The runner loads every distro, configurator and instrumentor entry point it finds, whether or not
anything selects it. Loading these imports only the standard library and
``opentelemetry.instrumentation.distro`` (which the runner has imported already); the package
itself is imported only when it is selected (``OTEL_PYTHON_DISTRO`` /
``OTEL_PYTHON_CONFIGURATOR=foundation_telemetry``) or when a library one of its instrumentors
covers is installed. Taken only because its entry point came first, the distro or configurator
stands aside for the one the runner would have taken without this package, or does nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from importlib import metadata
from typing import Any, Final

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

__all__ = [
    "FoundationConfigurator",
    "FoundationDistro",
    "PyBreakerInstrumentor",
    "SQLAlchemyPoolInstrumentor",
    "TenacityInstrumentor",
]

ENTRY_POINT_NAME: Final = "foundation_telemetry"
_TRUTHY: Final = frozenset({"1", "true", "yes", "on"})
_EXPORTER_VARIABLES: Final = ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER")


_SELECTORS: Final = ("OTEL_PYTHON_DISTRO", "OTEL_PYTHON_CONFIGURATOR")


def _chosen(variable: str) -> bool:
    """Whether *variable* names us, or is unset while the other selector names us.

    Unset with neither naming us means the runner merely took the first entry point. Naming us
    in one of the two selects both, so setting only one never silently configures nothing.
    """
    value = os.environ.get(variable)
    if value is not None:
        return value == ENTRY_POINT_NAME
    return any(os.environ.get(other) == ENTRY_POINT_NAME for other in _SELECTORS)


def _other_entry_point(group: str) -> Any:
    """Return the entry point of *group* the runner would take without us (or ``None``)."""
    for entry_point in metadata.entry_points(group=group):
        if entry_point.name != ENTRY_POINT_NAME:
            return entry_point
    return None


def _stood_aside(kind: str, variable: str, instead: Any) -> None:
    """Say so in debug mode only: a plain run prints nothing, as it would without us."""
    # The values defensive._debug accepts (importing it would import the whole package).
    if os.environ.get("FOUNDATION_TELEMETRY_DEBUG", "").strip().lower() not in _TRUTHY:
        return
    from foundation_telemetry.defensive._debug import LOGGER_NAME

    logging.getLogger(LOGGER_NAME).debug(
        "opentelemetry-instrument took foundation-telemetry's %s without %s=%s; %s",
        kind,
        variable,
        ENTRY_POINT_NAME,
        f"running {instead.name!r} as it would have" if instead else "doing nothing, as without it",
    )


class FoundationDistro(BaseDistro):  # type: ignore[misc]
    """The distro: OTLP for every signal unless the environment says otherwise (when selected)."""

    def _configure(self, **kwargs: Any) -> None:
        if _chosen("OTEL_PYTHON_DISTRO"):
            for variable in _EXPORTER_VARIABLES:
                os.environ.setdefault(variable, "otlp")
            return
        other = _other_entry_point("opentelemetry_distro")
        _stood_aside("distro", "OTEL_PYTHON_DISTRO", other)
        distro = other.load()() if other is not None else None
        if isinstance(distro, BaseDistro):
            self.load_instrumentor = distro.load_instrumentor
            distro.configure(**kwargs)


class FoundationConfigurator:
    """The configurator: ``configure()`` from the environment (when selected).

    The runner only calls ``configure(**kwargs)`` on it; the real work is
    ``foundation_telemetry._config._zero_code``, imported when this one is selected.
    """

    def configure(self, **kwargs: Any) -> None:
        """Configure through foundation-telemetry, or stand aside (see the module docstring)."""
        if _chosen("OTEL_PYTHON_CONFIGURATOR"):
            from foundation_telemetry._config._zero_code import (
                FoundationConfigurator as Configurator,
            )

            Configurator().configure(**kwargs)  # type: ignore[no-untyped-call] # the SDK's base
            return
        other = _other_entry_point("opentelemetry_configurator")
        _stood_aside("configurator", "OTEL_PYTHON_CONFIGURATOR", other)
        if other is not None:
            other.load()().configure(**kwargs)


class _Deferred:
    """An instrumentor entry point that imports its instrumentor only when the library is there."""

    library: str
    instrumentor: str

    def _real(self) -> Any:
        """Return the real instrumentor, or ``None`` (importing nothing) without its library."""
        if importlib.util.find_spec(self.library) is None:
            return None
        module = importlib.import_module("foundation_telemetry.instrumentation")
        return getattr(module, self.instrumentor)()

    def instrument(self, **kwargs: Any) -> None:
        """Apply the real instrumentor if its library is installed; else import nothing."""
        real = self._real()
        if real is not None:
            real.instrument(**kwargs)

    def uninstrument(self, **kwargs: Any) -> None:
        """Undo :meth:`instrument` (nothing to undo when the library is not installed)."""
        real = self._real()
        if real is not None:
            real.uninstrument(**kwargs)


class TenacityInstrumentor(_Deferred):
    """``foundation_telemetry.instrumentation.TenacityInstrumentor``, when tenacity is installed."""

    library = "tenacity"
    instrumentor = "TenacityInstrumentor"


class PyBreakerInstrumentor(_Deferred):
    """``foundation_telemetry.instrumentation.PyBreakerInstrumentor``, when pybreaker is installed."""

    library = "pybreaker"
    instrumentor = "PyBreakerInstrumentor"


class SQLAlchemyPoolInstrumentor(_Deferred):
    """``...instrumentation.SQLAlchemyPoolInstrumentor``, when SQLAlchemy is installed."""

    library = "sqlalchemy"
    instrumentor = "SQLAlchemyPoolInstrumentor"
