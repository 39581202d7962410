"""The demo's own bookkeeping: what it produced, counted in the emitting thread.

Two pipeline components sit next to the exporters: :class:`TallySpanProcessor` counts every
ended span and :class:`TallyLogProcessor` every log record, and both keep a bounded sample (span
shapes for the trace tree, order latencies for the percentiles, events for the tree's leaves).
A skip listener counts what the defensive layer dropped, by signal. Together with what the sink
received they give the report's accounting identity: produced = received + dropped.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import StatusCode

from .._otel import _compat
from ..defensive._ledger import SkipReason

__all__ = ["ORDER_SPAN", "SpanShape", "Tally", "TallyLogProcessor", "TallySpanProcessor"]

ORDER_SPAN: Final = "demo.order.process"
_MAX_SHAPES: Final = 50_000
_MAX_EVENTS: Final = 100_000


@dataclass(frozen=True, slots=True)
class SpanShape:
    """What the report needs of one span (or one event, a leaf with ``is_event``)."""

    name: str
    trace_id: int
    span_id: int
    parent_id: int | None
    start_ns: int
    duration_ns: int
    attributes: dict[str, Any]
    error: bool = False
    is_event: bool = False


@dataclass
class Tally:
    """Counts and samples of what the demo produced, and what was dropped on the way."""

    spans: int = 0
    logs: int = 0
    event_names: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    drop_reasons: Counter[str] = field(default_factory=Counter)
    order_latencies: list[float] = field(default_factory=list)
    shapes: deque[SpanShape] = field(default_factory=lambda: deque(maxlen=_MAX_SHAPES))
    events: deque[SpanShape] = field(default_factory=lambda: deque(maxlen=_MAX_EVENTS))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_skip(
        self,
        component: str,
        reason: SkipReason,
        count: int,
        item: str | None,
        error: BaseException | None,
    ) -> None:
        """Skip listener: attribute a counted drop to the signal its component carries."""
        del item, error
        signal = _signal_of(component)
        with self.lock:
            self.dropped[signal] += count
            self.drop_reasons[f"{signal}: {component} ({reason.value})"] += count

    def snapshot(self) -> tuple[int, int, dict[str, int]]:
        """Return ``(spans, logs, dropped by signal)`` as of now."""
        with self.lock:
            return self.spans, self.logs, dict(self.dropped)


def _signal_of(component: str) -> str:
    lowered = component.lower()
    if "span" in lowered or "trace" in lowered:
        return "traces"
    if "log" in lowered:
        return "logs"
    if "metric" in lowered:
        return "metrics"
    return "other"


class TallySpanProcessor(SpanProcessor):
    """Count every ended span; keep its shape and, for orders, its latency."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally

    def on_end(self, span: ReadableSpan) -> None:
        """Count *span* and keep what the report needs of it."""
        context = span.context
        if context is None:
            return
        start = span.start_time or 0
        duration = max(0, (span.end_time or start) - start)
        shape = SpanShape(
            name=span.name,
            trace_id=context.trace_id,
            span_id=context.span_id,
            parent_id=span.parent.span_id if span.parent is not None else None,
            start_ns=start,
            duration_ns=duration,
            attributes=dict(span.attributes or {}),
            error=span.status.status_code is StatusCode.ERROR,
        )
        tally = self._tally
        with tally.lock:
            tally.spans += 1
            tally.shapes.append(shape)
            if span.name == ORDER_SPAN:
                tally.order_latencies.append(duration / 1e9)

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return True


class TallyLogProcessor(_compat.LogRecordProcessor):
    """Count every log record; keep events with their trace context for the trace tree."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally

    def on_emit(self, log_record: _compat.ReadWriteLogRecord) -> None:
        """Count *log_record* and keep it as a leaf of its span."""
        record = log_record.log_record
        name = getattr(record, "event_name", None) or str(record.body or "")
        leaf = SpanShape(
            name=name,
            trace_id=record.trace_id or 0,
            span_id=0,
            parent_id=record.span_id or None,
            start_ns=record.timestamp or 0,
            duration_ns=0,
            attributes=dict(record.attributes or {}),
            is_event=True,
        )
        tally = self._tally
        with tally.lock:
            tally.logs += 1
            tally.event_names[name] += 1
            if leaf.trace_id:
                tally.events.append(leaf)

    def emit(self, log_record: _compat.ReadWriteLogRecord) -> None:
        """Older SDK spelling of :meth:`on_emit`."""
        self.on_emit(log_record)

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return True
