"""The ``foundation.telemetry.skipped`` metric: one pipeline's skip counts as an observable counter.

Only the pipeline ``configure()`` builds carries it (wrapping a component never adds a metric to
the user's provider), and it counts that pipeline's skips only, since it was built: a
:class:`PipelineSkips` tags its wrappers' component names, and a ledger listener adds each skip
to the tally of the pipeline whose name it was counted under. Skips counted under no wrapper's
name (``emit()``, handlers, the logging bridge: the process's front doors) go to the pipeline that
is currently the global one. Attributes: ``component`` and ``reason``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

from opentelemetry.metrics import CallbackOptions, Observation

from .. import _state
from ._ledger import SkipReason, subscribe_skips

__all__ = ["METRIC_NAME", "ComponentName", "PipelineSkips", "install_skip_metric"]

METRIC_NAME = "foundation.telemetry.skipped"
_INSTALLED_ON: Final = _state.ledger.skip_metric_providers


class ComponentName(str):
    """A wrapper's component name, carrying the pipeline (if any) its skips belong to."""

    pipeline: PipelineSkips | None = None

    def owned_by(self, pipeline: PipelineSkips | None) -> ComponentName:
        """Return the same name, belonging to *pipeline*."""
        name = ComponentName(self)
        name.pipeline = pipeline
        return name


class PipelineSkips:
    """The skip counts of one pipeline, by (component, reason), from the moment it was built."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, SkipReason]] = Counter()

    def adopt(self, components: Iterable[Any]) -> None:
        """Make the skips of these wrappers (and of the batch processors inside them) count here."""
        for component in components:
            name = getattr(component, "component_name", None)
            if not isinstance(name, str):
                continue
            owned = ComponentName(name).owned_by(self)
            component._name = owned  # noqa: SLF001 - the wrappers' own field, ours
            inner = component.__dict__.get("_inner_obj")
            if inner is not None and getattr(inner, "component_name", None) == name:
                inner.component_name = owned  # our batch processor counts under the same name
            held = getattr(type(component), "held_exporter", None)
            if held is not None:
                self.adopt([held(component)])

    def add(self, component: str, reason: SkipReason, count: int) -> None:
        """Count *count* skips of *component* for *reason*."""
        with self._lock:
            self._counts[(str(component), reason)] += count

    def counts(self) -> dict[tuple[str, SkipReason], int]:
        """Return a snapshot of this pipeline's counts."""
        with self._lock:
            return dict(self._counts)

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        """Report the counts (the observable counter's callback)."""
        return [
            Observation(count, {"component": component, "reason": reason.value})
            for (component, reason), count in self.counts().items()
        ]


class _Routing:
    global_pipeline: PipelineSkips | None = None


_ROUTING: Final = _Routing()


def set_global_pipeline(pipeline: PipelineSkips | None) -> None:
    """Send skips that belong to no wrapper to *pipeline* (the global one) from now on."""
    _ROUTING.global_pipeline = pipeline


def _route(
    component: str,
    reason: SkipReason,
    count: int,
    item: str | None,
    error: BaseException | None,
) -> None:
    if isinstance(component, ComponentName):
        pipeline = component.pipeline
    else:
        pipeline = _ROUTING.global_pipeline
    if pipeline is not None:
        pipeline.add(component, reason, count)


def install_skip_metric(meter_provider: Any, pipeline: PipelineSkips) -> bool:
    """Register *pipeline*'s skip counter on *meter_provider* once; return whether it was added."""
    try:
        if meter_provider in _INSTALLED_ON:
            return False
        meter = meter_provider.get_meter("foundation_telemetry.defensive")
        meter.create_observable_counter(
            METRIC_NAME,
            callbacks=[pipeline.observe],
            unit="{item}",
            description="Telemetry items not delivered, by component and reason.",
        )
        _INSTALLED_ON.add(meter_provider)
    except Exception:  # noqa: BLE001 - a missing metric must not break configuration
        return False
    return True


subscribe_skips(_route)
