"""Wake latency from ``span.end()`` on one thread to a blocked waiter running on another.

For each event the waiter arms itself (``attach_collector``), signals that it is ready, and blocks
(``Collector.wait()`` or ``await collector.wait_async()``); the producer pauses briefly so the
waiter is really blocked, takes a timestamp, and ends a span that carries the ``wake`` span event
(span events become visible when their span ends). Latency is the waiter's timestamp
after it wakes minus the producer's before ``span.end()``. Reference floors in the same run: a
bare ``threading.Condition`` / ``call_soon_threadsafe`` wake-up from a span processor, and the
stock way people wait today (polling ``InMemorySpanExporter`` every 1 ms). All of them run
interleaved in ten blocks with a rotating order, so host noise hits each alike. Targets, as a ratio
to the floor of the same run (an absolute figure fails whenever the host is loaded): p99 <= 2x the
Condition floor's p99 (threads), <= 2x the call_soon_threadsafe floor's (asyncio), and a waiting
test burns about no CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import Tracer

from benchmarks._harness import (
    ComponentMissing,
    GroupResult,
    Settings,
    Target,
    percentile,
)
from benchmarks._pipelines import ours_recording, stock_memory, tracer_for

GROUP = "wake"

SETTLE_S = 0.0005  # the producer's pause so that the waiter is blocked, not still arming
TIMEOUT_S = 10.0

FLOOR_SYNC = "floor: Condition.notify_all -> wait_for"
FLOOR_ASYNC = "floor: call_soon_threadsafe -> await future"
OURS_SYNC = "ours: Recorder attach_collector -> Collector.wait()"
OURS_ASYNC = "ours: Recorder attach_collector -> await wait_async()"

SyncArm = Callable[[int], Callable[[], object]]
AsyncArm = Callable[[int], Callable[[], Awaitable[object]]]


class _ConditionFloor(SpanProcessor):
    """The primitive floor: append + ``notify_all`` under a Condition in ``on_end``."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.ended = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.future: asyncio.Future[None] | None = None

    def on_end(self, span: ReadableSpan) -> None:
        with self.cond:
            self.ended += 1
            self.cond.notify_all()
        future, loop = self.future, self.loop
        self.future = None  # one wake-up per armed future; sync rounds leave it None
        if future is not None and loop is not None:
            loop.call_soon_threadsafe(_resolve, future)

    def arm_sync(self, index: int) -> Callable[[], object]:
        target = self.ended + 1  # armed before the span ends: wait for the next one
        return lambda: self._wait(target)

    def _wait(self, target: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.ended >= target, TIMEOUT_S)

    def arm_async(self, index: int) -> Callable[[], Awaitable[object]]:
        self.loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = self.loop.create_future()
        self.future = future
        return lambda: asyncio.wait_for(future, TIMEOUT_S)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _wake_span(tracer: Tracer, index: int) -> Any:
    """A running span carrying the ``wake`` span event; both become visible at ``end()``."""
    span = tracer.start_span("wake.span", attributes={"i": index})
    span.add_event("wake", {"i": index})
    return span


def _sync_latencies(tracer: Tracer, arm: SyncArm, events: int, first: int = 0) -> list[float]:
    """Microseconds from ``span.end()`` to the waiter running, one per event.

    Events are numbered from *first* on, so every span in a run is distinct.
    """
    ready, done = threading.Event(), threading.Event()
    woke: list[int] = [0]

    def waiter() -> None:
        for index in range(first, first + events):
            wait = arm(index)
            ready.set()
            wait()
            woke[0] = time.perf_counter_ns()
            done.set()

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    latencies = []
    for index in range(first, first + events):
        span = _wake_span(tracer, index)
        ready.wait(TIMEOUT_S)
        ready.clear()
        time.sleep(SETTLE_S)
        start = time.perf_counter_ns()
        span.end()
        done.wait(TIMEOUT_S)
        done.clear()
        latencies.append((woke[0] - start) / 1e3)
    thread.join(TIMEOUT_S)
    return latencies


