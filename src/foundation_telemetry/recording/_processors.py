"""The capture processors: span starts and ends, log records and events, into a record buffer.

They run in the emitting thread, before any batching, store the SDK object itself (an ended span
as the flat tuple of its fields, no copy of any value) and stamp each entry with the isolation scope of the span it belongs to; they never raise.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SDKSpan

from .._otel import _compat
from .._otel._internals import compact_span
from ..defensive._policy import ContainsOwnFailures, contain
from ._buffer import RecordBuffer
from ._records import RecordKind

__all__ = ["RecordingLogProcessor", "RecordingSpanProcessor", "current_thread_name"]

COMPONENT: Final = "recorder"
# Enum members read once: a class-attribute read of a member costs more than the rest of a list.
_SPAN_START: Final = RecordKind.SPAN_START
_SPAN_END: Final = RecordKind.SPAN_END
_EVENT: Final = RecordKind.EVENT
_LOG: Final = RecordKind.LOG


class _ThreadNames:
    """The current thread's name, cached in a thread-local (cheap, and dies with the thread)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def current(self) -> str:
        try:
            return self._local.name  # type: ignore[no-any-return]
        except AttributeError:
            name: str = threading.current_thread().name
            self._local.name = name
            return name


_thread_names = _ThreadNames()
current_thread_name = _thread_names.current


class RecordingSpanProcessor(ContainsOwnFailures, SpanProcessor):
    """Capture span starts and ends into a :class:`RecordBuffer`; never raises.

    Its failures are counted under ``recorder``, or under its wrapper's name once wrapped.

    The hot path stores the running SDK span, then at its end the flat tuple of its fields
    (``_internals.compact_span``); ``SpanRecord`` views are built when something first reads them.
    """

    component_name = COMPONENT

    def __init__(self, buffer: RecordBuffer) -> None:
        self._buffer = buffer
        # span_id -> the span's start entry, while the span runs: children and log records
        # inherit the isolation scope of the span they belong to.
        self._live: dict[int, list[Any]] = {}
        self._last_end: ReadableSpan | None = None

    def scope_of(self, span_id: int | None) -> int:
        """Return the scope of a running span, or the buffer's current scope."""
        if span_id:
            entry = self._live.get(span_id)
            if entry is not None:
                return entry[2]  # type: ignore[no-any-return]
        return self._buffer.scope

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        """Record the start (the scope comes from a running parent, else the current scope)."""
        try:
            parent = span.parent
            scope = self._buffer.scope
            if parent is not None:
                parent_entry = self._live.get(parent.span_id)
                if parent_entry is not None:
                    scope = parent_entry[2]
            entry = [_SPAN_START, span, scope, current_thread_name()]
            if self._live.setdefault(span.context.span_id, entry) is not entry:
                return  # this processor is registered twice on the provider
            self._buffer._store(entry)  # noqa: SLF001 - the buffer's append, shared inside recording
        except BaseException as error:
            if contain(self.component_name, error, item="span_start"):
                raise

    def on_end(self, span: ReadableSpan) -> None:
        """Record the end as a compact tuple (no SDK span kept); the start entry shares it."""
        try:
            if span is self._last_end:
                return  # this processor is registered twice on the provider
            self._last_end = span
            fields = compact_span(span)
            start = self._live.pop(fields[1].span_id, None)
            if start is None:
                scope = self._buffer.scope
            else:
                start[1] = fields  # release the live SDK span: both entries share the tuple
                scope = start[2]
            self._buffer._store([_SPAN_END, fields, scope, current_thread_name()])  # noqa: SLF001 - as above
        except BaseException as error:
            if contain(self.component_name, error, item="span_end"):
                raise

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered outside the record buffer."""
        return True


class RecordingLogProcessor(ContainsOwnFailures, _compat.LogRecordProcessor):
    """Capture log records and log-based events (``event_name``) into a buffer; never raises.

    Its failures are counted under ``recorder``, or under its wrapper's name once wrapped.
    """

    component_name = COMPONENT

    def __init__(self, buffer: RecordBuffer, spans: RecordingSpanProcessor) -> None:
        self._buffer = buffer
        self._spans = spans
        self._last: Any = None

    def on_emit(self, log_record: _compat.ReadWriteLogRecord) -> None:
        """Record the log record (an EVENT when it carries an ``event_name``)."""
        try:
            if log_record is self._last:
                return  # this processor is registered twice on the provider
            self._last = log_record
            record = log_record.log_record
            kind = _EVENT if _compat.event_name_of(log_record) else _LOG
            scope = self._spans.scope_of(record.span_id)
            self._buffer._store([kind, log_record, scope, current_thread_name()])  # noqa: SLF001 - as above
        except BaseException as error:
            if contain(self.component_name, error, item="log"):
                raise

    def emit(self, log_record: _compat.ReadWriteLogRecord) -> None:
        """Older SDK spelling of :meth:`on_emit`."""
        self.on_emit(log_record)

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered outside the record buffer."""
        return True
