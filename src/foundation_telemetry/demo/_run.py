"""Run the demo: start the sink, configure telemetry, drive the service, close the books.

:func:`run_demo` wires the whole product together the way an application would: an embedded OTLP
sink (or ``--endpoint`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``), ``configure(exporter="otlp")`` with the
TelemetryService as a metric reader and an alert rule on circuit-breaker rejections, the three
instrumentors, and a ``service_lifecycle``. It then runs *workers* concurrent order loops for
*duration* seconds under the fault plan, keeps going (bounded) until a fired alert resolves,
flushes, and returns a :class:`DemoReport`. Timings scale with the duration so a 3-second run
tells the same story as a 5-minute one.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from .._config._configure import configure
from ..defensive._ledger import subscribe_skips
from ..handlers import attach, detach
from ..instrumentation import (
    PyBreakerInstrumentor,
    SQLAlchemyPoolInstrumentor,
    TenacityInstrumentor,
)
from ..lifecycle import service_lifecycle
from ..recording._records import EventRecord, RecordKind
from ..service import Alert, AlertRule, CallbackNotifier, TelemetryService
from ..sink import Sink
from ..taxonomy import CIRCUIT_BREAKER_STATE_CHANGE, Attr
from ._faults import FaultPlan
from ._report import Accounting, DemoReport, sample_trace
from ._service import POOL_NAME, OrderService
from ._tally import Tally, TallyLogProcessor, TallySpanProcessor

__all__ = ["ALERT_RULE", "DemoConfig", "run_demo"]

ALERT_RULE: Final = "payments-circuit-open"
SERVICE_NAME: Final = "foundation-demo"


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """How to run the demo.

    Args:
        duration: planned seconds of traffic (the run may go on briefly until an alert resolves).
        workers: concurrent order loops.
        endpoint: OTLP endpoint to export to instead of an embedded sink.
        seed: seeds the fault plan.
        sink: a started sink to export to (the caller stops it; e.g. one with the viewer on).
    """

    duration: float = 15.0
    workers: int = 4
    endpoint: str | None = None
    seed: int = 7
    sink: Sink | None = None

    def __post_init__(self) -> None:
        if not 0 < self.duration <= 3600:
            msg = f"`duration` must be in (0, 3600] seconds, got {self.duration!r}."
            raise ValueError(msg)
        if not 1 <= self.workers <= 64:
            msg = f"`workers` must be between 1 and 64, got {self.workers!r}."
            raise ValueError(msg)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass(frozen=True, slots=True)
class _Timings:
    """Every timing of the run, derived from the duration."""

    reset_timeout: float
    tick: float
    alert_window: float
    health_interval: float
    grace: float

    @classmethod
    def for_duration(cls, duration: float) -> _Timings:
        return cls(
            reset_timeout=_clamp(0.04 * duration, 0.15, 5.0),
            tick=_clamp(duration / 60, 0.05, 1.0),
            alert_window=_clamp(0.08 * duration, 0.4, 30.0),
            health_interval=_clamp(duration / 10, 0.25, 10.0),
            grace=_clamp(0.5 * duration, 3.0, 15.0),
        )


class _Alerts:
    """Alert notifications as they arrive, and a flag for "nothing is firing"."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self._firing: set[str] = set()
        self._lock = threading.Lock()
        self.quiet = threading.Event()
        self.quiet.set()
        self.fired = threading.Event()

    def __call__(self, alert: Alert) -> None:
        with self._lock:
            detail = f"{alert.condition} (value {alert.value:.3g}, severity {alert.severity})"
            self.seen.append((alert.rule, alert.reason, detail))
            if alert.reason == "resolved":
                self._firing.discard(alert.fingerprint)
            else:
                self._firing.add(alert.fingerprint)
                self.fired.set()
            if self._firing:
                self.quiet.clear()
            else:
                self.quiet.set()

    @property
    def firing(self) -> int:
        with self._lock:
            return len(self._firing)


