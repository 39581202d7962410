"""Span recording and defensive-wrapper cost, interleaved against the stock SDK.

Targets: recording a span (capture + wake support + defensive wrapper) <= 1.05x of stock
``SimpleSpanProcessor`` + ``InMemorySpanExporter``, plain and with 5 attributes + 1 event; a fully
wrapped pipeline <= 1.03x of the unwrapped one; a wrapped hook call adds <= 3.5 empty Python calls
(measured in the same run; 100 ns where the target was set) over a direct call.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

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
    NoopExporter,
    NoopLogProcessor,
    NoopProcessor,
    finished_span,
    one_log_record,
    ours_recording,
    ours_wrapped_stock,
    plain_span,
    rich_span,
    stock_memory,
    tracer_for,
)

GROUP = "spans"

RECORD_TARGETS = ("span record, plain", "span record, 5 attributes + 1 event")
# What a wrapped hook may add over a direct call, in empty Python calls measured in the same run:
# the 100 ns set where one call cost about 28 ns, kept as the machine-independent figure.
CALLS_PER_WRAPPED_HOOK = 3.5
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
    try:
        wrapped = ours_wrapped_stock()
    except ComponentMissing as exc:
        result.skip(WRAP_TARGETS, str(exc))
        return
    plain = stock_memory()
    table = interleave(
        "wrapped vs unwrapped pipeline",
        [
            Variant(
                "plain", "Simple + InMemory", plain_span(tracer_for(plain.processor)), plain.clear
            ),
            Variant(
                "wrapped",
                "Defensive(Simple(Defensive(InMemory)))",
                plain_span(tracer_for(wrapped.processor)),
                wrapped.clear,
            ),
        ],
        "plain",
        settings,
        reset_timed=True,
    )
    result.tables.append(table)
    hooks = interleave(
        "wrapped vs unwrapped pipeline: the hooks alone (finished span)",
        [
            Variant("plain", "Simple + InMemory hooks", _all_hooks(plain.processor), plain.clear),
            Variant(
                "wrapped",
                "Defensive(Simple(Defensive(InMemory))) hooks",
                _all_hooks(wrapped.processor),
                wrapped.clear,
            ),
        ],
        "plain",
        settings,
    )
    result.tables.append(hooks)
    added = hooks.diff_ns("wrapped", "plain")
    span_ns = table.rows["plain"].median_ns
    result.add(
        Target(
            GROUP,
            WRAP_TARGETS[0],
            table.ratio("wrapped"),
            1.03,
            detail=(
                f"the wrapper hooks add {added:.0f} ns per span, i.e. "
                f"{1 + added / span_ns:.3f}x of a {span_ns / 1e3:.1f} us span"
            ),
        )
    )

    _per_call(settings, result)


def _all_hooks(processor: SpanProcessor) -> Callable[[], None]:
    """Every hook a span goes through (start, ending, end) on one finished span."""
    span = finished_span()

    def op() -> None:
        processor.on_start(span, None)
        processor._on_ending(span)
        processor.on_end(span)

    return op


def _per_call(settings: Settings, result: GroupResult) -> None:
    """Each defensive hook against the same no-op component called directly."""
    try:
        defensive = require(
            "foundation_telemetry.defensive",
            "DefensiveSpanProcessor",
            "DefensiveSpanExporter",
            "DefensiveLogRecordProcessor",
        )
    except ComponentMissing as exc:
        result.skip(WRAP_TARGETS[1:], str(exc))
        return
    inner, exporter, log_inner = NoopProcessor(), NoopExporter(), NoopLogProcessor()
    outer = defensive.DefensiveSpanProcessor(inner)
    outer_exporter = defensive.DefensiveSpanExporter(exporter)
    log_outer = defensive.DefensiveLogRecordProcessor(log_inner)
    span = finished_span()
    batch = (span,)
    log_record = one_log_record()
    pairs = [
        ("on_end", lambda: inner.on_end(span), lambda: outer.on_end(span)),
        # As the SDK's multi-processor calls it: parent_context by keyword.
        (
            "on_start",
            lambda: inner.on_start(span, parent_context=None),
            lambda: outer.on_start(span, parent_context=None),
        ),
        ("export", lambda: exporter.export(batch), lambda: outer_exporter.export(batch)),
        ("on_emit", lambda: log_inner.on_emit(log_record), lambda: log_outer.on_emit(log_record)),
    ]
    variants = [
        Variant("nothing", "an empty lambda", lambda: None),
        Variant("one_call", "a lambda calling an empty function", lambda: _empty(span)),
    ]
    for hook, direct, wrapped in pairs:
        variants.append(Variant(f"{hook}_direct", f"{hook} direct", direct))
        variants.append(Variant(f"{hook}_wrapped", f"{hook} via the Defensive wrapper", wrapped))
    calls = interleave(
        "per wrapped hook call (no-op components)", variants, "on_end_direct", settings
    )
    result.tables.append(calls)
    call_ns = max(calls.diff_ns("one_call", "nothing"), 1.0)
    for name, (hook, _, _) in zip(WRAP_TARGETS[1:], pairs, strict=True):
        added = calls.diff_ns(f"{hook}_wrapped", f"{hook}_direct")
        result.add(
            Target(
                GROUP,
                name,
                added / call_ns,
                CALLS_PER_WRAPPED_HOOK,
                unit="calls",
                detail=(
                    f"+{added:.0f} ns over direct ({calls.rows[f'{hook}_direct'].median_ns:.0f} "
                    f"ns); one Python call {call_ns:.0f} ns in this run"
                ),
            )
        )


def _empty(span: object) -> None:
    """A Python function that does nothing: the unit of the per-call targets."""
