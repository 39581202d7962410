"""The operations the wrapper-cost targets compare, shared by the timed and the counted runs.

Each defensive hook beside the same no-op component called directly, the two units (an empty
lambda and a lambda calling an empty function: one Python call), and one span through the stock
``Simple + InMemory`` pipeline with and without every component wrapped. ``benchmarks.bench_spans``
times them; ``benchmarks._calls_child`` runs one of them under callgrind.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks._harness import require
from benchmarks._pipelines import (
    NoopExporter,
    NoopLogProcessor,
    NoopProcessor,
    finished_span,
    one_log_record,
    ours_wrapped_stock,
    plain_span,
    stock_memory,
    tracer_for,
)

__all__ = ["HOOKS", "hook_ops", "pipeline_ops"]

HOOKS = ("on_end", "on_start", "export", "on_emit")


def _empty(span: object) -> None:
    """A Python function that does nothing: the unit of the per-call targets."""


def hook_ops() -> dict[str, Callable[[], object]]:
    """``nothing``, ``one_call`` and ``<hook>_direct`` / ``<hook>_wrapped`` for each of HOOKS."""
    defensive = require(
        "foundation_telemetry.defensive",
        "DefensiveSpanProcessor",
        "DefensiveSpanExporter",
        "DefensiveLogRecordProcessor",
    )
    inner, exporter, log_inner = NoopProcessor(), NoopExporter(), NoopLogProcessor()
    outer = defensive.DefensiveSpanProcessor(inner)
    outer_exporter = defensive.DefensiveSpanExporter(exporter)
    log_outer = defensive.DefensiveLogRecordProcessor(log_inner)
    span = finished_span()
    batch = (span,)
    log_record = one_log_record()
    return {
        "nothing": lambda: None,
        "one_call": lambda: _empty(span),
        "on_end_direct": lambda: inner.on_end(span),
        "on_end_wrapped": lambda: outer.on_end(span),
        # As the SDK's multi-processor calls it: parent_context by keyword.
        "on_start_direct": lambda: inner.on_start(span, parent_context=None),
        "on_start_wrapped": lambda: outer.on_start(span, parent_context=None),
        "export_direct": lambda: exporter.export(batch),
        "export_wrapped": lambda: outer_exporter.export(batch),
        "on_emit_direct": lambda: log_inner.on_emit(log_record),
        "on_emit_wrapped": lambda: log_outer.on_emit(log_record),
    }


def pipeline_ops() -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """``plain`` and ``wrapped``: one span through the pipeline, and the pipeline's clear."""
    plain, wrapped = stock_memory(), ours_wrapped_stock()
    return {
        "plain": (plain_span(tracer_for(plain.processor)), plain.clear),
        "wrapped": (plain_span(tracer_for(wrapped.processor)), wrapped.clear),
    }
