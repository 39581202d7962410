"""Metric wrappers: :class:`DefensiveMetricReader` and :class:`DefensiveMetricExporter`.

The reader wrapper is a real ``MetricReader`` registered with the ``MeterProvider`` in place of
the wrapped one; it hands the wrapped reader a guarded collect callback, so an observable callback
raising anything (even ``SystemExit``) is counted and the reader's thread survives. It also wraps
a ``PeriodicExportingMetricReader``'s exporter, and after ``fork()`` gives the child fresh aggregation state instead of the parent's
(without touching the SDK's locks). The SDK's reader hooks it needs are in ``_otel._internals``.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any, Final, final

from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)

from .._otel._internals import (
    ProviderAwareReader,
    copy_reader_preferences,
    exporter_preferences,
    hand_collect_callback,
    hand_meter_provider,
    periodic_reader_exporter,
    receive_metrics,
    replace_periodic_reader_exporter,
    reset_reader_storage,
)
from ._bounded import BoundedCall, Deadline
from ._guards import GuardedComponent, GuardedExporter, require_methods
from ._ledger import SkipReason, count_skip
from ._policy import contain

__all__ = ["DefensiveMetricExporter", "DefensiveMetricReader"]

CollectCallback = Callable[..., "MetricsData | None"]
# How long a forked child waits for its fresh metric storage (microseconds unless a lock is stuck).
_FORK_RESET_BUDGET: Final = 0.5
# Which wrapper registered each wrapped reader with a provider. The wrapper holds its reader, so it
# is held weakly too: a strong value would keep its own key (and the provider's exporter) alive.
_REGISTERED: Final[weakref.WeakKeyDictionary[Any, weakref.ref[Any]]] = weakref.WeakKeyDictionary()


def _data_points(data: MetricsData) -> int:
    return sum(
        len(metric.data.data_points)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    )


def _accepts_timeout_millis(method: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.name == "timeout_millis" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters
    )


@final
class DefensiveMetricExporter(GuardedExporter[MetricExportResult], MetricExporter):
    """Forward to *exporter*; count exceptions and ``FAILURE`` results per data point; never raise.

    ``shutdown`` accepts ``timeout_millis``, ``timeout`` or nothing, whatever the wrapped exporter
    takes (the stock periodic reader passes ``timeout=``, which many exporters reject).

    Args:
        exporter: Any SDK ``MetricExporter``.
        name: Component name in skip counts; default: the exporter's class name.
        export_timeout: As for :class:`~foundation_telemetry.defensive.DefensiveSpanExporter`.
    """

    def __init__(
        self,
        exporter: MetricExporter,
        *,
        name: str | None = None,
        export_timeout: float | None = None,
    ) -> None:
        if not isinstance(exporter, MetricExporter):
            msg = f"`exporter` must be a MetricExporter, got {type(exporter).__name__}."
            raise TypeError(msg)
        temporality, aggregation = exporter_preferences(exporter)
        super().__init__(preferred_temporality=temporality, preferred_aggregation=aggregation)
        self._exporter = exporter
        self._shutdown_takes_timeout = _accepts_timeout_millis(exporter.shutdown)
        self._export_millis = 10_000.0
        self._init_guard(
            exporter, name, export_timeout, MetricExportResult.SUCCESS, MetricExportResult.FAILURE
        )

    @property
    def wrapped(self) -> MetricExporter:
        """The wrapped exporter."""
        return self._exporter

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Export *metrics_data*; on any failure count its data points and return ``FAILURE``."""
        self._export_millis = timeout_millis
        return self._guarded_export(metrics_data)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Shut the exporter down (interrupting retries first), bounded; never raises."""
        timeout = kwargs.get("timeout")
        if isinstance(timeout, int | float) and not isinstance(timeout, bool):
            timeout_millis = timeout
        self._bounded_exporter_shutdown(timeout_millis)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Flush within *timeout_millis*; never raises."""
        return self._bounded_exporter_flush(timeout_millis)

    def _export_inner(self, batch: MetricsData) -> MetricExportResult:
        return self._exporter.export(batch, timeout_millis=self._export_millis)

    def _count(self, batch: MetricsData) -> int:
        return _data_points(batch)

    def _describe(self, batch: MetricsData) -> str:
        names = [
            metric.name
            for resource in batch.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        ]
        return names[0] if len(names) == 1 else f"{len(names)} metrics"

    def _inner_shutdown(self) -> None:
        if self._shutdown_takes_timeout:
            self._exporter.shutdown(timeout_millis=30_000)
        else:
            self._exporter.shutdown()

    def _inner_flush(self, timeout_millis: float) -> bool:
        return self._exporter.force_flush(timeout_millis=timeout_millis)