def run_demo(config: DemoConfig, progress_console: Console | None = None) -> DemoReport:
    """Run the demo described by *config* and return its report.

    Progress goes to *progress_console* (stderr by default). This is a whole program, not a
    library call: it configures the global providers, instruments tenacity, pybreaker and
    SQLAlchemy for its duration, and sets ``OTEL_METRIC_EXPORT_INTERVAL`` (unless already set)
    so metrics are exported during a short run.
    """
    timings = _Timings.for_duration(config.duration)
    tally = Tally()
    unsubscribe = subscribe_skips(tally.on_skip)
    endpoint = None
    if config.sink is None:
        endpoint = config.endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    own_sink = config.sink is None and not endpoint
    sink = config.sink if config.sink is not None else (None if endpoint else Sink().start())
    received_events: Counter[str] | None = None
    if sink is not None:
        endpoint = sink.http_endpoint
        # Counted as they arrive: the sink's own store is bounded and a long run outgrows it.
        received_events = Counter()
        sink.subscribe(_count_events(received_events))
    os.environ.setdefault(
        "OTEL_METRIC_EXPORT_INTERVAL", str(int(_clamp(config.duration / 6, 0.25, 10.0) * 1000))
    )
    alerts = _Alerts()
    service = TelemetryService(retention="10m", resolution=timings.tick, interval=timings.tick)
    if config.sink is not None and config.sink.has_ui:
        config.sink.show_alerts(service)
    service.add_rule(
        AlertRule(
            name=ALERT_RULE,
            metric="foundation.circuit_breaker.calls",
            condition="rate > 0",
            attributes={Attr.BREAKER_NAME: "payments", "circuit_breaker.outcome": "rejected"},
            window=timings.alert_window,
            severity="error",
        ),
        notifiers=[CallbackNotifier(alerts, name="demo-report")],
    )
    telemetry = configure(
        None if "OTEL_SERVICE_NAME" in os.environ else SERVICE_NAME,
        exporter="otlp",
        endpoint=endpoint,
        protocol="http/protobuf" if sink is not None else None,
        metric_readers=[service],
        span_processors=[TallySpanProcessor(tally)],
        log_processors=[TallyLogProcessor(tally)],
    )
    instrumentors: list[Any] = [
        TenacityInstrumentor(),
        PyBreakerInstrumentor(),
        SQLAlchemyPoolInstrumentor(),
    ]
    applied = [each for each in instrumentors if not each.is_instrumented_by_opentelemetry]
    for instrumentor in applied:
        instrumentor.instrument()
    transitions: list[tuple[str, str]] = []
    attach(
        "demo-breaker-transitions", CIRCUIT_BREAKER_STATE_CHANGE, _record_transition(transitions)
    )
    started = time.monotonic()
    workdir = tempfile.TemporaryDirectory(prefix="foundation-demo-")
    try:
        plan = FaultPlan(
            config.duration,
            config.seed,
            lambda: time.monotonic() - started,
            outage_seen=alerts.fired.is_set,
        )
        orders = OrderService(
            plan, Path(workdir.name) / "orders.db", reset_timeout=timings.reset_timeout
        )
        with service_lifecycle(
            "orders",
            health_check=lambda: orders.breaker.current_state != "open",
            health_interval=timings.health_interval,
        ):
            interrupted = asyncio.run(
                _drive(
                    orders, plan, config, timings, alerts, progress_console or Console(stderr=True)
                )
            )
        elapsed = time.monotonic() - started
        orders.close()
        service.force_flush()
        pool_wait = service.query("db.client.connection.wait_time", {Attr.POOL_NAME: POOL_NAME})
        # Freeze every emitter (alert evaluation, notifications), then drain the pipeline, so
        # the books are closed on a quiet system.
        service.shutdown()
        telemetry.force_flush()
    finally:
        detach("demo-breaker-transitions")
        telemetry.shutdown()
        # After shutdown nothing is in flight any more: what an exporter gave up on during the
        # shutdown is counted by now, and the sink has everything that arrived.
        produced_spans, produced_logs, dropped = tally.snapshot()
        stats = sink.stats if sink is not None else None
        received_events = Counter(received_events) if received_events is not None else None
        for instrumentor in applied:
            instrumentor.uninstrument()
        unsubscribe()
        if own_sink and sink is not None:
            sink.stop()
        workdir.cleanup()
    accepted: Mapping[str, int] = stats.accepted if stats is not None else {}
    with tally.lock:
        shapes, events = list(tally.shapes), list(tally.events)
        produced_events = Counter(tally.event_names)
        latencies = list(tally.order_latencies)
        drop_reasons = Counter(tally.drop_reasons)
    return DemoReport(
        duration=elapsed,
        workers=config.workers,
        seed=config.seed,
        endpoint=str(endpoint),
        embedded_sink=sink is not None,
        outcomes=Counter(orders.outcomes),
        produced_events=produced_events,
        received_events=received_events,
        latencies=latencies,
        breaker_transitions=transitions,
        alerts=list(alerts.seen),
        accounting=[
            Accounting(
                "traces",
                produced_spans,
                accepted.get("traces", 0) if stats else None,
                dropped.get("traces", 0),
            ),
            Accounting(
                "logs",
                produced_logs,
                accepted.get("logs", 0) if stats else None,
                dropped.get("logs", 0),
            ),
        ],
        received_metric_points=accepted.get("metrics", 0) if stats else None,
        trace=sample_trace(shapes, events),
        outage_extended=plan.held,
        interrupted=interrupted,
        pool_wait=None if pool_wait.empty else (pool_wait.p50, pool_wait.p99, pool_wait.count),
        drop_reasons=drop_reasons,
    )


