"""The routing, filtering and redacting processors, for spans and for log records.

Each signal has the same three processors built from the same pieces: a wrapping processor
(one target; an exporter is wrapped in a batch or simple processor first) with the filter rules
or a :class:`~._redact.Redactor`, and a routing processor (the targets of the matching routes, or
a default). Only what truly differs per signal is written twice: how a target is built, where an
item's name, attributes and trace id are read, and how a redacted copy is made. A routing target
that raises is counted as a skip of ``routing`` and does not keep the item from the other targets.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from typing import Any, Final, Generic, TypeVar

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from .._otel._compat import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordProcessor,
    ReadWriteLogRecord,
    SimpleLogRecordProcessor,
)
from ..defensive._policy import contain
from ._redact import Redactor
from ._rules import FilterRule, Route, Rules, checked_route

__all__ = [
    "FilteringLogRecordProcessor",
    "FilteringSpanProcessor",
    "RedactingLogRecordProcessor",
    "RedactingSpanProcessor",
    "RoutingLogRecordProcessor",
    "RoutingSpanProcessor",
]

_COMPONENT: Final = "routing"
_T = TypeVar("_T")


class _Router(Generic[_T]):
    """Routes paired with their built targets, plus the default: picks the targets of an item."""

    __slots__ = ("_default", "_first_match", "_pairs", "targets")

    def __init__(
        self,
        routes: Iterable[Route],
        make_target: Callable[[Any, bool], _T],
        default: Any,
        first_match: bool,
    ) -> None:
        self._pairs = tuple(
            (route, make_target(route.target, route.batch)) for route in map(checked_route, routes)
        )
        self._default = None if default is None else make_target(default, True)
        self._first_match = first_match
        extra = () if self._default is None else (self._default,)
        self.targets: tuple[_T, ...] = (*(target for _, target in self._pairs), *extra)

    def select(self, name: str, attributes: Any) -> list[_T]:
        """Return the targets of the routes matching *name* and *attributes*, else the default."""
        chosen = []
        for route, target in self._pairs:
            if route.matches(name, attributes):
                chosen.append(target)
                if self._first_match:
                    break
        if not chosen and self._default is not None:
            chosen.append(self._default)
        return chosen


def _target_failed(target: object, hook: str, name: str, error: Exception) -> None:
    """Count the item one routing target lost; the other targets still get it."""
    contain(_COMPONENT, error, item=f"{type(target).__name__}.{hook} on {name!r}")


class _Forwarding:
    """Forward ``shutdown``/``force_flush`` to every wrapped processor (one shared deadline).

    Mixed in before ``SpanProcessor`` / ``LogRecordProcessor``, whose methods these replace. A
    target whose ``shutdown`` or ``force_flush`` raises is counted and the others still run.
    """

    _targets: tuple[Any, ...] = ()

    def _make_target(self, target: Any, batch: bool) -> Any:  # pragma: no cover - per signal
        """Return the processor for a route or wrapped *target* (an exporter is wrapped)."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Shut every wrapped processor down."""
        for target in self._targets:
            try:
                target.shutdown()
            except Exception as error:  # noqa: BLE001 - one target must not keep the others open
                _target_failed(target, "shutdown", "-", error)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush every wrapped processor within one deadline."""
        deadline = time.monotonic() + timeout_millis / 1000
        flushed = True
        for target in self._targets:
            remaining = max(0, int((deadline - time.monotonic()) * 1000))
            try:
                flushed = bool(target.force_flush(remaining)) and flushed
            except Exception as error:  # noqa: BLE001 - see shutdown()
                _target_failed(target, "force_flush", "-", error)
                flushed = False
        return flushed


class _Wrapping(_Forwarding):
    """Wrap one processor; ``_make_target`` (per signal) wraps an exporter in a processor first."""

    def __init__(self, processor: Any, batch: bool) -> None:
        self._next = self._make_target(processor, batch)
        self._targets = (self._next,)


class _Filtering(_Wrapping):
    """Wrap one processor behind filter rules; ``dropped`` counts the items the rules removed.

    Dropping by rule is intended, so it is not counted as a skip.
    """

    def __init__(self, processor: Any, rules: Iterable[FilterRule], *, batch: bool = True) -> None:
        super().__init__(processor, batch)
        self._rules = Rules(rules)

    @property
    def dropped(self) -> int:
        """How many items the rules removed."""
        return self._rules.dropped


class _Redacting(_Wrapping):
    """Wrap one processor and hand it redacted copies (``redactor``: default :class:`Redactor`)."""

    def __init__(
        self, processor: Any, redactor: Redactor | None = None, *, batch: bool = True
    ) -> None:
        super().__init__(processor, batch)
        self.redactor = Redactor() if redactor is None else redactor


class _Routing(_Forwarding):
    """Route each item to the targets of the matching routes (see :class:`RoutingSpanProcessor`)."""

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        default: Any = None,
        first_match: bool = False,
    ) -> None:
        self._router = _Router(routes, self._make_target, default, first_match)
        self._targets = self._router.targets


# --- spans -----------------------------------------------------------------------------------


def _span_target(target: Any, batch: bool) -> SpanProcessor:
    if isinstance(target, SpanProcessor):
        return target
    if isinstance(target, SpanExporter):
        return BatchSpanProcessor(target) if batch else SimpleSpanProcessor(target)
    msg = f"A span route target must be a SpanProcessor or SpanExporter, got {target!r}."
    raise TypeError(msg)


class _SpanTargets:
    """The span side of a routing or wrapping processor: how a target is built."""

    def _make_target(self, target: Any, batch: bool) -> SpanProcessor:
        return _span_target(target, batch)


class _SpanWrapping(_SpanTargets, _Wrapping, SpanProcessor):
    """A span processor around one target; ``on_start`` is forwarded as is."""

    _next: SpanProcessor

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        """Forward the start unchanged (rules and redaction apply to ended spans)."""
        self._next.on_start(span, parent_context=parent_context)


class RoutingSpanProcessor(_SpanTargets, _Routing, SpanProcessor):
    """Send each ended span to the targets of the matching routes (see the package docstring).

    Each target is isolated: one that raises is counted as a skip of ``routing`` and the span
    still reaches the other targets.

    Args:
        routes: The :class:`Route` s, checked in order.
        default: Where spans no route matched go (a processor or exporter); ``None`` drops them.
        first_match: Stop at the first matching route instead of fanning out to all.
    """

    _router: _Router[SpanProcessor]

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        """Forward the start to the targets matching the span's name and *start* attributes.

        A route whose predicate needs attributes set later receives the span only at its end.
        """
        for target in self._router.select(span.name, span.attributes):
            try:
                target.on_start(span, parent_context=parent_context)
            except Exception as error:  # noqa: BLE001 - one target must not starve the others
                _target_failed(target, "on_start", span.name, error)

    def on_end(self, span: ReadableSpan) -> None:
        """Forward the ended span to the targets matching its name and final attributes."""
        for target in self._router.select(span.name, span.attributes):
            try:
                target.on_end(span)
            except Exception as error:  # noqa: BLE001 - one target must not starve the others
                _target_failed(target, "on_end", span.name, error)


class FilteringSpanProcessor(_Filtering, _SpanWrapping):
    """Pass ended spans to *processor* unless a :class:`Drop`/:class:`Sample` rule removes them.

    ``dropped`` counts the spans removed by rules (intended, so not counted as skips).
    """

    def on_end(self, span: ReadableSpan) -> None:
        """Forward *span* if the rules keep it."""
        trace_id = span.context.trace_id if span.context is not None else 0
        if self._rules.keep(span.name, span.attributes, trace_id):
            self._next.on_end(span)


class RedactingSpanProcessor(_Redacting, _SpanWrapping):
    """Hand *processor* a copy of each ended span with sensitive attribute values replaced.

    Span, span-event and link attributes are redacted; spans with nothing sensitive are passed
    as they are. ``on_start`` is forwarded unchanged (attributes are final only at the end).
    """

    def on_end(self, span: ReadableSpan) -> None:
        """Forward a redacted copy of *span* (or *span* itself when nothing is sensitive)."""
        self._next.on_end(self._redacted(span))

    def _redacted(self, span: ReadableSpan) -> ReadableSpan:
        redact = self.redactor.redact
        attributes = redact(span.attributes)
        events = [(event, redact(event.attributes)) for event in span.events]
        events_changed = any(new is not None for _, new in events)
        links = [(link, redact(link.attributes)) for link in span.links]
        links_changed = any(new is not None for _, new in links)
        if attributes is None and not events_changed and not links_changed:
            return span
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=span.attributes if attributes is None else attributes,
            events=[
                event if new is None else Event(event.name, new, event.timestamp)
                for event, new in events
            ],
            links=[link if new is None else type(link)(link.context, new) for link, new in links],
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )


# --- log records -----------------------------------------------------------------------------


def _log_target(target: Any, batch: bool) -> LogRecordProcessor:
    if isinstance(target, LogRecordProcessor):
        return target
    if isinstance(target, LogRecordExporter):
        return BatchLogRecordProcessor(target) if batch else SimpleLogRecordProcessor(target)
    msg = f"A log route target must be a LogRecordProcessor or LogRecordExporter, got {target!r}."
    raise TypeError(msg)


def _log_name(item: ReadWriteLogRecord) -> str:
    return getattr(item.log_record, "event_name", None) or ""


class _LogTargets:
    """The log side of a routing or wrapping processor: how a target is built, and ``emit``."""

    def _make_target(self, target: Any, batch: bool) -> LogRecordProcessor:
        return _log_target(target, batch)

    def emit(self, log_record: ReadWriteLogRecord) -> None:
        """Older SDK spelling of ``on_emit``."""
        self.on_emit(log_record)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:  # pragma: no cover - overridden
        """Handle one log record."""
        raise NotImplementedError


class RoutingLogRecordProcessor(_LogTargets, _Routing, LogRecordProcessor):
    """Send each log record / event to the targets of the matching routes (by ``event_name``).

    Each target is isolated, as in :class:`RoutingSpanProcessor`.
    """

    _router: _Router[LogRecordProcessor]

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Forward *log_record* to every matching route's target (or the default)."""
        name = _log_name(log_record)
        for target in self._router.select(name, log_record.log_record.attributes):
            try:
                target.on_emit(log_record)
            except Exception as error:  # noqa: BLE001 - one target must not starve the others
                _target_failed(target, "on_emit", name, error)


class FilteringLogRecordProcessor(_LogTargets, _Filtering, LogRecordProcessor):
    """Pass log records to *processor* unless a :class:`Drop`/:class:`Sample` rule removes them."""

    _next: LogRecordProcessor

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Forward *log_record* if the rules keep it."""
        record = log_record.log_record
        if self._rules.keep(_log_name(log_record), record.attributes, record.trace_id or 0):
            self._next.on_emit(log_record)


class RedactingLogRecordProcessor(_LogTargets, _Redacting, LogRecordProcessor):
    """Hand *processor* a copy of each log record with sensitive attributes and body parts replaced."""

    _next: LogRecordProcessor

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Forward a redacted copy (or the record itself when nothing is sensitive)."""
        record = log_record.log_record
        attributes = self.redactor.redact(record.attributes)
        body = self.redactor.scrub(record.body)
        if attributes is None and body is record.body:
            self._next.on_emit(log_record)
            return
        redacted = copy.copy(record)
        redacted.attributes = record.attributes if attributes is None else attributes
        redacted.body = body
        self._next.on_emit(
            ReadWriteLogRecord(
                log_record=redacted,
                resource=log_record.resource,
                instrumentation_scope=log_record.instrumentation_scope,
                limits=log_record.limits,
            )
        )
