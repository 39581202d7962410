"""Property tests: random workloads through the real SDK against truth computed from the raw log.

Hypothesis draws a resolution, irregular collection times and, per collection, what each of a
few series does (a counter add, an up-down counter move, histogram measurements, an observable
counter reading that may restart) or that it stays quiet; series start late, stop and go
sparse. Every measurement is logged, and the truth is computed from that log alone, by brute
force, with the documented semantics (docs/service.md): a collection belongs to the slot
``(k*r, (k+1)*r]`` its time falls in; a slot's sample covers from the collection before its
first one to its last one; a window ``(now - w, now]`` counts the slot it starts in pro rata; a
quiet series keeps its level. The same workload runs under each reader temporality and must
give the same answers. Windows that start on a sample boundary are also checked against the
plain time truth (the measurements collected inside the window), and every other window lies
between what the slots fully inside it and the slots touching it hold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider

from foundation_telemetry.service import Stats, TelemetryService

from .conftest import FakeClock

SERIES = ("a", "b", "c")
BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5)
START = 1000.0


@dataclass
class Step:
    """What happens before one collection: its time step and each series' measurements."""

    dt: int
    adds: dict[str, int] = field(default_factory=dict)
    moves: dict[str, int] = field(default_factory=dict)
    values: dict[str, list[float]] = field(default_factory=dict)
    readings: dict[str, int] = field(default_factory=dict)


@st.composite
def workloads(draw: st.DrawFn) -> tuple[int, list[Step], list[float]]:
    resolution = draw(st.sampled_from([1, 2, 5, 10]))
    count = draw(st.integers(5, 30))
    active = {name: draw(st.integers(0, count - 1)) for name in SERIES}
    active["a"] = 0  # one series from the first collection, so every slot has a sample
    stops = {name: draw(st.integers(active[name] + 1, count + 5)) for name in SERIES}
    totals: dict[str, int] = {}
    steps = []
    for index in range(count):
        step = Step(draw(st.sampled_from([1, 1, 2, 3, 5, 7])))
        for name in SERIES:
            if not active[name] <= index < stops[name]:
                continue
            if index == 0 or draw(st.booleans()):
                step.adds[name] = draw(st.integers(1, 50))
                step.moves[name] = draw(st.integers(-20, 20).filter(bool))
                step.values[name] = draw(
                    st.lists(st.floats(0.0, 4.0, allow_nan=False), min_size=1, max_size=4)
                )
            if draw(st.integers(0, 9)) == 0:
                totals[name] = draw(st.integers(0, 5))  # the observed process restarted
            else:
                totals[name] = totals.get(name, 0) + draw(st.integers(0, 30))
            step.readings[name] = totals[name]
        steps.append(step)
    span = sum(step.dt for step in steps)
    windows = draw(st.lists(st.integers(1, span + 10), min_size=1, max_size=4))
    return resolution, steps, [float(w) for w in windows]


def run(
    resolution: int, steps: Sequence[Step], windows: Sequence[float], temporality: str | None
) -> tuple[list[float], dict[float, dict[str, Stats]]]:
    """Play *steps* through a MeterProvider into a service; return collection times and Stats."""
    clock = FakeClock(START)
    service = TelemetryService(
        clock=clock, resolution=resolution, retention=10_000, temporality=temporality
    )
    provider = MeterProvider(metric_readers=[service])
    current: dict[str, int] = {}

    def observe(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, {"s": name}) for name, value in current.items()]

    try:
        meter = provider.get_meter("truth")
        counter = meter.create_counter("requests")
        updown = meter.create_up_down_counter("inflight")
        histogram = meter.create_histogram("latency", explicit_bucket_boundaries_advisory=BOUNDS)
        meter.create_observable_counter("jobs", [observe])
        times = []
        for step in steps:
            for name, amount in step.adds.items():
                counter.add(amount, {"s": name})
                updown.add(step.moves[name], {"s": name})
                for value in step.values[name]:
                    histogram.record(value, {"s": name})
            current = dict(current, **step.readings)
            times.append(clock.advance(step.dt))
            service.force_flush()
        names = ("requests", "inflight", "latency", "jobs")
        answers = {w: {n: service.query(n, window=w) for n in names} for w in windows}
        return times, answers
    finally:
        provider.shutdown()


