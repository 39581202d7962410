"""TelemetryService: one collection + rule evaluation cycle for 100 series x 10 rules.

Ten histograms with ten attribute sets each (100 series) get one measurement per series per
cycle; the service's clock advances one resolution step per cycle (an injected fake clock), and a
warm-up fills the default retention first, so every cycle is measured at steady state. Only
``force_flush()`` (collect + store + evaluate, all on the calling thread) is measured, as the CPU
time of that thread (``time.thread_time_ns()``): what a cycle costs, which preemption on a loaded
machine does not add to. The wall time is reported beside it. The stock reference in the same loop
is ``InMemoryMetricReader.get_metrics_data()`` on an identical meter provider, i.e. the
collection alone. Target: <= 5 ms of CPU per cycle.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
import tracemalloc
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from benchmarks._harness import ComponentMissing, GroupResult, Settings, Target, percentile, require

GROUP = "service"
METRICS = 10
ATTR_SETS = 10
WARMUP_CYCLES = 100  # 1000 s of service clock: more than the default 900 s retention
STEP_S = 10.0
CONDITIONS = (
    "p99 > 0.5",
    "rate < 1",
    "mean > 10",
    "max > 100",
    "p50[5m] > 0.2",
    "count > 1000000",
    "anomaly",
    "anomaly(ewma)",
    "p90 >= 1",
    "sum > 1e9",
)


def _histograms(provider: MeterProvider) -> list[Any]:
    meter = provider.get_meter("benchmarks")
    return [meter.create_histogram(f"bench.latency.{i}", unit="s") for i in range(METRICS)]


def _record(instruments: list[Any], rng: random.Random) -> None:
    for instrument in instruments:
        for j in range(ATTR_SETS):
            instrument.record(rng.expovariate(10.0), {"route": f"/r{j}", "method": "GET"})


def run(settings: Settings) -> GroupResult:
    """Time service cycles against stock collection."""
    result = GroupResult(GROUP)
    name = f"TelemetryService cycle, {METRICS * ATTR_SETS} series x {len(CONDITIONS)} rules"
    try:
        service_mod = require("foundation_telemetry.service", "TelemetryService", "AlertRule")
    except ComponentMissing as exc:
        result.skip((name,), str(exc))
        return result
    now = [1_000_000.0]
    service = service_mod.TelemetryService(clock=lambda: now[0])
    for index, condition in enumerate(CONDITIONS):
        service.add_rule(
            service_mod.AlertRule(f"rule-{index}", f"bench.latency.{index}", condition),
            notifiers=[lambda alert: None],
        )
    ours_provider = MeterProvider(metric_readers=[service], shutdown_on_exit=False)
    stock_reader = InMemoryMetricReader()
    stock_provider = MeterProvider(metric_readers=[stock_reader], shutdown_on_exit=False)
    ours_instruments, stock_instruments = _histograms(ours_provider), _histograms(stock_provider)
    rng = random.Random(7)
    ours_ms: list[float] = []
    stock_ms: list[float] = []
    ours_wall_ms: list[float] = []
    warmup = 2 if settings.mode == "tiny" else WARMUP_CYCLES
    try:
        for cycle in range(warmup + settings.service_cycles):
            now[0] += STEP_S
            _record(ours_instruments, rng)
            _record(stock_instruments, rng)
            pair = [("ours", service.force_flush), ("stock", stock_reader.get_metrics_data)]
            for label, collect in pair if cycle % 2 == 0 else pair[::-1]:
                wall_start, start = time.perf_counter_ns(), time.thread_time_ns()
                collect()
                elapsed = (time.thread_time_ns() - start) / 1e6
                wall = (time.perf_counter_ns() - wall_start) / 1e6
                if cycle >= warmup:
                    (ours_ms if label == "ours" else stock_ms).append(elapsed)
                    if label == "ours":
                        ours_wall_ms.append(wall)
    finally:
        ours_provider.shutdown()
        stock_provider.shutdown()
    ratios = [a / b for a, b in zip(ours_ms, stock_ms, strict=True)]
    figures = {
        "cycles": len(ours_ms),
        "ours_median_ms": statistics.median(ours_ms),
        "ours_p90_ms": percentile(ours_ms, 90),
        "ours_min_ms": min(ours_ms),
        "ours_wall_median_ms": statistics.median(ours_wall_ms),
        "stock_median_ms": statistics.median(stock_ms),
        "stock_min_ms": min(stock_ms),
        "ratio_median": statistics.median(ratios),
    }
    result.extra["cycle"] = figures
    result.add(
        Target(
            GROUP,
            name,
            figures["ours_median_ms"],
            5.0,
            unit="ms CPU",
            detail=(
                f"p90 {figures['ours_p90_ms']:.2f} ms, wall median "
                f"{figures['ours_wall_median_ms']:.2f} ms; stock collect alone "
                f"{figures['stock_median_ms']:.2f} ms ({figures['ratio_median']:.2f}x); "
                f"{figures['cycles']} cycles"
            ),
        )
    )
    result.add(_memory_per_series(service_mod, settings))
    return result


def _retained_bytes(make_reader: Any, collect: str, cycles: int) -> int:
    """Traced memory a provider + reader keeps after *cycles* collections of the 100 series."""
    now = [1_000_000.0]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        reader = make_reader(lambda: now[0])
        provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
        instruments = _histograms(provider)
        rng = random.Random(3)
        for _ in range(cycles):
            now[0] += STEP_S
            _record(instruments, rng)
            getattr(reader, collect)()
        gc.collect()
        kept: int = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    provider.shutdown()
    return kept


def _memory_per_series(service_mod: Any, settings: Settings) -> Target:
    """Bytes the service keeps per series at the default retention, over the stock reader's."""
    cycles = WARMUP_CYCLES if settings.mode == "full" else 3
    ours = _retained_bytes(
        lambda clock: service_mod.TelemetryService(clock=clock), "force_flush", cycles
    )
    stock = _retained_bytes(lambda clock: InMemoryMetricReader(), "get_metrics_data", cycles)
    series = METRICS * ATTR_SETS
    return Target(
        GROUP,
        "TelemetryService memory per series, default retention",
        (ours - stock) / series,
        None,
        unit="B",
        detail=(
            f"histogram series, {cycles} collections {STEP_S:.0f} s apart"
            f"{' (retention filled)' if cycles == WARMUP_CYCLES else ' (full mode fills retention)'}; "
            f"over a stock InMemoryMetricReader provider ({stock / series:.0f} B per series)"
        ),
    )
