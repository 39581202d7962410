"""Test-side cost of one wait late in a long test, against the same wait early in it.

Two recorders live in one process: one holds 1,000 recorded spans, the other 20,000 (each span
with 2 attributes and one span event ``step {i}``). After one warm-up wait of each kind (a
test that waits at all has looked once already; that first look reads the history once and is
reported as INFO), each round emits one matching item into both and runs the same wait on
both, alternating which goes first; CPU time (``thread_time``) per wait is compared as the
median of the per-round ratios. Waits: an expectation entered after the spans, a collector
attached after them, ``wait_for_metric_threshold`` and the domain wait
``wait_for_service_ready`` (both read from the start of the test). Target: 20k / 1k <= 1.5x.
"""

from __future__ import annotations

import functools
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from benchmarks._harness import GroupResult, Settings, Target
from foundation_telemetry import taxonomy
from foundation_telemetry.testing import Recorder, metric_capture_options

GROUP = "scaling"
_SMALL = 1_000
_LARGE = 20_000
_LIMIT = 1.5
_HITS = [0]


class _Test:
    """One recorder with *spans* recorded spans, and the actions the waits look for."""

    def __init__(self, spans: int) -> None:
        self.recorder = Recorder(capacity=2 * spans + 10_000)
        self.tracer_provider = TracerProvider(shutdown_on_exit=False)
        self.meter_provider = MeterProvider(
            metric_readers=[InMemoryMetricReader()],
            shutdown_on_exit=False,
            **metric_capture_options(),
        )
        self.recorder.attach(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )
        self.tracer = self.tracer_provider.get_tracer("scaling")
        self.counter = self.meter_provider.get_meter("scaling").create_counter("scaling.hits")
        for index in range(spans):
            with self.tracer.start_as_current_span("work", attributes={"i": index, "k": "v"}) as s:
                s.add_event(f"step {index}")

    def event(self, name: str, **attributes: Any) -> None:
        with self.tracer.start_as_current_span("emit") as span:
            span.add_event(name, attributes)

    def expectation(self, round_: int) -> None:
        with self.recorder.assert_telemetry_event("hit", n=round_, timeout=5):
            self.event("hit", n=round_)

    def collector(self, round_: int) -> None:
        collector = self.recorder.attach_collector("hit", n=round_)
        self.event("hit", n=round_)
        collector.wait(5)

    def metric(self, round_: int) -> None:
        # The measurement tap is process-wide: every recorder sees every test's measurements.
        self.counter.add(1)
        _HITS[0] += 1
        self.recorder.wait_for_metric_threshold("scaling.hits", _HITS[0], timeout=5).wait()

    def domain(self, round_: int) -> None:
        name = f"svc{round_}"
        self.event(taxonomy.SERVICE_STARTED, **{taxonomy.Attr.SERVICE_NAME: name})
        self.recorder.wait_for_service_ready(name, timeout=5).wait()

    def close(self) -> None:
        self.recorder.detach_metrics()
        self.meter_provider.shutdown()


_WAITS: dict[str, tuple[Callable[[_Test, int], None], bool]] = {
    # label: (wait, whether it reads from the start of the test)
    "expectation entered after the spans": (_Test.expectation, False),
    "collector attached after the spans": (_Test.collector, False),
    "domain wait (wait_for_service_ready)": (_Test.domain, True),
    "wait_for_metric_threshold": (_Test.metric, True),
}


def _cpu(action: Callable[[], None]) -> float:
    start = time.thread_time_ns()
    action()
    return float(time.thread_time_ns() - start)


def run(settings: Settings) -> GroupResult:
    """Compare one wait after 20,000 recorded spans with the same wait after 1,000."""
    result = GroupResult(GROUP)
    small, large = _Test(_SMALL), _Test(_LARGE)
    rounds = max(settings.rounds * 3, 9)
    try:
        for offset, (label, (wait, from_start)) in enumerate(_WAITS.items()):
            first = {}
            for test in (small, large):  # the first look of a test reads its history once
                first[test] = _cpu(functools.partial(wait, test, -1 - offset))
            ratios, costs = [], []
            gc.collect()
            for round_ in range(rounds):
                pair = (small, large) if round_ % 2 else (large, small)
                step = round_ + 1000 * offset
                cost = {test: _cpu(functools.partial(wait, test, step)) for test in pair}
                ratios.append(cost[large] / cost[small])
                costs.append((cost[small], cost[large]))
            small_us = statistics.median(c[0] for c in costs) / 1000
            large_us = statistics.median(c[1] for c in costs) / 1000
            result.add(
                Target(
                    GROUP,
                    f"one wait after {_LARGE} vs {_SMALL} spans, {label}",
                    statistics.median(ratios),
                    _LIMIT,
                    detail=f"{large_us:.0f} us vs {small_us:.0f} us CPU per wait "
                    f"(median of {rounds} interleaved rounds)",
                )
            )
            if from_start and offset == 2:  # the first wait from the start indexes the history
                result.add(
                    Target(
                        GROUP,
                        f"first wait from the start of the test after {_LARGE} spans",
                        first[large] / 1e6,
                        None,
                        unit="ms",
                        detail=f"{first[small] / 1e6:.1f} ms after {_SMALL}; once per test",
                    )
                )
    finally:
        small.close()
        large.close()
    return result
