"""Runtime metrics: process CPU, memory, GC and threads, observed on a given MeterProvider.

This is a thin, idempotent front for ``opentelemetry-instrumentation-system-metrics`` limited to
the process-level instruments (the host-wide ``system.*`` ones are a Collector's job). The
instrumentor is a singleton that can only be bound to one provider at a time, so binding it to a
new provider (after a second ``configure()``) re-instruments, and binding it twice to the same
provider does nothing.
"""

from __future__ import annotations

import weakref
from typing import Any, Final

from .. import _state

__all__ = ["RUNTIME_METRICS", "enable_runtime_metrics"]

#: The instruments enabled (the instrumentor's config: name -> attribute values or None).
RUNTIME_METRICS: dict[str, list[str] | None] = {
    "process.cpu.time": ["user", "system"],
    "process.cpu.utilization": None,
    "process.memory.usage": None,
    "process.memory.virtual": None,
    "process.thread.count": None,
    "process.open_file_descriptor.count": None,
    "process.context_switches": ["involuntary", "voluntary"],
    "process.runtime.gc_count": None,
    "cpython.gc.collections": None,
    "cpython.gc.collected_objects": None,
    "cpython.gc.uncollectable_objects": None,
}

_CONFIG: Final = _state.config  # the bound provider is _state.config.runtime_metrics_provider


def enable_runtime_metrics(meter_provider: Any) -> bool:
    """Observe the runtime instruments on *meter_provider*; ``False`` if they already were.

    Raises:
        ImportError: ``opentelemetry-instrumentation-system-metrics`` is missing; install the
            ``service`` extra (``pip install 'foundation-telemetry[service]'``).
    """
    try:
        from opentelemetry.instrumentation.system_metrics import (
            SystemMetricsInstrumentor,
        )
    except ImportError as error:
        msg = (
            "Runtime metrics need opentelemetry-instrumentation-system-metrics; install "
            "'foundation-telemetry[service]'."
        )
        raise ImportError(msg) from error
    with _CONFIG.runtime_metrics_lock:
        bound = _CONFIG.runtime_metrics_provider
        if bound is not None and bound() is meter_provider:
            return False
        instrumentor = SystemMetricsInstrumentor(config=dict(RUNTIME_METRICS))
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        instrumentor.instrument(meter_provider=meter_provider)
        _CONFIG.runtime_metrics_provider = weakref.ref(meter_provider)
        return True
