"""The TelemetryService: an OpenTelemetry ``MetricReader`` that keeps, analyses and alerts.

Register it like any reader (``configure(metric_readers=[service])`` or
``MeterProvider(metric_readers=[service])``). Every collection (``force_flush()``, ``collect()``
or the optional periodic thread) lands in the bounded store, then every alert rule is evaluated
against the store at the same instant of the service clock. The clock is injectable so tests
drive retention, for-durations and escalation without sleeping.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, final

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricsData,
)

from .. import _state
from .._config._runtime_metrics import enable_runtime_metrics as _enable_runtime_metrics
from .._otel._internals import ProviderAwareReader, reader_is_registered
from ..defensive._ledger import SkipReason, count_skip
from ..defensive._ledger import health as core_health
from ._alerting import Alerter, Outcome
from ._analytics import Anomaly, Method, Point, Source, anomaly, moving_average, signal, trend
from ._analytics import windowed_percentile as _windowed_percentile
from ._delivery import Dispatcher
from ._durations import Duration, to_seconds
from ._model import Alert
from ._notifiers import Notifier, notifier_name
from ._rules import AlertRule
from ._stats import DEFAULT_EWMA_ALPHA, Kind, Sample, Stats, compute_stats
from ._store import MetricStore

__all__ = ["DEFAULT_RESOLUTION", "DEFAULT_RETENTION", "TelemetryService"]

#: Default retention: 15 minutes.
DEFAULT_RETENTION = 900.0
#: Default resolution: one sample per 10 seconds per series.
DEFAULT_RESOLUTION = 10.0
_COMPONENT = "service"
_EMPTY = MetricsData(resource_metrics=[])

_DELTA = AggregationTemporality.DELTA
_CUMULATIVE = AggregationTemporality.CUMULATIVE
# What the reader asks the SDK for, whatever `temporality` says: a histogram's min and max are
# only known per interval under delta (cumulative ones are since start), and an observable
# counter's callback reports a total, so a drop is a restart only a cumulative reading shows
# (under delta the SDK would report it as a negative increase).
_FIXED: dict[type, AggregationTemporality] = {
    Histogram: _DELTA,
    ObservableCounter: _CUMULATIVE,
    ObservableUpDownCounter: _CUMULATIVE,
}


def _temporality(choice: str | None) -> dict[type, AggregationTemporality]:
    if choice is None:
        return {Counter: _DELTA, UpDownCounter: _CUMULATIVE, **_FIXED}
    if choice not in ("delta", "cumulative"):
        msg = f"`temporality` must be 'delta', 'cumulative' or None, got {choice!r}."
        raise ValueError(msg)
    chosen = _DELTA if choice == "delta" else _CUMULATIVE
    return {Counter: chosen, UpDownCounter: chosen, **_FIXED}


_instances: weakref.WeakSet[TelemetryService] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for service in list(_instances):
        service._after_fork_in_child()  # noqa: SLF001 - the module's own fork hook


_state.on_fork_in_child(_after_fork_in_child)


@final
class TelemetryService(ProviderAwareReader):
    """An in-process metric store with aggregation, analytics and alerting.

    Args:
        retention: how long samples are kept (seconds, ``timedelta`` or ``"15m"``).
        resolution: the sample slot width; collections within one slot are merged
            (downsampling). Memory per series is bounded by ``retention / resolution`` samples.
        clock: a function returning seconds (monotonic); default ``time.monotonic``. Inject a
            fake one in tests.
        interval: collect (and evaluate rules) every *interval* seconds on a daemon thread once
            the reader is registered; ``None`` (default): only on ``force_flush()``/``collect()``.
        temporality: what to ask the SDK for synchronous counters and up-down counters:
            ``"delta"``, ``"cumulative"``, or ``None`` (delta for counters, cumulative for
            up-down counters). Every query gives the same answer either way. Histograms are
            always read as delta (the only way to know an interval's min and max) and
            observable counters as cumulative (a reading that drops is a restart).
        ewma_alpha: the smoothing factor of ``Stats.ewma`` (``0 < alpha <= 1``).
        max_series: the series cap; points of further series are skipped and counted.
        notify_attempts: deliveries per notification before a failing notifier gives up.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        retention: Duration = DEFAULT_RETENTION,
        resolution: Duration = DEFAULT_RESOLUTION,
        clock: Callable[[], float] | None = None,
        *,
        interval: Duration | None = None,
        temporality: Literal["delta", "cumulative"] | None = None,
        ewma_alpha: float = DEFAULT_EWMA_ALPHA,
        max_series: int = 10_000,
        notify_attempts: int = 3,
    ) -> None:
        retention_s = to_seconds(retention, "retention", allow_zero=False)
        resolution_s = to_seconds(resolution, "resolution", allow_zero=False)
        if resolution_s > retention_s:
            msg = f"`resolution` ({resolution_s}s) must not exceed `retention` ({retention_s}s)."
            raise ValueError(msg)
        if clock is not None and not callable(clock):
            msg = f"`clock` must be a callable returning seconds, got {clock!r}."
            raise TypeError(msg)
        if not 0 < ewma_alpha <= 1:
            msg = f"`ewma_alpha` must be in (0, 1], got {ewma_alpha!r}."
            raise ValueError(msg)
        for what, number in (("max_series", max_series), ("notify_attempts", notify_attempts)):
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                msg = f"`{what}` must be a positive int, got {number!r}."
                raise ValueError(msg)
        self._interval = (
            None if interval is None else to_seconds(interval, "interval", allow_zero=False)
        )
        super().__init__(preferred_temporality=_temporality(temporality))
        self._clock: Callable[[], float] = clock or time.monotonic
        self._alpha = ewma_alpha
        self._store = MetricStore(retention_s, resolution_s, max_series)
        self._dispatcher = Dispatcher(max_attempts=notify_attempts)
        self._alerter = Alerter(self._dispatcher)
        self._since = self._clock()
        self._collect_lock = threading.Lock()
        self._cycles = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shut_down = False
        self._registrations = 0
        self._provider: weakref.ref[Any] | None = None
        _instances.add(self)

    # --- MetricReader ----------------------------------------------------------------------

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        """Store a collection and evaluate the rules (called by ``collect()``)."""
        if self._shut_down:
            count_skip(_COMPONENT, SkipReason.SHUTDOWN, item="collection")
            return
        try:
            with self._collect_lock:
                now = self._clock()
                self._store.ingest(metrics_data, self._since, now)
                self._since = now
                self._cycles += 1
                notices = self._alerter.evaluate(lambda rule: self._measure(rule, now), now)
            self._alerter.publish(notices)
        except Exception as error:  # noqa: BLE001 - a reader must never raise into the SDK
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item="collection", error=error)

    def meter_provider_set(self, meter_provider: Any) -> None:
        """Remember the provider (runtime metrics) and start the periodic thread if asked."""
        self._provider = weakref.ref(meter_provider)
        # A second configure(service=...) registers the service with the new provider before it
        # shuts the old one down; the service lives on until its last provider shuts it down.
        self._registrations += 1
        self._start_periodic()

    def _start_periodic(self) -> None:
        if self._interval is not None and self._thread is None and not self._shut_down:
            self._thread = threading.Thread(
                target=self._periodic, name="foundation-telemetry-service", daemon=True
            )
            self._thread.start()

    def _periodic(self) -> None:
        interval = self._interval
        if interval is None:  # only started with an interval (see _start_periodic)
            return
        while not self._stop.wait(interval):
            try:
                self._collect_now()
            except Exception as error:  # noqa: BLE001 - the periodic thread must survive
                count_skip(_COMPONENT, SkipReason.UNEXPECTED, item="periodic", error=error)

    def _collect_now(self, timeout_millis: float = 10_000) -> None:
        if self._shut_down or not reader_is_registered(self):
            # Shut down, or not registered with a provider (yet, or OTEL_SDK_DISABLED): there is
            # nothing to read and nothing was lost.
            return
        cycles = self._cycles
        self.collect(timeout_millis=timeout_millis)
        # The SDK skips ``_receive_metrics`` when nothing was recorded since the last delta
        # collection; rules must still see that time passed (a rate falling to zero, a for_).
        if self._cycles == cycles:
            self._receive_metrics(_EMPTY, timeout_millis)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Collect now, evaluate the rules and wait for the notifications they sent.

        Returns ``False`` if the notifications did not finish within *timeout_millis*.
        """
        deadline = time.monotonic() + timeout_millis / 1000
        try:
            self._collect_now(timeout_millis)
        except Exception as error:  # noqa: BLE001 - the SDK raises on collection errors
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item="force_flush", error=error)
            return False
        return self._dispatcher.flush(max(0.0, deadline - time.monotonic()))

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Stop the periodic thread and deliver what is queued (bounded by the timeout).

        When the service is registered with several providers (``configure()`` called again),
        only the last one's shutdown stops it. Idempotent.
        """
        if self._shut_down:
            return
        self._registrations -= 1
        if self._registrations > 0:
            return
        self._shut_down = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_millis / 1000)
        self._dispatcher.close(timeout_millis / 1000)

    # --- queries -----------------------------------------------------------------------------

    def _read(
        self, name: str, attributes: Mapping[str, Any] | None, window: Duration | None
    ) -> tuple[float, Kind | None, list[Sample]]:
        """Return the service clock's now and the kind and samples of *name* in *window*."""
        seconds = None if window is None else to_seconds(window, "window", allow_zero=False)
        now = self._clock()
        return (now, *self._store.window(name, attributes, seconds, now))

    def query(
        self,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        window: Duration | None = None,
    ) -> Stats:
        """Return the :class:`Stats` of metric *name* over the last *window* (default: all kept).

        Args:
            name: the metric name.
            attributes: only series whose attributes include these; several matching series
                are summed slot by slot. ``None``: all series of the metric.
            window: seconds, ``timedelta`` or ``"5m"``; ``None`` means the whole retention.

        An unknown metric or an empty window gives an empty ``Stats`` (``count == 0``).
        """
        now, kind, samples = self._read(name, attributes, window)
        if kind is None:
            return Stats()
        return compute_stats(samples, kind, ewma_alpha=self._alpha, until=now)

    def series(
        self,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        window: Duration | None = None,
        *,
        source: Source | None = None,
    ) -> list[Point]:
        """Return ``(time, value)`` points: per-interval rate for counters, else the value.

        *source* forces ``"rate"`` or ``"value"``; times are on the service clock.
        """
        _, kind, samples = self._read(name, attributes, window)
        return [] if kind is None else signal(samples, kind, source)

    def moving_average(
        self,
        name: str,
        span: Duration,
        attributes: Mapping[str, Any] | None = None,
        window: Duration | None = None,
        *,
        source: Source | None = None,
    ) -> list[Point]:
        """Return the trailing mean over *span* at each point of :meth:`series`."""
        seconds = to_seconds(span, "span", allow_zero=False)
        return moving_average(self.series(name, attributes, window, source=source), seconds)

    def windowed_percentile(
        self,
        name: str,
        q: float,
        span: Duration,
        attributes: Mapping[str, Any] | None = None,
        window: Duration | None = None,
        *,
        source: Source | None = None,
    ) -> list[Point]:
        """Return the trailing *q* quantile over *span* at each point of :meth:`series`."""
        seconds = to_seconds(span, "span", allow_zero=False)
        points = self.series(name, attributes, window, source=source)
        return _windowed_percentile(points, q, seconds)

    def anomaly(
        self,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        window: Duration | None = None,
        *,
        method: Method = "zscore",
        threshold: float = 3.0,
        min_points: int = 5,
        source: Source | None = None,
    ) -> Anomaly:
        """Judge the newest point of :meth:`series` against the ones before it.

        See ``_analytics`` (z-score, or EWMA mean and deviation; ``|score| >= threshold``).
        """
        points = self.series(name, attributes, window, source=source)
        return anomaly(
            points, method=method, threshold=threshold, min_points=min_points, alpha=self._alpha
        )

    def trend(
        self,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        window: Duration | None = None,
        *,
        source: Source | None = None,
    ) -> float:
        """Return the least-squares slope of :meth:`series` per second (``nan`` if < 2 points)."""
        return trend(self.series(name, attributes, window, source=source))

    def metrics(self) -> list[str]:
        """Return the names of the metrics currently stored."""
        return self._store.names()

    # --- alerting ----------------------------------------------------------------------------

    def add_rule(self, rule: AlertRule, notifiers: Sequence[Notifier] | None = None) -> AlertRule:
        """Evaluate *rule* on every collection and send its alerts to *notifiers*.

        Without *notifiers*, the service's default notifiers (:meth:`add_notifier`) are used.

        Raises:
            ValueError: a rule of that name was already added (bad conditions and windows are
                refused when the ``AlertRule`` is built).
            TypeError: *rule* is not an ``AlertRule`` or a notifier is not callable.
        """
        self._alerter.add(rule, list(notifiers or ()))
        return rule

    def remove_rule(self, name: str) -> bool:
        """Remove the rule called *name*; ``False`` if there was none."""
        return self._alerter.remove(name)

    def rules(self) -> list[AlertRule]:
        """Return the rules in the order they were added."""
        return self._alerter.rules()

    def add_notifier(self, notifier: Notifier) -> None:
        """Add a default notifier, used by every rule added without its own notifiers."""
        if not callable(notifier):
            msg = f"A notifier must be callable with an Alert, got {notifier!r}."
            raise TypeError(msg)
        self._alerter.default_notifiers = (*self._alerter.default_notifiers, notifier)

    def active_alerts(self) -> list[Alert]:
        """Return the alerts firing now."""
        return self._alerter.active()

    def _measure(self, rule: AlertRule, now: float) -> Outcome | None:
        condition = rule.parsed
        kind, samples = self._store.window(rule.metric, rule.attributes, rule.window_seconds, now)
        if kind is None:
            return None
        if condition.is_anomaly:
            verdict = anomaly(
                signal(samples, kind),
                method="ewma" if condition.method == "ewma" else "zscore",
                threshold=condition.threshold,
                alpha=self._alpha,
            )
            return Outcome(verdict.is_anomaly, verdict.score)
        aggregate = condition.aggregate
        if aggregate is None:  # a parsed condition is either an anomaly or has an aggregate
            return None
        value = compute_stats(samples, kind, ewma_alpha=self._alpha, until=now).get(aggregate)
        return Outcome(condition.holds(value), value)

    # --- runtime metrics and health -------------------------------------------------------

    def enable_runtime_metrics(self, meter_provider: Any = None) -> None:
        """Observe process CPU, memory, GC and threads (``opentelemetry-instrumentation-system-metrics``).

        *meter_provider* defaults to the one this service is registered with.

        Raises:
            RuntimeError: the service is not registered with a meter provider yet.
            ImportError: the ``service`` extra is not installed (message says how).
        """
        provider = meter_provider
        if provider is None:
            ref = self._provider
            provider = ref() if ref is not None else None
        if provider is None:
            msg = (
                "The service is not registered with a MeterProvider yet; pass it to "
                "configure(metric_readers=[service]) first, or pass `meter_provider`."
            )
            raise RuntimeError(msg)
        _enable_runtime_metrics(provider)

    def health(self) -> dict[str, Any]:
        """Return the core ``health()`` report (skips, exporters, handlers) plus ``service``."""
        report: dict[str, Any] = dict(core_health())
        report["service"] = {
            "series": len(self._store),
            "metrics": len(self._store.names()),
            "cycles": self._cycles,
            "rules": len(self._alerter.rules()),
            "active_alerts": [alert.rule for alert in self._alerter.active()],
            "notifiers": self._dispatcher.delivery_counts(),
            "pending_retries": self._dispatcher.pending_retries,
            "default_notifiers": [notifier_name(n) for n in self._alerter.default_notifiers],
            "shutdown": self._shut_down,
        }
        return report

    def _after_fork_in_child(self) -> None:
        """Give a forked child working locks and threads (the parent's are not its own)."""
        self._collect_lock = threading.Lock()
        self._store.lock = threading.RLock()
        self._alerter.reset_after_fork()
        self._thread = None
        self._stop = threading.Event()
        self._start_periodic()

    def __repr__(self) -> str:
        return (
            f"TelemetryService(retention={self._store.retention:g}, "
            f"resolution={self._store.resolution:g}, series={len(self._store)})"
        )