def _count_events(counts: Counter[str]) -> Callable[[Sequence[Any]], None]:
    def listener(records: Sequence[Any]) -> None:
        for record in records:
            if isinstance(record, EventRecord) and record.kind is RecordKind.EVENT:
                counts[record.name] += 1

    return listener


def _record_transition(
    transitions: list[tuple[str, str]],
) -> Callable[[str, Mapping[str, Any], Mapping[str, Any], Any], None]:
    def handler(
        name: str, measurements: Mapping[str, Any], metadata: Mapping[str, Any], config: Any
    ) -> None:
        transitions.append((str(metadata[Attr.FROM_STATE]), str(metadata[Attr.TO_STATE])))

    return handler


async def _drive(
    orders: OrderService,
    plan: FaultPlan,
    config: DemoConfig,
    timings: _Timings,
    alerts: _Alerts,
    console: Console,
) -> bool:
    """Run the order loops for the planned duration, then until no alert fires (bounded).

    Returns whether the run was interrupted (Ctrl-C) before its end.
    """
    stopping = asyncio.Event()
    ids = itertools.count(1)

    async def worker() -> None:
        while not stopping.is_set():
            burst = plan.phase().orders_per_worker
            await asyncio.gather(*(orders.process(next(ids)) for _ in range(burst)))
            # Think time between a worker's orders: this shapes the load, it waits for nothing.
            await asyncio.sleep(plan.uniform(0.005, 0.02))

    tasks = [asyncio.create_task(worker()) for _ in range(config.workers)]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    finished_at: float | None = None
    interrupted = False
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("starting", total=config.duration)
        try:
            while True:
                done = plan.progress()
                if done >= config.duration:
                    # The plan is done; let a firing alert resolve and the breaker close (bounded).
                    now = time.monotonic()
                    finished_at = finished_at or now
                    settled = alerts.quiet.is_set() and orders.breaker.current_state == "closed"
                    if settled or now - finished_at >= timings.grace:
                        break
                description = (
                    f"{plan.phase().name:<14} orders {sum(orders.outcomes.values()):>5}  "
                    f"breaker {orders.breaker.current_state:<9} alerts firing {alerts.firing}"
                )
                progress.update(task, completed=min(done, config.duration), description=description)
                # Refresh rate of the progress bar; the work happens in the worker tasks.
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            # Ctrl-C: asyncio.run cancels this task. Stop the workers and return normally, so
            # the books are still closed and the report printed.
            interrupted = True
        else:
            progress.update(task, completed=config.duration)
    stopping.set()
    await asyncio.gather(*tasks)
    return interrupted
