"""Metric wrappers: :class:`DefensiveMetricReader` and :class:`DefensiveMetricExporter`.

The reader wrapper is a real ``MetricReader`` registered with the ``MeterProvider`` in place of
the wrapped one; it hands the wrapped reader a guarded collect callback, so an observable callback
raising anything (even ``SystemExit``) is counted and the reader's thread survives. It also wraps
a ``PeriodicExportingMetricReader``'s exporter, installs ``foundation.telemetry.skipped`` on its
provider, and after ``fork()`` gives the child fresh aggregation state instead of the parent's.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any, final

from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricReader,
    MetricsData,
)

from ._guards import GuardedComponent, GuardedExporter
from ._policy import contain
from ._skip_metric import install_skip_metric

__all__ = ["DefensiveMetricExporter", "DefensiveMetricReader"]

CollectCallback = Callable[..., "MetricsData | None"]


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
        super().__init__(
            preferred_temporality=getattr(exporter, "_preferred_temporality", None),
            preferred_aggregation=getattr(exporter, "_preferred_aggregation", None),
        )
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
class DefensiveMetricReader(GuardedComponent, MetricReader):
    """Register this in place of *reader*: collection, export, flush and shutdown never raise.

    Args:
        reader: Any SDK ``MetricReader`` (periodic, in-memory, Prometheus, ...). It must not be
            registered with a ``MeterProvider`` itself; register the wrapper instead.
        name: Component name in skip counts; default: the reader's class name.
    """

    def __init__(self, reader: MetricReader, *, name: str | None = None) -> None:
        if not isinstance(reader, MetricReader):
            msg = f"`reader` must be a MetricReader, got {type(reader).__name__}."
            raise TypeError(msg)
        super().__init__()
        self._reader = reader
        for attribute in (
            "_instrument_class_temporality",
            "_instrument_class_aggregation",
            "_instrument_class_cardinality_limit",
        ):
            if hasattr(reader, attribute):
                setattr(self, attribute, getattr(reader, attribute))
        exporter = getattr(reader, "_exporter", None)
        if isinstance(exporter, MetricExporter) and not isinstance(
            exporter, DefensiveMetricExporter
        ):
            reader._exporter = DefensiveMetricExporter(exporter)  # type: ignore[attr-defined]
        self._provider_collect: CollectCallback | None = None
        self._init_guard(reader, name)

    @property
    def wrapped(self) -> MetricReader:
        """The wrapped reader."""
        return self._reader

    def _set_collect_callback(self, func: CollectCallback | None) -> None:  # type: ignore[misc]
        self._provider_collect = func
        self._collect = func  # type: ignore[assignment]
        inner: Any = self._reader
        inner._set_collect_callback(None if func is None else self._guarded_collect)

    def _set_meter_provider(self, meter_provider: Any) -> None:
        try:
            self._reader._set_meter_provider(meter_provider)
        except Exception as error:  # noqa: BLE001 - internal metrics are optional
            contain(self._name, error, item="set_meter_provider")
        install_skip_metric(meter_provider)

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
            self._reader._receive_metrics(metrics_data, timeout_millis=timeout_millis, **kwargs)
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
        """Give the child empty aggregation state for this reader (the parent's is not its own)."""
        super()._after_fork()
        consumer = getattr(self._provider_collect, "__self__", None)
        if consumer is None:
            return
        try:
            consumer._lock = threading.Lock()
            consumer.add_metric_reader(self)  # replaces this reader's storage with a fresh one
        except Exception as error:  # noqa: BLE001 - an SDK without it keeps the inherited state
            contain(self._name, error, item="fork")