def _async_latencies(tracer: Tracer, arm: AsyncArm, events: int, first: int = 0) -> list[float]:
    """Like ``_sync_latencies`` with the waiter awaiting on an event loop in its own thread."""
    ready, done = threading.Event(), threading.Event()
    woke: list[int] = [0]

    async def main() -> None:
        for index in range(first, first + events):
            wait = arm(index)
            ready.set()
            await wait()
            woke[0] = time.perf_counter_ns()
            done.set()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    latencies = []
    for index in range(first, first + events):
        span = _wake_span(tracer, index)
        ready.wait(TIMEOUT_S)
        ready.clear()
        time.sleep(SETTLE_S)
        start = time.perf_counter_ns()
        span.end()
        done.wait(TIMEOUT_S)
        done.clear()
        latencies.append((woke[0] - start) / 1e3)
    thread.join(TIMEOUT_S)
    return latencies


def _poll_arm(exporter_len: Callable[[], int], interval: float) -> SyncArm:
    """The stock way: poll ``InMemorySpanExporter`` until the span shows up."""

    def arm(index: int) -> Callable[[], object]:
        seen = exporter_len()

        def wait() -> None:
            deadline = time.monotonic() + TIMEOUT_S
            while exporter_len() <= seen and time.monotonic() < deadline:
                time.sleep(interval)

        return wait

    return arm


def _summary(latencies: list[float]) -> dict[str, float]:
    return {
        "events": len(latencies),
        "min_us": min(latencies),
        "p50_us": statistics.median(latencies),
        "p90_us": percentile(latencies, 90),
        "p99_us": percentile(latencies, 99),
        "p99.9_us": percentile(latencies, 99.9),
        "max_us": max(latencies),
    }


def _cpu_while_waiting(wait: Callable[[], object], seconds: float) -> float:
    """CPU seconds per wall second the waiting thread burns while nothing arrives."""
    box: list[float] = []

    def body() -> None:
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        with contextlib.suppress(AssertionError):  # the expected timeout: nothing arrives
            wait()
        box.append((time.thread_time() - cpu0) / (time.perf_counter() - wall0))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(seconds + TIMEOUT_S)
    return box[0]


