"""The demo's closing report: what happened, what was exported, and whether it all adds up.

:class:`DemoReport` holds the figures (so tests can check them) and :func:`render` prints them
with rich: orders by outcome, events by name (produced in-process and received by the sink),
one sample trace as a tree, order latency p50/p99, circuit-breaker transitions, alerts fired and
resolved, and the accounting identity per signal: produced = received + counted dropped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from ._tally import ORDER_SPAN, SpanShape

__all__ = ["Accounting", "DemoReport", "percentile", "render", "sample_trace", "state_chain"]

# Attributes worth showing next to a span or event in the tree, in this order.
_SHOWN: Final = (
    "order.id",
    "order.outcome",
    "retry.attempts",
    "retry.outcome",
    "attempt",
    "delay",
    "error.type",
    "circuit_breaker.state",
    "from_state",
    "to_state",
    "wait_time",
    "connections.used",
)


@dataclass(frozen=True, slots=True)
class Accounting:
    """One signal's books: items produced in-process, received by the sink, counted dropped."""

    signal: str
    produced: int
    received: int | None
    dropped: int

    @property
    def holds(self) -> bool | None:
        """Whether produced = received + dropped (``None`` when nothing was received locally)."""
        if self.received is None:
            return None
        return self.produced == self.received + self.dropped


