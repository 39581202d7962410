"""Old spellings kept working for a while: the domain waits as free functions.

Until this release the domain waits were also plain functions taking the fixture first
(``wait_for_coordination_completion(telemetry, "s-1")``), as docs/taxonomy.md showed. They
still block and return the record, with a ``DeprecationWarning`` naming the method to use
instead; ``foundation_telemetry.testing`` serves them through its module ``__getattr__`` and
does not list them in ``__all__``.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..recording._queries import TelemetryQueries
from ..recording._records import EventRecord

__all__ = ["module_getattr"]

_FUNCTION_FORMS = {
    "wait_for_service_health": "wait_for_service_ready",
    "wait_for_process_restart": "wait_for_process_restart",
    "wait_for_agent_registration": "wait_for_agent_registration",
    "wait_for_coordination_completion": "wait_for_coordination_completion",
    "wait_for_resource_cleanup": "wait_for_resource_cleanup",
    "wait_for_connection_pool_ready": "wait_for_connection_pool_ready",
}


def _function_form(old: str, method: str) -> Any:
    def wait(source: TelemetryQueries, /, *args: Any, **kwargs: Any) -> EventRecord:
        __tracebackhide__ = True
        warnings.warn(
            f"foundation_telemetry.testing.{old}(telemetry, ...) is deprecated: use "
            f"telemetry.{method}(...).wait(), or await it.",
            DeprecationWarning,
            stacklevel=2,
        )
        if old == "wait_for_service_health":
            status = args[1] if len(args) > 1 else kwargs.pop("status", "healthy")
            args = args[:1] + args[2:]
            kwargs["status"] = status
        result: EventRecord = getattr(source, method)(*args, **kwargs).wait()
        return result

    wait.__name__ = wait.__qualname__ = old
    return wait


def module_getattr(name: str) -> Any:
    """Return the deprecated function form *name*, or raise ``AttributeError``."""
    if name in _FUNCTION_FORMS:
        return _function_form(name, _FUNCTION_FORMS[name])
    msg = f"module 'foundation_telemetry.testing' has no attribute {name!r}"
    raise AttributeError(msg)
