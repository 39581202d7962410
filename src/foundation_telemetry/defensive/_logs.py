"""Log wrappers: :class:`DefensiveLogRecordProcessor` and :class:`DefensiveLogExporter`.

Same shape as the span wrappers. ``on_emit`` is the path behind ``logging.warning()`` through an
OpenTelemetry ``LoggingHandler`` and behind ``emit()``; nothing raised below it reaches the
caller, including ``ImportError`` from ``copy`` when a ``__del__`` logs at interpreter teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, final

from .._otel._compat import (
    LogRecordExporter,
    LogRecordExportResult,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
    flush_log_exporter,
    log_enabled,
)
from ._batch import Batching
from ._guards import GuardedComponent, GuardedExporter, require_methods
from ._ledger import SkipReason, count_skip
from ._policy import contain

__all__ = ["DefensiveLogExporter", "DefensiveLogRecordProcessor"]


def _describe_record(item: ReadableLogRecord | ReadWriteLogRecord) -> str:
    record = item.log_record
    name = getattr(record, "event_name", None)
    if name:
        return str(name)
    return str(record.body)[:80]


@final
class DefensiveLogRecordProcessor(GuardedComponent, LogRecordProcessor):
    """Forward to *processor*; never raise into the caller (but for the interrupt policy).

    Args:
        processor: Any SDK ``LogRecordProcessor``.
        name: Component name in skip counts; default: the processor's class name.
    """

    _open_hooks = ("on_emit",)

    def __init__(self, processor: LogRecordProcessor, *, name: str | None = None) -> None:
        require_methods(
            processor, "processor", "LogRecordProcessor", ("on_emit", "shutdown", "force_flush")
        )
        self._processor = processor
        self._init_guard(processor, name)

    @property
    def wrapped(self) -> LogRecordProcessor:
        """The wrapped processor."""
        return self._processor

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Forward ``on_emit``; count and swallow any failure.

        After shutdown the record goes on to the processor or is dropped and counted, as for
        spans (:meth:`DefensiveSpanProcessor.on_end`).
        """
        if self._drops_late_items():
            self._dropped(_safe_describe(log_record), source=log_record)
        else:
            self._guarded["on_emit"](log_record)

    def _guarded_hooks(self) -> dict[str, Callable[..., None]]:
        processor, name = self._processor, self._name
        # Only a stock batch processor pays for the watch of its queue.
        queue_full = self._stock_queue_full if self._stock_queue is not None else None

        def on_emit(log_record: ReadWriteLogRecord) -> None:
            if queue_full is not None and queue_full():
                count_skip(name, SkipReason.QUEUE_FULL, item=_safe_describe(log_record))
            try:
                processor.on_emit(log_record)
            except BaseException as error:
                if contain(name, error, item=_safe_describe(log_record)):
                    raise

        return {"on_emit": on_emit}

    def enabled(self, **kwargs: Any) -> bool:
        """Forward ``enabled``; a failing check counts as enabled (the record then goes on).

        A processor from before SDK 1.45 has no ``enabled``: it takes every record.
        """
        try:
            return log_enabled(self._processor, **kwargs)
        except Exception:  # noqa: BLE001 - a broken filter must not drop or raise
            return True

    def shutdown(self) -> None:
        """Shut the processor down within the shutdown budget; idempotent, never raises."""
        self._bounded_shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush within *timeout_millis* (the stock batch processor ignores it); never raises."""
        return self._bounded_flush(timeout_millis)

    def _inner_shutdown(self, timeout_millis: float) -> None:
        if isinstance(self._processor, Batching):
            self._processor.shutdown_within(timeout_millis)
        else:
            self._processor.shutdown()

    def _inner_flush(self, timeout_millis: float) -> bool:
        return self._processor.force_flush(int(timeout_millis))


def _safe_describe(item: ReadWriteLogRecord) -> str:
    try:
        return _describe_record(item)
    except BaseException:  # noqa: BLE001 - describing a broken record must not fail
        return "?"


@final
class DefensiveLogExporter(GuardedExporter[LogRecordExportResult], LogRecordExporter):
    """Forward to *exporter*; count exceptions and ``FAILURE`` results per record; never raise.

    Args:
        exporter: Any SDK ``LogRecordExporter``.
        name: Component name in skip counts; default: the exporter's class name.
        export_timeout: As for :class:`~foundation_telemetry.defensive.DefensiveSpanExporter`.
    """

    _fast_export_hook = True

    def __init__(
        self,
        exporter: LogRecordExporter,
        *,
        name: str | None = None,
        export_timeout: float | None = None,
    ) -> None:
        require_methods(exporter, "exporter", "LogRecordExporter", ())
        self._exporter = exporter
        self._init_guard(
            exporter,
            name,
            export_timeout,
            LogRecordExportResult.SUCCESS,
            LogRecordExportResult.FAILURE,
        )
        # No extra frame on the hot path; an exporter without export() fails (counted) on use.
        self._inner_export = getattr(exporter, "export", self._export_inner)

    @property
    def wrapped(self) -> LogRecordExporter:
        """The wrapped exporter."""
        return self._exporter

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Export *batch*; on any failure count its records and return ``FAILURE``."""
        return self._guarded_export(batch)

    def shutdown(self) -> None:
        """Shut the exporter down (interrupting retries first), bounded; never raises."""
        self._bounded_exporter_shutdown(None)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush within *timeout_millis*; never raises."""
        return self._bounded_exporter_flush(timeout_millis)

    def _export_inner(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return self._exporter.export(batch)

    def _describe(self, batch: Sequence[ReadableLogRecord]) -> str:
        return _describe_record(batch[0]) if len(batch) == 1 else f"{len(batch)} log records"

    def _inner_shutdown(self) -> None:
        self._exporter.shutdown()  # type: ignore[no-untyped-call]

    def _inner_flush(self, timeout_millis: float) -> bool:
        # LogRecordExporter.force_flush only joined the interface in SDK 1.44.
        return flush_log_exporter(self._exporter, int(timeout_millis))
