"""The batch processors ``configure()`` builds: a bounded queue whose every refusal is counted.

:class:`BatchSpanProcessor` and :class:`BatchLogRecordProcessor` do what the SDK's processors of
the same names do (a worker thread exports a batch every schedule delay, or as soon as a full
batch is queued), with the same settings (``OTEL_BSP_*``, ``OTEL_BLRP_*``), and account for every
item exactly once: exported, or counted in the skip ledger. An item that finds the queue full is
refused and counted ``QUEUE_FULL``; one that arrives after shutdown is counted ``SHUTDOWN``; what
a shutdown abandons (queued items and the batch a stuck export holds) is counted ``TIMEOUT`` by
whoever gives up first, the processor's own bounded ``shutdown`` or its defensive wrapper. No
lock is taken on the path that queues an item; taking items out (a batch, an abandonment, a late
arrival after the worker finished) happens under one lock, so none is taken twice or left
behind. After ``fork()`` the child gets an empty queue and a new worker (through the wrapper's
fork hook); the parent's items stay the parent's.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, final, runtime_checkable

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .._otel._compat import (
    LogRecordExporter,
    LogRecordExportResult,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
    readable_log_record,
)
from .._otel._internals import SUPPRESS_INSTRUMENTATION_KEY
from ._ledger import SkipReason, count_skip
from ._policy import HELPER_THREAD_PREFIX, ContainsOwnFailures, contain

__all__ = ["BatchLogRecordProcessor", "BatchSpanProcessor", "Batching"]

T = TypeVar("T")


@runtime_checkable
class _CountingExporter(Protocol):
    """A defensive exporter wrapper: it counts its own failures and can hand over its batch."""

    def claim_inflight(self) -> int:
        """Return the size of the batch being exported now, which the caller counts instead."""


def _positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"`{name}` must be a positive integer, got {value!r}."
        raise ValueError(msg)
    return value


class Batching(ContainsOwnFailures, Generic[T]):
    """The queue, the worker and the accounting both batch processors share."""

    _signal: str = "items"
    component_name: str

    def _init_batching(
        self,
        exporter: Any,
        success: object,
        describe: Callable[[T], str],
        *,
        schedule_delay_millis: float,
        max_export_batch_size: int,
        max_queue_size: int,
        export_timeout_millis: float,
    ) -> None:
        if isinstance(schedule_delay_millis, bool) or not (
            isinstance(schedule_delay_millis, int | float) and schedule_delay_millis > 0
        ):
            msg = (
                f"`schedule_delay_millis` must be a positive number, got {schedule_delay_millis!r}."
            )
            raise ValueError(msg)
        self._max_batch = _positive(max_export_batch_size, "max_export_batch_size")
        self._max_queue = _positive(max_queue_size, "max_queue_size")
        if self._max_batch > self._max_queue:
            msg = (
                f"`max_export_batch_size` ({max_export_batch_size}) must not exceed "
                f"`max_queue_size` ({max_queue_size})."
            )
            raise ValueError(msg)
        self.component_name = type(self).__name__
        self.export_timeout_millis = export_timeout_millis
        self._exporter = exporter
        self._success = success
        self._describe = describe
        self._delay = schedule_delay_millis / 1000
        # A defensive exporter counts what it fails to deliver; anything else is counted here.
        self._exporter_counts = isinstance(exporter, _CountingExporter)
        self._queue: collections.deque[T] = collections.deque()
        self._shutdown = False
        self._start_worker()

    def _start_worker(self) -> None:
        self._take_lock = threading.Lock()  # taking items out of the queue, and the flags below
        self._export_lock = threading.Lock()  # one export at a time: the worker or a flush
        self._wake = threading.Event()
        self._abandoned = False  # set by abandon(): no further batch is taken
        self._worker_done = False  # the worker found the queue empty after shutdown and left
        self._inflight: list[T] | None = None
        self._claimed: list[T] | None = None
        self._worker = threading.Thread(
            target=self._work, name=f"{HELPER_THREAD_PREFIX}-batch-{self._signal}", daemon=True
        )
        self._worker.start()

    @property
    def exporter(self) -> Any:
        """The exporter batches are handed to."""
        return self._exporter

    @property
    def worker_alive(self) -> bool:
        """Whether the worker thread still runs (after shutdown: still stuck in an export)."""
        return self._worker.is_alive()

    @property
    def queued(self) -> int:
        """How many items wait for export now."""
        return len(self._queue)

    # --- the application's path -----------------------------------------------------------------

    def _emit(self, item: T) -> None:
        if self._shutdown:
            self._count(SkipReason.SHUTDOWN, 1, item)
            return
        queue = self._queue
        # Several producers may pass this check together: the queue can exceed its size by the
        # number of threads at most, and nothing is ever pushed out unseen.
        if len(queue) >= self._max_queue:
            self._count(SkipReason.QUEUE_FULL, 1, item)
            return
        queue.append(item)
        if self._shutdown:
            self._settle_late()
        elif len(queue) >= self._max_batch and not self._wake.is_set():
            self._wake.set()

    def _settle_late(self) -> None:
        """Count an item queued while shutdown ran, if nobody will take it any more."""
        with self._take_lock:
            if not (self._worker_done or self._abandoned):
                return  # the worker's final drain takes it
            late = len(self._queue)
            self._queue.clear()
        if late:
            count_skip(self.component_name, SkipReason.SHUTDOWN, late, item="after shutdown")

    def _count(self, reason: SkipReason, count: int, item: T | None) -> None:
        name = "?" if item is None else _safe(self._describe, item)
        count_skip(self.component_name, reason, count, item=name)

    # --- the worker ------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._shutdown:
            self._wake.wait(self._delay)
            self._wake.clear()
            if self._shutdown:
                break
            with self._export_lock:
                self._export_batches(at_least_one=True)
        with self._export_lock:
            while True:
                with self._take_lock:
                    if self._abandoned or not self._queue:
                        self._worker_done = True
                        return
                    batch = self._take_locked()
                self._export(batch)

    def _export_batches(self, *, at_least_one: bool) -> None:
        """Export one batch, then more while full batches are queued (the export lock held)."""
        first = at_least_one
        while True:
            with self._take_lock:
                queue = self._queue
                if self._abandoned or not queue or (not first and len(queue) < self._max_batch):
                    return
                batch = self._take_locked()
            first = False
            self._export(batch)

    def _take_locked(self) -> list[T]:
        queue = self._queue
        batch = [queue.popleft() for _ in range(min(len(queue), self._max_batch))]
        self._inflight = batch
        return batch

    def _export(self, batch: list[T]) -> None:
        token = otel_context.attach(otel_context.set_value(SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            result = self._exporter.export(batch)
        except BaseException as error:
            ours = self._finish(batch) and not self._exporter_counts
            if ours and contain(
                self.component_name, error, item=self._label(batch), count=len(batch)
            ):
                raise
            return
        else:
            ours = self._finish(batch)
            if ours and not self._exporter_counts and result is not self._success:
                count_skip(
                    self.component_name,
                    SkipReason.BACKEND_UNAVAILABLE,
                    len(batch),
                    item=self._label(batch),
                )
        finally:
            otel_context.detach(token)

    def _finish(self, batch: list[T]) -> bool:
        """Mark *batch* exported; return whether it is still ours to count (not claimed)."""
        with self._take_lock:
            self._inflight = None
            return self._claimed is not batch

    def _label(self, batch: Sequence[T]) -> str:
        if len(batch) == 1:
            try:
                return self._describe(batch[0])
            except BaseException:  # noqa: BLE001 - describing a broken item must not fail
                return "?"
        return f"{len(batch)} {self._signal}"

    # --- flush, shutdown, abandonment, fork -------------------------------------------------------

    def _flush(self, timeout_millis: float | None) -> bool:
        """Export everything queued now, within *timeout_millis*; ``False`` if not all in time."""
        if self._shutdown:
            return False
        budget = 30.0 if timeout_millis is None else max(0.0, timeout_millis / 1000)
        deadline = time.monotonic() + budget
        if not self._export_lock.acquire(timeout=budget):
            return False
        try:
            while True:
                with self._take_lock:
                    if self._abandoned:
                        return False
                    if not self._queue:
                        return True
                    batch = self._take_locked()
                self._export(batch)
                if time.monotonic() >= deadline:
                    return not self._queue
        finally:
            self._export_lock.release()

    def shutdown_within(self, timeout_millis: float) -> None:
        """Stop taking items, export what is queued, then shut the exporter down; bounded.

        When the worker is still exporting at the deadline, what it leaves is counted
        ``TIMEOUT`` (unless the wrapper already did) and it takes no further batch.
        """
        if self._shutdown:
            return
        deadline = time.monotonic() + max(0.0, timeout_millis / 1000)
        self._shutdown = True
        self._wake.set()
        if threading.current_thread() is not self._worker:  # an exporter may shut its pipeline
            self._worker.join(max(0.0, deadline - time.monotonic()))
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            lost = self.abandon()
            if lost:
                count_skip(self.component_name, SkipReason.TIMEOUT, lost, item="shutdown")
        try:
            self._exporter.shutdown()
        except BaseException as error:  # noqa: BLE001 - shutdown never raises
            contain(self.component_name, error, item="shutdown")

    def abandon(self) -> int:
        """Take no further batch; return the items given up on (the caller counts them), once.

        That is everything still queued plus the batch being exported now: a defensive exporter
        hands that batch over (it then does not count it again when its export fails), for any
        other exporter it is counted as lost.
        """
        with self._take_lock:
            if self._abandoned:
                return 0
            self._abandoned = True
            lost = len(self._queue)
            self._queue.clear()
            inflight = self._inflight
            if inflight is not None:
                self._claimed = inflight
        if inflight is not None:
            if self._exporter_counts:
                lost += int(self._exporter.claim_inflight())
            else:
                lost += len(inflight)
        return lost

    def reinit_after_fork(self) -> None:
        """Start the forked child with an empty queue, new locks and a new worker."""
        self._queue.clear()  # the parent's items: the parent exports or counts them
        if self._shutdown:
            self._take_lock = threading.Lock()
            self._export_lock = threading.Lock()
            return
        self._start_worker()


def _span_name(span: ReadableSpan) -> str:
    return span.name


def _safe(describe: Callable[[Any], str], item: object) -> str:
    try:
        return describe(item)
    except BaseException:  # noqa: BLE001 - describing a broken item must not fail
        return "?"


def _log_name(item: ReadableLogRecord) -> str:
    record = item.log_record
    name = getattr(record, "event_name", None)
    return str(name) if name else str(record.body)[:80]


class BatchSpanProcessor(Batching[ReadableSpan], SpanProcessor):  # configure() adds on_start
    """Export ended spans in batches from a worker thread; count every span not exported.

    The defaults are the SDK's (``configure()`` passes the ``OTEL_BSP_*`` settings).

    Args:
        exporter: the ``SpanExporter`` batches go to (``configure()`` passes a defensive one).
        schedule_delay_millis: the longest a span waits before its batch is exported.
        max_export_batch_size: the most spans one export carries.
        max_queue_size: the most spans waiting; further spans are refused (``QUEUE_FULL``).
        export_timeout_millis: kept for parity with the SDK, which does not cancel exports either.
    """

    _signal = "spans"

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        schedule_delay_millis: float = 5000,
        max_export_batch_size: int = 512,
        max_queue_size: int = 2048,
        export_timeout_millis: float = 30_000,
    ) -> None:
        self._init_batching(
            exporter,
            SpanExportResult.SUCCESS,
            _span_name,
            schedule_delay_millis=schedule_delay_millis,
            max_export_batch_size=max_export_batch_size,
            max_queue_size=max_queue_size,
            export_timeout_millis=export_timeout_millis,
        )

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue *span* for export when it is sampled (the SDK's processors drop the others)."""
        try:
            context = span.context
            if context is not None and context.trace_flags.sampled:
                self._emit(span)
        except BaseException as error:
            if contain(self.component_name, error, item=_safe(_span_name, span)):
                raise

    def shutdown(self, timeout_millis: float = 30_000) -> None:
        """Export what is queued and shut the exporter down, within *timeout_millis*."""
        self.shutdown_within(timeout_millis)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export every queued span now; ``False`` if that did not finish within the time."""
        return self._flush(timeout_millis)


@final
class BatchLogRecordProcessor(Batching[ReadableLogRecord], LogRecordProcessor):
    """Export log records in batches from a worker thread; count every record not exported.

    The defaults are the SDK's (``configure()`` passes the ``OTEL_BLRP_*`` settings).

    Args:
        exporter: the ``LogRecordExporter`` batches go to (``configure()`` passes a defensive one).
        schedule_delay_millis: the longest a record waits before its batch is exported.
        max_export_batch_size: the most records one export carries.
        max_queue_size: the most records waiting; further records are refused (``QUEUE_FULL``).
        export_timeout_millis: kept for parity with the SDK, which does not cancel exports either.
    """

    _signal = "logs"

    def __init__(
        self,
        exporter: LogRecordExporter,
        *,
        schedule_delay_millis: float = 1000,
        max_export_batch_size: int = 512,
        max_queue_size: int = 2048,
        export_timeout_millis: float = 30_000,
    ) -> None:
        self._init_batching(
            exporter,
            LogRecordExportResult.SUCCESS,
            _log_name,
            schedule_delay_millis=schedule_delay_millis,
            max_export_batch_size=max_export_batch_size,
            max_queue_size=max_queue_size,
            export_timeout_millis=export_timeout_millis,
        )

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Queue a snapshot of *log_record* for export, as the SDK's processor does."""
        try:
            self._emit(readable_log_record(log_record))
        except BaseException as error:
            if contain(self.component_name, error, item="log record"):
                raise

    def shutdown(self, timeout_millis: float = 30_000) -> None:
        """Export what is queued and shut the exporter down, within *timeout_millis*."""
        self.shutdown_within(timeout_millis)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export every queued record now; ``False`` if that did not finish within the time."""
        return self._flush(timeout_millis)
