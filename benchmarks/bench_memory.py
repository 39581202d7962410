"""Memory retained per recorded span, measured with tracemalloc against ``InMemorySpanExporter``.

Each pipeline records N finished spans with 5 attributes (and, in a second case, plus one event)
after a warm-up; the traced-memory growth after a full GC, divided by N, is the cost of keeping
a span. Stock and ours alternate over several repeats and the medians are compared.
Target: ours <= 0.6x of stock (an ended span is kept as a compact tuple, not the SDK object).
"""

from __future__ import annotations

import gc
import statistics
import tracemalloc
from collections.abc import Callable

from opentelemetry.trace import Tracer

from benchmarks._harness import ComponentMissing, GroupResult, Settings, Target
from benchmarks._pipelines import (
    ATTRS,
    Pipeline,
    ours_recording,
    rich_span,
    stock_memory,
    tracer_for,
)

GROUP = "memory"


def _attrs_span(tracer: Tracer) -> Callable[[], None]:
    def op() -> None:
        with tracer.start_as_current_span("mem", attributes=ATTRS):
            pass

    return op


def _bytes_per_span(
    make: Callable[[], Pipeline], make_op: Callable[[Tracer], Callable[[], None]], spans: int
) -> float:
    pipeline = make()
    op = make_op(tracer_for(pipeline.processor))
    for _ in range(min(spans, 200)):
        op()
    pipeline.clear()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(spans):
            op()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    kept = pipeline.retained()
    if kept != spans:
        msg = f"the pipeline retained {kept} of {spans} spans; memory per span would be wrong."
        raise RuntimeError(msg)
    return (after - before) / spans


def run(settings: Settings) -> GroupResult:
    """Compare retained bytes per span, stock vs ours."""
    result = GroupResult(GROUP)
    cases = (("5 attributes", _attrs_span), ("5 attributes + 1 event", rich_span))
    names = tuple(f"memory per recorded span, {label}" for label, _ in cases)
    spans = settings.mem_spans
    repeats = 3 if settings.mode == "full" else 1  # tracemalloc figures barely move
    try:
        ours_recording(capacity=spans * 2)
    except ComponentMissing as exc:
        result.skip(names, str(exc))
        for label, make_op in cases:
            stock = statistics.median(
                _bytes_per_span(stock_memory, make_op, spans) for _ in range(repeats)
            )
            result.add(Target(GROUP, f"stock InMemorySpanExporter, {label}", stock, None, unit="B"))
        return result
    figures: dict[str, dict[str, float]] = {}
    for name, (label, make_op) in zip(names, cases, strict=True):
        stock_runs, ours_runs = [], []
        for _ in range(repeats):
            stock_runs.append(_bytes_per_span(stock_memory, make_op, spans))
            ours_runs.append(
                _bytes_per_span(lambda: ours_recording(capacity=spans * 2), make_op, spans)
            )
        stock, ours = statistics.median(stock_runs), statistics.median(ours_runs)
        figures[label] = {"stock_B": stock, "ours_B": ours}
        result.add(
            Target(
                GROUP,
                name,
                ours / stock,
                0.6,
                detail=f"ours {ours:.0f} B, stock {stock:.0f} B per span ({spans} spans)",
            )
        )
    result.extra["bytes_per_span"] = figures
    return result
