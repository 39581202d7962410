"""The shared timing loop, statistics and result types of the benchmark runner.

Micro-benchmarks are *interleaved*: every variant is timed once per round, the order of the
variants rotates from round to round, and each variant's cost is reported as the median and min
of ns/op over the rounds plus the median of the per-round ratios to a baseline variant. Adjacent
timings in the same process see the same host noise, so the ratios stay steady on a shared,
noisy machine where absolute numbers do not (see ``docs/performance.md``).
"""

from __future__ import annotations

import gc
import importlib
import itertools
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "ComponentMissing",
    "GroupResult",
    "Settings",
    "Table",
    "Target",
    "Variant",
    "interleave",
    "percentile",
    "require",
]


@dataclass(frozen=True)
class Settings:
    """How hard to push: counts and round lengths for one mode (full, quick or tiny)."""

    mode: str
    rounds: int
    round_ms: float
    wake_events: int
    mem_spans: int
    otlp_spans: int
    otlp_repeats: int
    exit_repeats: int
    exit_protocols: tuple[str, ...]
    sleep_runs: int
    service_cycles: int

    @classmethod
    def for_mode(cls, mode: str) -> Settings:
        """Return the settings for *mode*; ``ValueError`` for an unknown mode."""
        modes = {
            "full": cls("full", 41, 40.0, 5000, 10000, 20000, 5, 2, ("grpc", "http"), 20, 41),
            "quick": cls("quick", 21, 10.0, 1000, 3000, 6000, 1, 1, ("grpc",), 3, 21),
            "tiny": cls("tiny", 3, 1.0, 20, 50, 200, 1, 1, ("grpc",), 1, 3),
        }
        if mode not in modes:
            msg = f"unknown benchmark mode {mode!r}; use one of {sorted(modes)}."
            raise ValueError(msg)
        return modes[mode]


class ComponentMissing(Exception):
    """A component under test has not landed yet; its targets print SKIP, never a number."""


