"""Metric hot paths with per-measurement capture on, against the stock SDK (reference figures).

Ours is the meter provider ``configure(exporter="memory")`` builds, where the Recorder sees every
measurement as it is recorded, with an ``InMemoryMetricReader`` passed in; stock is a
``MeterProvider`` with the same reader. So the ratio is the cost of per-measurement capture. A
first line measures what every ``configure()`` user pays while no recorder listens (the capture
View is on every provider ``configure()`` builds); it runs before any recorder exists in the
process. A sanity line checks that ``configure(exporter="memory")`` alone captures measurements
at all.
The research notes recommend <= 1.05x for these pass-through paths; no issue sets a target, so
the lines are INFO.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from benchmarks._harness import (
    ComponentMissing,
    GroupResult,
    Settings,
    Target,
    Variant,
    interleave,
    require,
)

GROUP = "metrics"
ATTRS: dict[str, str] = {"http.route": "/orders/{id}", "http.request.method": "GET"}


def _instruments(provider: Any) -> tuple[Any, Any]:
    meter = provider.get_meter("benchmarks")
    return meter.create_counter("bench.requests"), meter.create_histogram(
        "bench.duration", unit="s"
    )


def run(settings: Settings) -> GroupResult:
    """Compare ``counter.add`` and ``histogram.record`` with capture on vs stock."""
    result = GroupResult(GROUP)
    names = ("counter.add with capture vs stock", "histogram.record with capture vs stock")
    try:
        configure = require("foundation_telemetry", "configure")
    except ComponentMissing as exc:
        result.skip(names, str(exc))
        return result
    result.add(_idle(configure, settings, result))
    result.add(_capture_check(configure))
    telemetry = configure(
        service_name="bench",
        exporter="memory",
        set_global=False,
        metric_readers=[InMemoryMetricReader()],
    )
    stock_provider = MeterProvider(metric_readers=[InMemoryMetricReader()], shutdown_on_exit=False)
    captured_before = len(telemetry.recorder.metric_points())
    try:
        ours_counter, ours_histogram = _instruments(telemetry.meter_provider)
        ours_counter.add(1, ATTRS)
        captured = len(telemetry.recorder.metric_points()) - captured_before
        stock_counter, stock_histogram = _instruments(stock_provider)
        clear = telemetry.recorder.buffer.clear
        table = interleave(
            "metric hot paths (2 attributes)",
            [
                Variant("stock_add", "stock counter.add", lambda: stock_counter.add(1, ATTRS)),
                Variant(
                    "ours_add",
                    "ours counter.add (captured)",
                    lambda: ours_counter.add(1, ATTRS),
                    clear,
                ),
                Variant(
                    "stock_rec",
                    "stock histogram.record",
                    lambda: stock_histogram.record(0.25, ATTRS),
                ),
                Variant(
                    "ours_rec",
                    "ours histogram.record (captured)",
                    lambda: ours_histogram.record(0.25, ATTRS),
                    clear,
                ),
            ],
            "stock_add",
            settings,
        )
    finally:
        telemetry.shutdown()
        stock_provider.shutdown()
    result.tables.append(table)
    if captured < 1:
        msg = "the recorder captured no measurement; the capture benchmark would measure nothing."
        raise RuntimeError(msg)
    for name, ours, stock in zip(
        names, ("ours_add", "ours_rec"), ("stock_add", "stock_rec"), strict=True
    ):
        ratio = table.ratio(ours) / table.ratio(stock)
        result.add(
            Target(
                GROUP,
                name,
                ratio,
                None,
                detail=(
                    f"+{table.diff_ns(ours, stock) / 1e3:.2f} us per measurement; "
                    "research recommends <= 1.05x"
                ),
            )
        )
    return result


def _idle(configure: Any, settings: Settings, result: GroupResult) -> Target:
    """``counter.add`` on a provider ``configure()`` built, nobody recording, vs stock."""
    telemetry = configure(
        service_name="bench",
        exporter="none",
        set_global=False,
        metric_readers=[InMemoryMetricReader()],
    )
    stock_provider = MeterProvider(metric_readers=[InMemoryMetricReader()], shutdown_on_exit=False)
    try:
        ours_counter, _ = _instruments(telemetry.meter_provider)
        stock_counter, _ = _instruments(stock_provider)
        table = interleave(
            "metric hot path, nobody recording (2 attributes)",
            [
                Variant("stock_add", "stock counter.add", lambda: stock_counter.add(1, ATTRS)),
                Variant(
                    "idle_add",
                    "ours counter.add (not recording)",
                    lambda: ours_counter.add(1, ATTRS),
                ),
            ],
            "stock_add",
            settings,
        )
    finally:
        telemetry.shutdown()
        stock_provider.shutdown()
    result.tables.append(table)
    return Target(
        GROUP,
        "counter.add via configure(), nobody recording, vs stock",
        table.ratio("idle_add"),
        None,
        detail=f"+{table.diff_ns('idle_add', 'stock_add') / 1e3:.2f} us per measurement",
    )


def _capture_check(configure: Any) -> Target:
    """``configure(exporter="memory")`` with no reader passed in must still capture."""
    telemetry = configure(service_name="bench", exporter="memory", set_global=False)
    try:
        counter, _ = _instruments(telemetry.meter_provider)
        counter.add(1, ATTRS)
        captured = len(telemetry.recorder.metric_points())
    finally:
        telemetry.shutdown()
    return Target(
        GROUP,
        "metric capture with configure(exporter='memory') alone",
        float(captured),
        1.0,
        op=">=",
        unit="points",
        detail="measurements the Recorder saw after one counter.add (correctness, not speed)",
    )