@dataclass
class Slot:
    """The truth of one slot: its interval and what was collected in it (from the log)."""

    start: float
    end: float
    collections: list[int]


def slots_of(times: Sequence[float], resolution: int, reported: Sequence[bool]) -> list[Slot]:
    """Group collections into slots; a slot starts at the collection before its first report."""
    slots: dict[int, Slot] = {}
    for index, at in enumerate(times):
        key = math.ceil(at / resolution) - 1
        slot = slots.get(key)
        if slot is None and reported[index]:
            before = times[index - 1] if index else START
            slots[key] = Slot(before, at, [index])
        elif slot is not None:
            slot.end = at
            slot.collections.append(index)
    return [slots[k] for k in sorted(slots)]


def pro_rata(slots: Sequence[Slot], amounts: Sequence[float], horizon: float) -> float:
    total = 0.0
    for slot in slots:
        if slot.end <= horizon:
            continue
        amount = sum(amounts[i] for i in slot.collections)
        share = 1.0 if slot.start >= horizon else (slot.end - horizon) / (slot.end - slot.start)
        total += amount * share
    return total


def increases(steps: Sequence[Step]) -> list[float]:
    """The observable counter's increase per collection: a drop is a restart from zero."""
    previous: dict[str, int] = {}
    out = []
    for step in steps:
        amount = 0
        for name, reading in step.readings.items():
            before = previous.get(name)
            amount += reading if before is None or reading < before else reading - before
            previous[name] = reading
        out.append(float(amount))
    return out


def running_levels(per_step: Sequence[dict[str, float]], *, last_value: bool) -> list[float]:
    """The sum over series of each series' level after each collection (quiet ones included)."""
    levels: dict[str, float] = {}
    out = []
    for changes in per_step:
        for name, value in changes.items():
            levels[name] = value if last_value else levels.get(name, 0.0) + value
        out.append(sum(levels.values()))
    return out


def ewma(values: Sequence[float], alpha: float = 0.3) -> float:
    smoothed = values[0]
    for value in values[1:]:
        smoothed += alpha * (value - smoothed)
    return smoothed


def bucket(value: float) -> tuple[float, float]:
    """The explicit bucket ``(lower, upper]`` holding *value*."""
    lower = -math.inf
    for bound in BOUNDS:
        if value <= bound:
            return lower, bound
        lower = bound
    return lower, math.inf


