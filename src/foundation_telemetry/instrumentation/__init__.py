"""OpenTelemetry instrumentors for the resilience libraries OpenTelemetry does not cover.

Each instrumentor is a standard ``BaseInstrumentor`` (``instrument()`` / ``uninstrument()``, both
safe to call twice) and an ``opentelemetry_instrumentor`` entry point, so
``opentelemetry-instrument`` applies it when its library is installed: tenacity retries
(:class:`TenacityInstrumentor`), pybreaker circuit breakers (:class:`PyBreakerInstrumentor`) and
SQLAlchemy connection pools (:class:`SQLAlchemyPoolInstrumentor`). Importing this package does not
import the libraries; each instrumentor imports its own when it is applied.
"""

from __future__ import annotations

from .pybreaker import PyBreakerInstrumentor as PyBreakerInstrumentor
from .sqlalchemy_pool import SQLAlchemyPoolInstrumentor as SQLAlchemyPoolInstrumentor
from .tenacity import TenacityInstrumentor as TenacityInstrumentor

__all__ = ["PyBreakerInstrumentor", "SQLAlchemyPoolInstrumentor", "TenacityInstrumentor"]
