"""In-process fault injection: an exporter wrapper that fails, stalls and goes down on purpose.

`FaultInjectingExporter` wraps any span, log record or metric exporter and, for each export,
waits *latency*, then either forwards the batch or answers ``FAILURE`` without forwarding it:
always during an *outage* window, otherwise with probability *failure_rate* (reproducible with
*seed*). It counts what it forwarded and what it failed, so a chaos test can check that every item
was either delivered or accounted for. For faults on the wire, use the embedded sink's
``faults`` instead (``foundation_telemetry.sink``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, final, overload

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ._otel._compat import LogRecordExporter, LogRecordExportResult, flush_log_exporter
from ._otel._internals import exporter_preferences

__all__ = [
    "FaultInjectingExporter",
    "FaultInjectingLogExporter",
    "FaultInjectingMetricExporter",
    "FaultInjectingSpanExporter",
]

Latency = float | tuple[float, float]
Outage = tuple[float, float]


class FaultInjectingExporter:
    """Wrap *inner* so its exports fail, stall or go down on a schedule.

    Constructing ``FaultInjectingExporter(inner, ...)`` returns a `FaultInjectingSpanExporter`,
    `FaultInjectingLogExporter` or `FaultInjectingMetricExporter` to match *inner*, so the result
    is a real SDK exporter of the same signal.

    Args:
        inner: the exporter that receives the batches that are not failed.
        failure_rate: the probability (0 to 1) that an export outside an outage fails.
        latency: seconds every export waits first, or ``(low, high)`` for a uniform draw.
        outages: ``(start, end)`` windows in seconds since construction during which every
            export fails.
        seed: seeds the failure and latency draws, for a reproducible run.
        clock: the monotonic clock the outage windows are measured on (inject a fake in tests).

    Raises:
        TypeError: *inner* is not a span, log record or metric exporter.
        ValueError: a rate, latency or window is out of range.

    .. versionadded:: 0.1.0
    """

    @overload
    def __new__(
        cls,
        inner: SpanExporter,
        failure_rate: float = ...,
        latency: Latency = ...,
        outages: Sequence[Outage] = ...,
        seed: int | None = ...,
        *,
        clock: Callable[[], float] = ...,
    ) -> FaultInjectingSpanExporter: ...
    @overload
    def __new__(
        cls,
        inner: MetricExporter,
        failure_rate: float = ...,
        latency: Latency = ...,
        outages: Sequence[Outage] = ...,
        seed: int | None = ...,
        *,
        clock: Callable[[], float] = ...,
    ) -> FaultInjectingMetricExporter: ...
    @overload
    def __new__(
        cls,
        inner: LogRecordExporter,
        failure_rate: float = ...,
        latency: Latency = ...,
        outages: Sequence[Outage] = ...,
        seed: int | None = ...,
        *,
        clock: Callable[[], float] = ...,
    ) -> FaultInjectingLogExporter: ...
    def __new__(cls, inner: Any, *args: Any, **kwargs: Any) -> Any:
        """Pick the subclass that matches *inner*'s signal."""
        if cls is FaultInjectingExporter:
            if isinstance(inner, SpanExporter):
                cls = FaultInjectingSpanExporter
            elif isinstance(inner, MetricExporter):
                cls = FaultInjectingMetricExporter
            elif isinstance(inner, LogRecordExporter):
                cls = FaultInjectingLogExporter
            else:
                msg = (
                    "FaultInjectingExporter wraps a SpanExporter, MetricExporter or"
                    f" LogRecordExporter, got {type(inner).__name__}."
                )
                raise TypeError(msg)
        return object.__new__(cls)

    def __init__(
        self,
        inner: Any,
        failure_rate: float = 0.0,
        latency: Latency = 0.0,
        outages: Sequence[Outage] = (),
        seed: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            msg = f"`failure_rate` must be between 0 and 1, got {failure_rate!r}."
            raise ValueError(msg)
        low, high = latency if isinstance(latency, tuple) else (latency, latency)
        if not 0.0 <= low <= high:
            msg = f"`latency` must be seconds >= 0 or a (low, high) range, got {latency!r}."
            raise ValueError(msg)
        windows = tuple((float(start), float(end)) for start, end in outages)
        for start, end in windows:
            if not 0.0 <= start < end:
                msg = (
                    f"each outage must be (start, end) with 0 <= start < end, got {(start, end)!r}."
                )
                raise ValueError(msg)
        self.inner = inner
        self.failure_rate = failure_rate
        self._latency = (low, high)
        self._outages = windows
        self._random = random.Random(seed)
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self.exports = 0
        self.failed_exports = 0
        self.forwarded_items = 0
        self.failed_items = 0

    def _should_fail(self) -> tuple[bool, float]:
        """Draw this export's fate and latency (under the lock, so a seed reproduces)."""
        with self._lock:
            elapsed = self._clock() - self._started
            down = any(start <= elapsed < end for start, end in self._outages)
            fail = down or (self.failure_rate > 0 and self._random.random() < self.failure_rate)
            low, high = self._latency
            delay = low if low == high else self._random.uniform(low, high)
            return fail, delay

    def _account(self, failed: bool, items: int) -> None:
        with self._lock:
            self.exports += 1
            if failed:
                self.failed_exports += 1
                self.failed_items += items
            else:
                self.forwarded_items += items

    def _run(self, items: int, forward: Callable[[], Any], failure: Any) -> Any:
        fail, delay = self._should_fail()
        if delay:
            time.sleep(delay)  # allow-sleep: the injected latency is the feature
        self._account(fail, items)
        return failure if fail else forward()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.inner!r}, failure_rate={self.failure_rate},"
            f" exports={self.exports}, failed_exports={self.failed_exports})"
        )