def exact_quantile(ordered: Sequence[float], q: float) -> tuple[float, float]:
    """The two order statistics a linear-interpolation quantile lies between."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    return ordered[low], ordered[min(low + 1, len(ordered) - 1)]


def check(
    resolution: int, steps: Sequence[Step], times: Sequence[float], window: float, got: dict
) -> None:
    now = times[-1]
    horizon = now - window
    every = [True] * len(steps)
    slots = slots_of(times, resolution, every)
    counter = got["requests"]
    adds = [float(sum(s.adds.values())) for s in steps]
    assert counter.sum == pytest.approx(pro_rata(slots, adds, horizon))
    span = now - max(horizon, START)
    assert counter.rate == pytest.approx(counter.sum / span)
    levels = running_levels(
        [{k: float(v) for k, v in s.adds.items()} for s in steps], last_value=False
    )
    inside = [s for s in slots if s.end > horizon]
    ends = [levels[s.collections[-1]] for s in inside]
    assert counter.last == levels[-1]
    assert counter.max == max(ends)
    # Within one slot, the min of a sum is summed from each series' min there: exact while the
    # same series are present across the slot, between the slot's first and last level if not.
    assert min(levels[s.collections[0]] for s in inside) <= counter.min <= min(ends)
    if all(len(s.collections) == 1 for s in inside):
        assert counter.min == min(ends)
    assert counter.mean == pytest.approx(sum(ends) / len(ends))
    assert counter.ewma == pytest.approx(ewma(ends))

    moves = [{k: float(v) for k, v in s.moves.items()} for s in steps]
    updown_levels = running_levels(moves, last_value=False)
    updown = got["inflight"]
    assert updown.last == updown_levels[-1]
    assert updown.sum == pytest.approx(pro_rata(slots, [sum(m.values()) for m in moves], horizon))
    updown_ends = [updown_levels[s.collections[-1]] for s in inside]
    assert updown.mean == pytest.approx(sum(updown_ends) / len(updown_ends))

    jobs = got["jobs"]
    # The callback keeps observing every series it ever read, so each reports from its first.
    reported = [any(s.readings for s in steps[: i + 1]) for i in range(len(steps))]
    job_slots = slots_of(times, resolution, reported)
    assert jobs.sum == pytest.approx(pro_rata(job_slots, increases(steps), horizon))
    readings = running_levels(
        [{k: float(v) for k, v in s.readings.items()} for s in steps], last_value=True
    )
    assert jobs.last == readings[-1]

    check_histogram(resolution, steps, times, horizon, got["latency"])


def check_histogram(
    resolution: int, steps: Sequence[Step], times: Sequence[float], horizon: float, stats: Stats
) -> None:
    values = [[v for vs in s.values.values() for v in vs] for s in steps]
    slots = slots_of(times, resolution, [bool(v) for v in values])
    inside = [s for s in slots if s.end > horizon]
    if not inside:
        assert stats.count == 0
        return
    counts = [float(len(v)) for v in values]
    assert stats.count == pytest.approx(pro_rata(slots, counts, horizon))
    assert stats.sum == pytest.approx(pro_rata(slots, [sum(v) for v in values], horizon))
    touched = sorted(v for s in inside for i in s.collections for v in values[i])
    assert (stats.min, stats.max) == (touched[0], touched[-1])
    # Time truth: the measurements collected inside the window lie between what the slots fully
    # inside hold and what the slots touching it hold; a window starting on a slot boundary is
    # exact.
    whole = [v for s in inside if s.start >= horizon for i in s.collections for v in values[i]]
    assert len(whole) - 1e-9 <= stats.count <= len(touched) + 1e-9
    if inside[0].start >= horizon:
        for q in (0.5, 0.9, 0.99):
            low, high = exact_quantile(touched, q)
            assert bucket(low)[0] <= stats.quantile(q) <= bucket(high)[1]
            assert touched[0] <= stats.quantile(q) <= touched[-1]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(workloads())
def test_every_aggregate_matches_the_truth(workload: tuple[int, list[Step], list[float]]) -> None:
    """Counters, up-down counters, histograms and observable counters against brute force."""
    resolution, steps, windows = workload
    results = {t: run(resolution, steps, windows, t) for t in ("delta", "cumulative", None)}
    times, answers = results[None]
    for window in windows:
        check(resolution, steps, times, window, answers[window])
    # The same workload gives the same answers under every temporality the reader can ask for.
    reference = {w: {n: s.as_dict() for n, s in by.items()} for w, by in answers.items()}
    for temporality in ("delta", "cumulative"):
        other = results[temporality][1]
        mine = {w: {n: s.as_dict() for n, s in by.items()} for w, by in other.items()}
        assert _same(mine, reference), temporality


def _same(left: object, right: object) -> bool:
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or left == pytest.approx(right)
    return left == right


@pytest.mark.parametrize("window", [3.0, 10.0, 25.0])
def test_aligned_window_is_the_time_truth(window: float) -> None:
    """At a resolution equal to the collection step, a window is exactly its measurements."""
    steps = [Step(1, {"a": i + 1}, {"a": 1}, {"a": [i / 10]}, {"a": i}) for i in range(40)]
    _, answers = run(1, steps, [window], None)
    got = answers[window]
    recent = steps[-int(window) :]
    assert got["requests"].sum == sum(s.adds["a"] for s in recent)
    assert got["requests"].rate == pytest.approx(got["requests"].sum / window)
    assert got["latency"].count == window
    assert got["latency"].max == max(v for s in recent for v in s.values["a"])
