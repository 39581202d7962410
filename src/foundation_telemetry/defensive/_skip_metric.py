"""The ``foundation.telemetry.skipped`` metric: skip counts as an observable counter.

Installed once per SDK ``MeterProvider`` that carries a :class:`DefensiveMetricReader`, so the
counts travel with the rest of the application's metrics (attributes ``component`` and
``reason``). The callback reads the ledger; it never touches the pipeline that is being counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from opentelemetry.metrics import CallbackOptions, Observation

from .. import _state
from ._ledger import skip_counts

__all__ = ["METRIC_NAME", "install_skip_metric"]

METRIC_NAME = "foundation.telemetry.skipped"
_INSTALLED_ON: Final = _state.ledger.skip_metric_providers


def _observe(options: CallbackOptions) -> Iterable[Observation]:
    return [
        Observation(count, {"component": component, "reason": reason.value})
        for (component, reason), count in skip_counts().items()
    ]


def install_skip_metric(meter_provider: Any) -> bool:
    """Register the skip counter on *meter_provider* once; return whether it was added now."""
    try:
        if meter_provider in _INSTALLED_ON:
            return False
        meter = meter_provider.get_meter("foundation_telemetry.defensive")
        meter.create_observable_counter(
            METRIC_NAME,
            callbacks=[_observe],
            unit="{item}",
            description="Telemetry items not delivered, by component and reason.",
        )
        _INSTALLED_ON.add(meter_provider)
    except Exception:  # noqa: BLE001 - a missing metric must not break configuration
        return False
    return True