@final
class FaultInjectingSpanExporter(FaultInjectingExporter, SpanExporter):
    """`FaultInjectingExporter` for a span exporter."""

    inner: SpanExporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Wait, then fail or forward *spans*."""
        result: SpanExportResult = self._run(
            len(spans), lambda: self.inner.export(spans), SpanExportResult.FAILURE
        )
        return result

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the wrapped exporter."""
        return self.inner.force_flush(timeout_millis)


@final
class FaultInjectingLogExporter(FaultInjectingExporter, LogRecordExporter):
    """`FaultInjectingExporter` for a log record exporter."""

    inner: LogRecordExporter

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        """Wait, then fail or forward *batch*."""
        result: LogRecordExportResult = self._run(
            len(batch), lambda: self.inner.export(batch), LogRecordExportResult.FAILURE
        )
        return result

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self.inner.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the wrapped exporter."""
        return flush_log_exporter(self.inner, timeout_millis)


@final
class FaultInjectingMetricExporter(FaultInjectingExporter, MetricExporter):
    """`FaultInjectingExporter` for a metric exporter; it prefers what *inner* prefers."""

    inner: MetricExporter

    def __init__(self, inner: MetricExporter, *args: Any, **kwargs: Any) -> None:
        FaultInjectingExporter.__init__(self, inner, *args, **kwargs)
        temporality, aggregation = exporter_preferences(inner)
        MetricExporter.__init__(
            self,
            preferred_temporality=dict(temporality or {}),
            preferred_aggregation=dict(aggregation or {}),
        )

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Wait, then fail or forward *metrics_data* (items are data points)."""
        result: MetricExportResult = self._run(
            _data_points(metrics_data),
            lambda: self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs),
            MetricExportResult.FAILURE,
        )
        return result

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Shut the wrapped exporter down."""
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Flush the wrapped exporter."""
        return self.inner.force_flush(timeout_millis)


def _data_points(metrics_data: MetricsData) -> int:
    return sum(
        len(metric.data.data_points)
        for resource_metrics in metrics_data.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
    )
