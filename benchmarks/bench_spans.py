"""Span recording and defensive-wrapper cost against the stock SDK.

Targets: recording a span (capture + wake support + defensive wrapper) <= 1.05x of stock
``SimpleSpanProcessor`` + ``InMemorySpanExporter``, plain and with 5 attributes + 1 event, timed
in interleaved rounds. The wrapper targets are per-operation costs, so they are counted in
instructions under callgrind (``benchmarks._calls_child``), which a loaded machine does not
change: a fully wrapped pipeline <= 1.03x of the unwrapped one per span, and a wrapped hook call
adds <= 3.5 empty Python calls over a direct call (100 ns where the target was set). The same
operations are timed as well, for reference.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from benchmarks import _callgrind as callgrind
from benchmarks._harness import (
    ComponentMissing,
    GroupResult,
    Settings,
    Target,
    Variant,
    interleave,
    require,
)
from benchmarks._pipelines import (
    ours_recording,
    plain_span,
    rich_span,
    stock_memory,
    tracer_for,
)
from benchmarks._wrapper_ops import HOOKS, hook_ops, pipeline_ops

GROUP = "spans"

RECORD_TARGETS = ("span record, plain", "span record, 5 attributes + 1 event")
# What a wrapped hook may add over a direct call, in empty Python calls measured in the same run:
# the 100 ns set where one call cost about 28 ns, kept as the machine-independent figure.
CALLS_PER_WRAPPED_HOOK = 3.5
HOOK_CALLS = 20_000  # calls per hook operation under callgrind
PIPELINE_SPANS = 2_000  # spans per pipeline under callgrind
WRAP_TARGETS = (
    "wrapped vs unwrapped pipeline",
    "per wrapped call, span processor on_end",
    "per wrapped call, span processor on_start",
    "per wrapped call, span exporter export",
    "per wrapped call, log processor on_emit",
)


def run(settings: Settings) -> GroupResult:
    """Measure the recording and wrapper targets."""
    result = GroupResult(GROUP)
    _record(settings, result)
    _wrapped(settings, result)
    return result


def _record(settings: Settings, result: GroupResult) -> None:
    try:
        ours = [ours_recording(), ours_recording()]
    except ComponentMissing as exc:
        ours = []
        result.skip(RECORD_TARGETS, str(exc))
    stock = [stock_memory(), stock_memory()]
    for index, (label, make_op) in enumerate(
        (("plain", plain_span), ("5 attrs + 1 event", rich_span))
    ):
        variants = [
            Variant("none", "no processor (floor)", make_op(tracer_for())),
            Variant(
                "stock",
                "stock Simple + InMemorySpanExporter",
                make_op(tracer_for(stock[index].processor)),
                stock[index].clear,
            ),
        ]
        if ours:
            variants.append(
                Variant(
                    "ours",
                    "ours: Recorder behind DefensiveSpanProcessor",
                    make_op(tracer_for(ours[index].processor)),
                    ours[index].clear,
                )
            )
        table = interleave(f"span record, {label}", variants, "stock", settings, reset_timed=True)
        result.tables.append(table)
        if ours:
            result.add(
                Target(
                    GROUP,
                    RECORD_TARGETS[index],
                    table.ratio("ours"),
                    1.05,
                    detail=(
                        f"ours {table.rows['ours'].median_ns / 1e3:.2f} us, "
                        f"stock {table.rows['stock'].median_ns / 1e3:.2f} us (medians)"
                    ),
                )
            )
    if ours:
        _record_hooks(settings, result)
    _record_configured(settings, result)


def _record_hooks(settings: Settings, result: GroupResult) -> None:
    """Where the span-record difference comes from: processor hooks alone, per span, in ns.

    Each operation ends a new span on a provider without processors (the floor) and then
    hands it to the hooks: the same span twice would be recognised as a repeat by the Recorder.
    """
    stock, ours = stock_memory(), ours_recording()
    bare = ours_recording()
    bare_processor = bare.owner.span_processor
    tracer = tracer_for()

    def hooks(processor: SpanProcessor | None) -> Callable[[], None]:
        def op() -> None:
            span = tracer.start_span("probe")
            span.end()
            if processor is not None:
                processor.on_start(span, None)  # type: ignore[arg-type]
                processor.on_end(span)  # type: ignore[arg-type]

        return op

    table = interleave(
        "processor hooks per span (on_start + on_end of a new ended span, floor subtracted)",
        [
            Variant("floor", "a new ended span, no hooks", hooks(None)),
            Variant(
                "stock", "stock SimpleSpanProcessor + InMemory", hooks(stock.processor), stock.clear
            ),
            Variant("ours", "ours: Defensive(Recorder)", hooks(ours.processor), ours.clear),
            Variant(
                "bare", "ours: Recorder processor unwrapped", hooks(bare_processor), bare.clear
            ),
        ],
        "stock",
        settings,
        reset_timed=True,
    )
    result.tables.append(table)
    result.add(
        Target(
            GROUP,
            "span record hooks, ours - stock",
            table.diff_ns("ours", "stock"),
            None,
            unit="ns",
            detail=(
                f"ours {table.diff_ns('ours', 'floor'):.0f} ns (wrapper "
                f"{table.diff_ns('ours', 'bare'):.0f} ns), stock "
                f"{table.diff_ns('stock', 'floor'):.0f} ns per span"
            ),
        )
    )


def _record_configured(settings: Settings, result: GroupResult) -> None:
    """Reference: the tracer ``configure(exporter="memory")`` really hands out."""
    name = "span record via configure(exporter='memory')"
    try:
        configure = require("foundation_telemetry", "configure")
        telemetry = configure(service_name="bench", exporter="memory", set_global=False)
    except ComponentMissing as exc:
        result.skip((name,), str(exc))
        return
    recorder = telemetry.recorder
    stock = stock_memory()
    provider: TracerProvider = telemetry.tracer_provider
    table = interleave(
        "span record via configure()",
        [
            Variant(
                "stock",
                "stock Simple + InMemory",
                plain_span(tracer_for(stock.processor)),
                stock.clear,
            ),
            Variant(
                "configured",
                "configure(exporter='memory') tracer",
                plain_span(provider.get_tracer("benchmarks")),
                recorder.buffer.clear,
            ),
        ],
        "stock",
        settings,
        reset_timed=True,
    )
    telemetry.shutdown()
    result.tables.append(table)
    result.add(
        Target(
            GROUP,
            name,
            table.ratio("configured"),
            None,
            detail=f"reference, no limit; span processors: {_processor_names(provider)}",
        )
    )


def _processor_names(provider: TracerProvider) -> str:
    """What a provider runs per span, e.g. ``Defensive(CorrelationSpanProcessor)``."""
    multi = getattr(provider, "_active_span_processor", None)
    names = []
    for processor in getattr(multi, "_span_processors", ()):
        inner = getattr(processor, "wrapped", None)
        outer = type(processor).__name__.replace("SpanProcessor", "")
        names.append(f"{outer}({type(inner).__name__})" if inner is not None else outer)
    return ", ".join(names) or "?"


def _wrapped(settings: Settings, result: GroupResult) -> None:
    """The wrapper targets, counted in instructions; the same operations timed, for reference."""
    try:
        pipelines, hooks = pipeline_ops(), hook_ops()
    except ComponentMissing as exc:
        result.skip(WRAP_TARGETS, str(exc))
        return
    labels = {"plain": "Simple + InMemory", "wrapped": "Defensive(Simple(Defensive(InMemory)))"}
    result.tables.append(
        interleave(
            "wrapped vs unwrapped pipeline (timed, reference)",
            [Variant(key, labels[key], op, clear) for key, (op, clear) in pipelines.items()],
            "plain",
            settings,
            reset_timed=True,
        )
    )
    descriptions = {"nothing": "an empty lambda", "one_call": "a lambda calling an empty function"}
    result.tables.append(
        interleave(
            "per wrapped hook call, no-op components (timed, reference)",
            [
                Variant(key, descriptions.get(key, key.replace("_", " ", 1)), op)
                for key, op in hooks.items()
            ],
            "on_end_direct",
            settings,
        )
    )
    reason = callgrind.missing() or (
        "tiny mode counts no instructions (--quick and the full run do)"
        if settings.mode == "tiny"
        else None
    )
    if reason is not None:
        result.skip(WRAP_TARGETS, reason)
        return
    counts = _instructions_per_op([*hooks, *(f"pipeline_{key}" for key in pipelines)])
    result.extra["instructions_per_op"] = counts
    plain, wrapped = counts["pipeline_plain"], counts["pipeline_wrapped"]
    result.add(
        Target(
            GROUP,
            WRAP_TARGETS[0],
            wrapped / plain,
            1.03,
            detail=(
                f"{wrapped:,.0f} vs {plain:,.0f} instructions per span (callgrind): the wrappers "
                f"add {wrapped - plain:,.0f}"
            ),
        )
    )
    call = counts["one_call"] - counts["nothing"]
    for name, hook in zip(WRAP_TARGETS[1:], HOOKS, strict=True):
        added = counts[f"{hook}_wrapped"] - counts[f"{hook}_direct"]
        result.add(
            Target(
                GROUP,
                name,
                added / call,
                CALLS_PER_WRAPPED_HOOK,
                unit="calls",
                detail=(
                    f"+{added:,.0f} instructions over direct ({counts[f'{hook}_direct']:,.0f}); "
                    f"one Python call {call:,.0f} (callgrind)"
                ),
            )
        )


def _instructions_per_op(ops: list[str]) -> dict[str, float]:
    """Main-thread instructions per call of each op, each in its own callgrind process."""
    out = Path(tempfile.mkdtemp(prefix="ft-calls-"))
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = {
                op: pool.submit(
                    callgrind.measure, "benchmarks._calls_child", (op, str(_count(op))), out / op
                )
                for op in ops
            }
            return {op: future.result().loop / _count(op) for op, future in futures.items()}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _count(op: str) -> int:
    return PIPELINE_SPANS if op.startswith("pipeline_") else HOOK_CALLS
