"""Span wrappers: :class:`DefensiveSpanProcessor` and :class:`DefensiveSpanExporter`.

Every hook is one plain ``try``/``except`` around the wrapped call (no lock, no allocation on the
success path); a failure is classified, counted per span and swallowed, except for the interrupt
policy in :mod:`._policy`. After shutdown, spans are dropped and counted as ``SHUTDOWN``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, final

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .._otel._internals import on_ending, passive_ending_hook
from ._batch import Batching
from ._guards import GuardedComponent, GuardedExporter, require_methods
from ._ledger import SkipReason, count_skip
from ._policy import contain

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span

__all__ = ["DefensiveSpanExporter", "DefensiveSpanProcessor"]

_PROCESSOR_METHODS = ("on_start", "on_end", "shutdown", "force_flush")


@final
class DefensiveSpanProcessor(GuardedComponent, SpanProcessor):
    """Forward to *processor*; never raise into the caller (but for the interrupt policy).

    Args:
        processor: Any SDK ``SpanProcessor``.
        name: Component name in skip counts; default: the processor's class name.
    """

    _open_hooks = ("on_start", "_on_ending", "on_end")

    def __init__(self, processor: SpanProcessor, *, name: str | None = None) -> None:
        require_methods(processor, "processor", "SpanProcessor", _PROCESSOR_METHODS)
        self._processor = processor
        self._init_guard(processor, name)

    @property
    def wrapped(self) -> SpanProcessor:
        """The wrapped processor."""
        return self._processor

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Forward ``on_start`` (``parent_context`` by keyword, as the SDK passes it)."""
        if not self._drops_late_items():
            self._guarded["on_start"](span, parent_context)

    def _on_ending(self, span: Span) -> None:
        if not self._drops_late_items():
            self._guarded["_on_ending"](span)

    def on_end(self, span: ReadableSpan) -> None:
        """Forward ``on_end``; count and swallow any failure.

        After a shutdown by the SDK or the user the span still goes to the processor (its own
        "already shut down" handling is the SDK's behaviour); after our coordinator or the exit
        sequence shut it down, the span is dropped and counted (once for all processors).
        """
        if self._drops_late_items():
            self._dropped(span.name, source=span)
        else:
            self._guarded["on_end"](span)

    def _guarded_hooks(self) -> dict[str, Callable[..., None]]:
        processor, name = self._processor, self._name
        # Only a stock batch processor pays for the watch of its queue.
        queue_full = self._stock_queue_full if self._stock_queue is not None else None

        def on_start(span: Span, parent_context: Context | None = None) -> None:
            try:
                processor.on_start(span, parent_context=parent_context)
            except BaseException as error:
                if contain(name, error, item=span.name):
                    raise

        def _on_ending(span: Span) -> None:
            try:
                on_ending(processor, span)
            except BaseException as error:
                if contain(name, error, item=span.name):
                    raise

        def on_end(span: ReadableSpan) -> None:
            # The stock processor queues sampled spans only; the check is the one it makes.
            if queue_full is not None and span.context.trace_flags.sampled and queue_full():
                count_skip(name, SkipReason.QUEUE_FULL, item=span.name)
            try:
                processor.on_end(span)
            except BaseException as error:
                if contain(name, error, item=span.name):
                    raise

        # A stock processor's _on_ending is `pass`: the SDK may call it without a wrapper frame.
        ending = passive_ending_hook(processor) or _on_ending
        return {"on_start": on_start, "_on_ending": ending, "on_end": on_end}

    def shutdown(self) -> None:
        """Shut the processor down within the shutdown budget; idempotent, never raises."""
        self._bounded_shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush within *timeout_millis* (really: the stock batch processor ignores it)."""
        return self._bounded_flush(timeout_millis)

    def _inner_shutdown(self, timeout_millis: float) -> None:
        if isinstance(self._processor, Batching):
            self._processor.shutdown_within(timeout_millis)
        else:
            self._processor.shutdown()

    def _inner_flush(self, timeout_millis: float) -> bool:
        return self._processor.force_flush(int(timeout_millis))


@final
class DefensiveSpanExporter(GuardedExporter[SpanExportResult], SpanExporter):
    """Forward to *exporter*; count exceptions and ``FAILURE`` results per span; never raise.

    Args:
        exporter: Any SDK ``SpanExporter``.
        name: Component name in skip counts; default: the exporter's class name.
        export_timeout: When set, each export runs on a helper thread and is abandoned after
            this many seconds (counted as ``TIMEOUT``); while it still hangs, later batches are
            dropped and counted instead of piling up. Default ``None``: export inline.
    """

    _fast_export_hook = True

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        name: str | None = None,
        export_timeout: float | None = None,
    ) -> None:
        require_methods(exporter, "exporter", "SpanExporter", ())
        self._exporter = exporter
        self._init_guard(
            exporter, name, export_timeout, SpanExportResult.SUCCESS, SpanExportResult.FAILURE
        )
        # No extra frame on the hot path; an exporter without export() fails (counted) on use.
        self._inner_export = getattr(exporter, "export", self._export_inner)

    @property
    def wrapped(self) -> SpanExporter:
        """The wrapped exporter."""
        return self._exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export *spans*; on any failure count them and return ``FAILURE``."""
        return self._guarded_export(spans)

    def _export_inner(self, batch: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export(batch)

    def _describe(self, batch: Sequence[ReadableSpan]) -> str:
        return batch[0].name if len(batch) == 1 else f"{len(batch)} spans"

    def shutdown(self) -> None:
        """Shut the exporter down (interrupting retries first), bounded; never raises."""
        self._bounded_exporter_shutdown(None)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush within *timeout_millis*; never raises."""
        return self._bounded_exporter_flush(timeout_millis)

    def _inner_shutdown(self) -> None:
        self._exporter.shutdown()

    def _inner_flush(self, timeout_millis: float) -> bool:
        return self._exporter.force_flush(int(timeout_millis))
