"""OpenTelemetry instrumentors for the resilience libraries OpenTelemetry does not cover.

Each instrumentor is a standard ``BaseInstrumentor`` (``instrument()`` / ``uninstrument()``, both
safe to call twice) and an ``opentelemetry_instrumentor`` entry point, so
``opentelemetry-instrument`` applies it when its library is installed: tenacity retries
(:class:`TenacityInstrumentor`), pybreaker circuit breakers (:class:`PyBreakerInstrumentor`) and
SQLAlchemy connection pools (:class:`SQLAlchemyPoolInstrumentor`). Importing this package does not
import the libraries or ``opentelemetry-instrumentation``: each instrumentor is imported on first
use (a missing extra is an ``ImportError`` naming it) and imports its library when applied.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from .pybreaker import PyBreakerInstrumentor as PyBreakerInstrumentor
    from .sqlalchemy_pool import SQLAlchemyPoolInstrumentor as SQLAlchemyPoolInstrumentor
    from .tenacity import TenacityInstrumentor as TenacityInstrumentor

__all__ = ["PyBreakerInstrumentor", "SQLAlchemyPoolInstrumentor", "TenacityInstrumentor"]

# Each name is imported from its own module on first use, so one missing extra never breaks
# the others (and the error names the extra to install).
_HOMES: typing.Final = {
    "PyBreakerInstrumentor": ".pybreaker",
    "SQLAlchemyPoolInstrumentor": ".sqlalchemy_pool",
    "TenacityInstrumentor": ".tenacity",
}


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