@dataclass
class DemoReport:
    """Everything the report shows, as data."""

    duration: float
    workers: int
    seed: int
    endpoint: str
    embedded_sink: bool
    outcomes: Counter[str]
    produced_events: Counter[str]
    received_events: Counter[str] | None
    latencies: list[float]
    breaker_transitions: list[tuple[str, str]]
    alerts: list[tuple[str, str, str]]
    accounting: list[Accounting]
    received_metric_points: int | None
    trace: list[SpanShape] = field(default_factory=list)
    drop_reasons: Counter[str] = field(default_factory=Counter)
    outage_extended: float = 0.0
    interrupted: bool = False
    pool_wait: tuple[float, float, float] | None = None

    @property
    def identity_holds(self) -> bool:
        """Whether every signal the sink received balances (vacuously true without a sink)."""
        return all(entry.holds is not False for entry in self.accounting)

    def alerts_with(self, reason: str) -> int:
        """How many alert notifications had *reason* (``"fired"``, ``"resolved"``, ...)."""
        return sum(1 for _, got, _ in self.alerts if got == reason)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the nearest-rank *q*-th percentile of *values* (``nan`` when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def sample_trace(shapes: Iterable[SpanShape], events: Iterable[SpanShape]) -> list[SpanShape]:
    """Pick one order trace worth showing: retried and paid if possible, else the largest.

    Returns its spans and events (leaves), in start order.
    """
    by_trace: dict[int, list[SpanShape]] = {}
    for shape in shapes:
        by_trace.setdefault(shape.trace_id, []).append(shape)
    candidates = [spans for spans in by_trace.values() if any(s.name == ORDER_SPAN for s in spans)]
    if not candidates:
        return []

    def score(spans: list[SpanShape]) -> tuple[int, int, int]:
        retried = any(int(s.attributes.get("retry.attempts", 0)) >= 2 for s in spans)
        paid = any(s.attributes.get("order.outcome") == "paid" for s in spans)
        return (int(retried and paid), int(retried), len(spans))

    chosen = max(candidates, key=score)
    trace_id = chosen[0].trace_id
    leaves = [event for event in events if event.trace_id == trace_id]
    return sorted([*chosen, *leaves], key=lambda shape: shape.start_ns)


def _label(shape: SpanShape) -> str:
    shown = " ".join(
        f"{key}={_short(shape.attributes[key])}" for key in _SHOWN if key in shape.attributes
    )
    if shape.is_event:
        return f"[cyan]{shape.name}[/] {shown}".rstrip()
    status = " [red]ERROR[/]" if shape.error else ""
    return f"[bold]{shape.name}[/] {shape.duration_ns / 1e6:.1f} ms{status} {shown}".rstrip()


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _tree(trace: list[SpanShape]) -> Tree | None:
    spans = [shape for shape in trace if not shape.is_event]
    if not spans:
        return None
    tree = Tree(f"trace {spans[0].trace_id:032x}")
    nodes: dict[int, Tree] = {}
    # In start order a parent always comes before what happened inside it.
    for shape in trace:
        parent = nodes.get(shape.parent_id or 0, tree)
        node = parent.add(_label(shape))
        if not shape.is_event:
            nodes[shape.span_id] = node
    return tree


def state_chain(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Return the states the breaker went through, from ``(from, to)`` pairs, re-opens dropped."""
    moves = [(old, new) for old, new in pairs if old != new]
    if not moves:
        return []
    return [moves[0][0], *(new for _, new in moves)]


def _transitions(pairs: list[tuple[str, str]]) -> str:
    """Render the state chain, folding repeated two-state cycles: ``(half-open -> open) x3``."""
    states = state_chain(pairs)
    parts: list[str] = []
    index = 0
    while index < len(states):
        cycle = states[index : index + 2]
        repeats = 1
        while len(cycle) == 2 and states[index + 2 * repeats : index + 2 * repeats + 2] == cycle:
            repeats += 1
        if repeats > 1:
            parts.append(f"({cycle[0]} -> {cycle[1]}) x{repeats}")
            index += 2 * repeats
        else:
            parts.append(states[index])
            index += 1
    text = " -> ".join(parts) or "none"
    reopened = sum(1 for old, new in pairs if old == new)
    return f"{text} (and {reopened} re-open(s) by calls already in flight)" if reopened else text


def render(report: DemoReport, console: Console) -> None:
    """Print *report*."""
    console.rule("[bold]foundation-telemetry demo report")
    target = "embedded OTLP sink" if report.embedded_sink else "external OTLP endpoint"
    console.print(
        f"ran {report.duration:.1f} s with {report.workers} workers (seed {report.seed}), "
        f"exporting to the {target} at {report.endpoint}",
        soft_wrap=True,
    )
    if report.interrupted:
        console.print("[yellow]interrupted[/] before the end of the plan (Ctrl-C)")
    if report.outage_extended > 0:
        console.print(
            f"(the payment outage was held {report.outage_extended:.1f} s past its schedule, "
            "until the alert fired)"
        )

    orders = Table(title="Orders by outcome")
    orders.add_column("outcome")
    orders.add_column("orders", justify="right")
    for outcome, count in sorted(report.outcomes.items()):
        orders.add_row(outcome, str(count))
    orders.add_row("[bold]total", str(sum(report.outcomes.values())))
    console.print(orders)

    events = Table(title="Events by name")
    events.add_column("event")
    events.add_column("produced", justify="right")
    events.add_column("received", justify="right")
    for name, count in sorted(report.produced_events.items()):
        received = "-" if report.received_events is None else str(report.received_events[name])
        events.add_row(name, str(count), received)
    console.print(events)

    console.print("[bold]Sample trace[/] (an order whose payment was retried)")
    tree = _tree(report.trace)
    console.print(tree if tree is not None else "no order trace was recorded")

    p50, p99 = percentile(report.latencies, 50), percentile(report.latencies, 99)
    console.print(
        f"[bold]Order latency[/]: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
        f"({len(report.latencies)} orders)"
    )
    if report.pool_wait is not None:
        wait50, wait99, checkouts = report.pool_wait
        console.print(
            f"[bold]Pool wait[/] (TelemetryService): p50 {wait50 * 1000:.1f} ms, "
            f"p99 {wait99 * 1000:.1f} ms ({checkouts:.0f} checkouts)"
        )
    console.print(
        f"[bold]Circuit breaker transitions[/]: {_transitions(report.breaker_transitions)}",
        soft_wrap=True,
    )
    console.print(
        f"[bold]Alerts[/]: fired {report.alerts_with('fired')}, "
        f"resolved {report.alerts_with('resolved')}"
    )
    for rule, reason, detail in report.alerts:
        console.print(f"  {reason:<9} {rule}: {detail}")

    console.print("[bold]Accounting[/] (produced = received + counted dropped)")
    for entry in report.accounting:
        received = "n/a" if entry.received is None else str(entry.received)
        verdict = {True: "holds", False: "DOES NOT HOLD", None: "not checked"}[entry.holds]
        console.print(
            f"  {entry.signal}: produced {entry.produced} = received {received} "
            f"+ dropped {entry.dropped}: {verdict}"
        )
    if report.received_metric_points is not None:
        console.print(f"  metrics: received {report.received_metric_points} data points")
    for reason, count in sorted(report.drop_reasons.items()):
        console.print(f"  counted skip x{count}: {reason}")
    verdict = "holds" if report.identity_holds else "DOES NOT HOLD"
    console.print(f"Accounting identity {verdict}.")