def require(module: str, *names: str) -> Any:
    """Import *module* and return it (or its single attribute); ``ComponentMissing`` if absent."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        msg = f"{module} ({exc})"
        raise ComponentMissing(msg) from exc
    missing = [name for name in names if not hasattr(mod, name)]
    if missing:
        msg = f"{module}.{missing[0]}"
        raise ComponentMissing(msg)
    if len(names) == 1:
        return getattr(mod, names[0])
    return mod


@dataclass
class Variant:
    """One thing to time: *op* is called once per operation; *reset* runs between rounds."""

    key: str
    label: str
    op: Callable[[], object]
    reset: Callable[[], None] | None = None


@dataclass
class Row:
    """Per-variant statistics over the rounds (ns per operation)."""

    key: str
    label: str
    ops_per_round: int
    median_ns: float
    min_ns: float
    ratio: float
    round_ns: list[float] = field(default_factory=list)
    round_ratios: list[float] = field(default_factory=list)


@dataclass
class Table:
    """The result of one interleaved comparison."""

    title: str
    baseline: str
    rounds: int
    rows: dict[str, Row]

    def ratio(self, key: str) -> float:
        """Median of per-round ratios of *key* to the baseline."""
        return self.rows[key].ratio

    def diff_ns(self, key: str, base: str) -> float:
        """Median of per-round differences ``key - base`` in ns/op (for per-call overheads)."""
        diffs = [
            a - b for a, b in zip(self.rows[key].round_ns, self.rows[base].round_ns, strict=True)
        ]
        return statistics.median(diffs)

    def render(self) -> str:
        """A plain-text table: median, min, ops/round and ratio per variant."""
        base_label = self.rows[self.baseline].label
        lines = [f"  {self.title} ({self.rounds} rounds; ratio vs {base_label})"]
        width = max(len(row.label) for row in self.rows.values())
        for row in self.rows.values():
            lines.append(
                f"    {row.label:<{width}}  median {_fmt_ns(row.median_ns):>9}  "
                f"min {_fmt_ns(row.min_ns):>9}  x{row.ops_per_round:<7} {row.ratio:5.2f}x"
            )
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """The table as plain data for the results file."""
        return {
            "title": self.title,
            "baseline": self.baseline,
            "rounds": self.rounds,
            "rows": [asdict(row) for row in self.rows.values()],
        }


def _fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def _timed(op: Callable[[], object], n: int) -> int:
    loop = itertools.repeat(None, n)
    start = time.perf_counter_ns()
    for _ in loop:
        op()
    return time.perf_counter_ns() - start


def _calibrate(variant: Variant, round_ns: float) -> int:
    """Ops per round so that one round of *variant* takes about *round_ns*."""
    n = 1
    while True:
        elapsed = _timed(variant.op, n)
        if variant.reset is not None:
            variant.reset()
        if elapsed >= round_ns / 10 or n >= 10_000_000:
            break
        n *= 4
    tries = [elapsed]
    for _ in range(2):  # the median of three tries: one burst or one lull must not set the count
        tries.append(_timed(variant.op, n))
        if variant.reset is not None:
            variant.reset()
    return max(1, int(n * round_ns / max(statistics.median(tries), 1)))


def interleave(
    title: str,
    variants: Sequence[Variant],
    baseline: str,
    settings: Settings,
    *,
    reset_timed: bool = False,
) -> Table:
    """Time *variants* round by round in rotating order; ratios are against *baseline*.

    With *reset_timed*, each round's reset is timed with it: a variant that releases what it
    retained in its reset (the stock ``InMemorySpanExporter`` frees its spans in ``clear()``)
    pays for that as one that releases it during the operation does.
    """
    round_ns = settings.round_ms * 1e6
    counts = {v.key: _calibrate(v, round_ns) for v in variants}
    samples: dict[str, list[float]] = {v.key: [] for v in variants}
    for round_no in range(settings.rounds):
        shift = round_no % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            gc.collect()
            elapsed = _timed(variant.op, counts[variant.key])
            if variant.reset is not None:
                started = time.perf_counter_ns()
                variant.reset()
                if reset_timed:
                    elapsed += time.perf_counter_ns() - started
            samples[variant.key].append(elapsed / counts[variant.key])
    base = samples[baseline]
    rows: dict[str, Row] = {}
    for variant in variants:
        per_round = samples[variant.key]
        ratios = [a / b for a, b in zip(per_round, base, strict=True)]
        rows[variant.key] = Row(
            key=variant.key,
            label=variant.label,
            ops_per_round=counts[variant.key],
            median_ns=statistics.median(per_round),
            min_ns=min(per_round),
            ratio=statistics.median(ratios),
            round_ns=per_round,
            round_ratios=ratios,
        )
    return Table(title=title, baseline=baseline, rounds=settings.rounds, rows=rows)


def percentile(values: Sequence[float], q: float) -> float:
    """The *q*-th percentile (0-100) of *values* by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Target:
    """One line of the verdict: a measured value against its limit.

    ``status`` is PASS/FAIL when measured, SKIP when the component under test has not landed,
    and INFO for reference figures that carry no limit.
    """

    group: str
    name: str
    value: float | None
    limit: float | None
    op: str = "<="
    unit: str = "x"
    detail: str = ""
    skip_reason: str | None = None

    @property
    def status(self) -> str:
        """PASS, FAIL, SKIP or INFO."""
        if self.skip_reason is not None or self.value is None:
            return "SKIP"
        if self.limit is None:
            return "INFO"
        ok = self.value <= self.limit if self.op == "<=" else self.value >= self.limit
        return "PASS" if ok else "FAIL"

    def line(self) -> str:
        """The one-line verdict printed by the runner."""
        head = f"{self.status:<4}  [{self.group}] {self.name}"
        if self.status == "SKIP":
            return f"{head}  ({self.skip_reason or 'not measured'})"
        detail = f"  {self.detail}" if self.detail else ""
        return f"{head}: {self.result()}{detail}"

    def result(self) -> str:
        """The figure with its target, e.g. ``0.981x (target <= 1.050x)``."""
        value = _fmt_value(self.value, self.unit)
        if self.limit is None:
            return value
        return f"{value} (target {self.op} {_fmt_value(self.limit, self.unit)})"

    def as_json(self) -> dict[str, Any]:
        """The target as plain data for the results file."""
        data = asdict(self)
        data["status"] = self.status
        return data


def _fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.3f}x"
    if unit in {"ns", "B"}:
        return f"{value:.0f} {unit}"
    return f"{value:.3g} {unit}"


@dataclass
class GroupResult:
    """What one benchmark module hands back: its verdict lines, tables and raw figures."""

    group: str
    targets: list[Target] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, *targets: Target) -> None:
        """Append verdict lines."""
        self.targets.extend(targets)

    def skip(self, names: Sequence[str], reason: str) -> None:
        """Mark each of *names* as SKIP because a component is missing."""
        for name in names:
            self.targets.append(
                Target(
                    self.group,
                    name,
                    None,
                    None,
                    skip_reason=f"component missing: {reason}",
                )
            )