@dataclass
class _Waiting:
    """One way of waiting: sync or asyncio, its tracer and how it arms itself per event."""

    label: str
    tracer: Tracer
    sync: SyncArm | None = None
    asynchronous: AsyncArm | None = None
    share: int = 1  # run events // share events of this kind (polling is slow)
    reset: Callable[[], None] | None = None
    latencies: list[float] = field(default_factory=list)

    def measure(self, events: int, first: int) -> None:
        count = max(1, events // self.share)
        if self.sync is not None:
            self.latencies += _sync_latencies(self.tracer, self.sync, count, first)
        elif self.asynchronous is not None:
            self.latencies += _async_latencies(self.tracer, self.asynchronous, count, first)
        if self.reset is not None:
            self.reset()


def _interleaved(waitings: list[_Waiting], events: int, chunks: int) -> None:
    """Run the waitings in *chunks* blocks, rotating the order, so all see the same noise."""
    per_chunk = max(1, events // chunks)
    for chunk in range(chunks):
        shift = chunk % len(waitings)
        for waiting in [*waitings[shift:], *waitings[:shift]]:
            waiting.measure(per_chunk, chunk * per_chunk)


def run(settings: Settings) -> GroupResult:
    """Measure wake latency for the floors, stock polling and the Recorder's collectors."""
    result = GroupResult(GROUP)
    events = settings.wake_events
    chunks = min(10, events)
    floor = _ConditionFloor()
    floor_tracer = tracer_for(floor)
    stock = stock_memory()
    waitings = [
        _Waiting(FLOOR_SYNC, floor_tracer, sync=floor.arm_sync),
        _Waiting(FLOOR_ASYNC, floor_tracer, asynchronous=floor.arm_async),
        _Waiting(
            "stock: poll InMemorySpanExporter every 1 ms",
            tracer_for(stock.processor),
            sync=_poll_arm(stock.retained, 0.001),
            share=5,
            reset=stock.clear,
        ),
    ]
    names = (
        "wake p99 / floor p99, threaded Collector.wait()",
        "wake p99 / floor p99, asyncio await wait_async()",
    )
    cpu_names = ("CPU while waiting, threaded", "CPU while waiting, asyncio")
    try:
        ours = ours_recording(capacity=max(1000, events * 4), api=True)
    except ComponentMissing as exc:
        result.skip(names + cpu_names, str(exc))
        _interleaved(waitings, events, chunks)
        _finish(result, waitings)
        return result
    recorder = ours.owner
    tracer = tracer_for(ours.processor)

    def arm_sync(index: int) -> Callable[[], object]:
        collector = recorder.attach_collector("wake", i=index)
        return lambda: collector.wait(timeout=TIMEOUT_S)

    def arm_async(index: int) -> Callable[[], Awaitable[object]]:
        collector = recorder.attach_collector("wake", i=index)
        return lambda: collector.wait_async(timeout=TIMEOUT_S)

    def arm_span(index: int) -> Callable[[], object]:
        expectation = recorder.expect_span("wake.span", i=index, timeout=TIMEOUT_S)
        expectation.__enter__()
        return lambda: expectation.__exit__(None, None, None)

    waitings += [
        _Waiting(OURS_SYNC, tracer, sync=arm_sync, reset=ours.clear),
        _Waiting(OURS_ASYNC, tracer, asynchronous=arm_async, reset=ours.clear),
        _Waiting(
            "ours: with recorder.expect_span(...) block exit",
            tracer,
            sync=arm_span,
            reset=ours.clear,
        ),
    ]
    _interleaved(waitings, events, chunks)
    rows = _finish(result, waitings)
    for name, label, floor_label in (
        (names[0], OURS_SYNC, FLOOR_SYNC),
        (names[1], OURS_ASYNC, FLOOR_ASYNC),
    ):
        row, base = rows[label], rows[floor_label]
        result.add(
            Target(
                GROUP,
                name,
                row["p99_us"] / base["p99_us"],
                2.0,
                detail=(
                    f"ours p50/p99 {row['p50_us']:.0f}/{row['p99_us']:.0f} us; floor p50/p99 "
                    f"{base['p50_us']:.0f}/{base['p99_us']:.0f} us (same run, interleaved)"
                ),
            )
        )

    idle = 0.2 if settings.mode == "tiny" else 1.0
    sync_cpu = _cpu_while_waiting(
        lambda: recorder.attach_collector("never").wait(timeout=idle), idle
    )

    async def idle_wait() -> None:
        await recorder.attach_collector("never").wait_async(timeout=idle)

    async_cpu = _cpu_while_waiting(lambda: asyncio.run(idle_wait()), idle)
    poll_cpu = _cpu_while_waiting(_poll_for(idle), idle)
    for name, value in zip(cpu_names, (sync_cpu, async_cpu), strict=True):
        result.add(
            Target(
                GROUP,
                name,
                value * 100,
                1.0,
                unit="% of a core",
                detail=f"stock 1 ms polling burns {poll_cpu * 100:.1f}%",
            )
        )
    return result


def _finish(result: GroupResult, waitings: list[_Waiting]) -> dict[str, dict[str, float]]:
    rows = {w.label: _summary(w.latencies) for w in waitings}
    result.extra["latency"] = rows
    result.text.append(_render(rows))
    return rows


def _poll_for(seconds: float) -> Callable[[], object]:
    def wait() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.001)

    return wait


def _render(rows: dict[str, dict[str, float]]) -> str:
    width = max(len(label) for label in rows)
    lines = [
        f"  {'latency span.end() -> waiter running':<{width + 2}}  events   p50 us   p99 us  p99.9 us"
    ]
    for label, row in rows.items():
        lines.append(
            f"    {label:<{width}} {row['events']:>6.0f} {row['p50_us']:>8.1f} "
            f"{row['p99_us']:>8.1f} {row['p99.9_us']:>9.1f}"
        )
    return "\n".join(lines)