@final
class DefensiveMetricReader(GuardedComponent, ProviderAwareReader):
    """Register this in place of *reader*: collection, export, flush and shutdown never raise.

    Args:
        reader: Any SDK ``MetricReader`` (periodic, in-memory, Prometheus, ...). It must not be
            registered with a ``MeterProvider`` itself; register the wrapper instead.
        name: Component name in skip counts; default: the reader's class name.
    """

    _final_delivery = True

    # Each wrapper is its own registration: the SDK's "registered already" check compares
    # readers, and configure() may register one reader (a shared TelemetryService) in several
    # pipelines through several wrappers. Our own check below refuses what the SDK would.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __init__(self, reader: MetricReader, *, name: str | None = None) -> None:
        require_methods(reader, "reader", "MetricReader", ("collect", "shutdown", "force_flush"))
        super().__init__()
        self._reader = reader
        copy_reader_preferences(reader, self)
        if isinstance(reader, PeriodicExportingMetricReader):
            exporter = periodic_reader_exporter(reader)
            if not isinstance(exporter, DefensiveMetricExporter):
                replace_periodic_reader_exporter(reader, DefensiveMetricExporter(exporter))
        self._provider_collect: CollectCallback | None = None
        self._init_guard(reader, name)

    @property
    def wrapped(self) -> MetricReader:
        """The wrapped reader."""
        return self._reader

    def collect_callback_set(self, func: CollectCallback | None) -> None:
        """Hand the wrapped reader a guarded version of the provider's collect callback.

        Raises:
            Exception: the wrapped reader is registered already through another open wrapper
                of the user's (the SDK refuses a bare reader given to two providers the same way).
        """
        if func is not None:
            registered = _REGISTERED.get(self._reader)
            other = None if registered is None else registered()
            # configure() may move a reader to the pipeline that replaces its own: allowed.
            if other is not None and other is not self and other.refuses_second_registration():
                msg = (
                    f"MetricReader {self._reader} has been registered already in other "
                    "MeterProvider instance"
                )
                raise Exception(msg)  # the SDK's own exception type and text
            _REGISTERED[self._reader] = weakref.ref(self)
        self._provider_collect = func
        hand_collect_callback(self._reader, None if func is None else self._guarded_collect)

    def refuses_second_registration(self) -> bool:
        """Whether the reader this wrapper registered is still taken (open, not configure()'s)."""
        return not self._closed and getattr(self._name, "pipeline", None) is None

    def meter_provider_set(self, meter_provider: MeterProvider) -> None:
        """Tell the wrapped reader its provider."""
        try:
            hand_meter_provider(self._reader, meter_provider)
        except Exception as error:  # noqa: BLE001 - internal metrics are optional
            contain(self._name, error, item="set_meter_provider")

    def _guarded_collect(self, reader: Any, timeout_millis: float = 10_000) -> MetricsData | None:
        func = self._provider_collect
        if func is None:
            return None
        try:
            return func(self, timeout_millis=timeout_millis)
        except BaseException as error:
            if contain(self._name, error, item="collect"):
                raise
            return None

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        try:
            receive_metrics(self._reader, metrics_data, timeout_millis)
        except BaseException as error:
            if contain(self._name, error, item="receive_metrics", count=_data_points(metrics_data)):
                raise

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Shut the reader down within *timeout_millis* and the shutdown budget; never raises."""
        self._bounded_shutdown(timeout_millis)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Collect and export now, within *timeout_millis*; never raises."""
        return self._bounded_flush(timeout_millis)

    def _inner_shutdown(self, timeout_millis: float) -> None:
        self._reader.shutdown(timeout_millis=timeout_millis)

    def _inner_flush(self, timeout_millis: float) -> bool:
        return self._reader.force_flush(timeout_millis=timeout_millis)

    def _after_fork(self) -> None:
        """Give the child empty aggregation state for this reader (the parent's is not its own).

        The SDK replaces a reader's storage under its measurement consumer's lock. A lock that a
        parent thread held at the moment of the fork (a collection in progress) stays held in
        the child for good, so the replacement runs on a helper thread and the fork waits for
        it briefly: normally it takes microseconds; if the lock is stuck the child keeps the
        inherited state (as the stock SDK always does) and the skip is counted.
        """
        super()._after_fork()
        collect = self._provider_collect
        if collect is None:
            return

        def reset() -> None:
            reset_reader_storage(collect, self)

        call = BoundedCall(reset, f"{self._name}-fork-reset").start()
        if not call.wait(Deadline(_FORK_RESET_BUDGET)):
            count_skip(self._name, SkipReason.TIMEOUT, item="fork: metric state inherited")
        elif call.error is not None:
            contain(self._name, call.error, item="fork")
