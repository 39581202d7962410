"""Route, filter, sample and redact spans and log records before they reach exporters.

Each piece is a span processor or log record processor that wraps the processors (or exporters)
it feeds, so they compose in ``configure(span_processors=[...], log_processors=[...])``:

- :class:`RoutingSpanProcessor` / :class:`RoutingLogRecordProcessor` send each item to the
  targets of the :class:`Route` s whose name patterns and attribute predicate match it (all of
  them, or only the first with ``first_match=True``), else to a default.
- :class:`FilteringSpanProcessor` / :class:`FilteringLogRecordProcessor` apply :class:`Drop`,
  :class:`Keep` and :class:`Sample` rules in order; the first rule that matches decides.
- :class:`RedactingSpanProcessor` / :class:`RedactingLogRecordProcessor` replace sensitive
  attribute values (``authorization``, ``password``, ``token``... see :class:`Redactor`) in a
  copy handed to the wrapped processor, so nothing else in the pipeline sees the change.

Log records are matched by ``event_name`` (plain logs have the name ``""``). A target given as an
exporter is wrapped in a ``BatchSpanProcessor`` / ``BatchLogRecordProcessor`` (``batch=False``:
the simple, synchronous one).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Generic, TypeAlias, TypeVar

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from .._exports import fixup_module_metadata as _fixup_module_metadata
from .._otel._compat import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordProcessor,
    ReadWriteLogRecord,
    SimpleLogRecordProcessor,
)
from ..events._patterns import NameMatcher, check_patterns
from ._redact import DEFAULT_SENSITIVE_KEYS, DEFAULT_VALUE_PATTERNS, REDACTED, Redactor

__all__ = [
    "DEFAULT_SENSITIVE_KEYS",
    "DEFAULT_VALUE_PATTERNS",
    "REDACTED",
    "AttributePredicate",
    "Drop",
    "FilterRule",
    "FilteringLogRecordProcessor",
    "FilteringSpanProcessor",
    "Keep",
    "RedactingLogRecordProcessor",
    "RedactingSpanProcessor",
    "Redactor",
    "Route",
    "RoutingLogRecordProcessor",
    "RoutingSpanProcessor",
    "Sample",
]

AttributePredicate: TypeAlias = Callable[[Mapping[str, Any]], bool]
"""``where(attributes) -> bool``; an exception counts as "does not match"."""

_RATIO_BITS: Final = 64
_EMPTY: Final[Mapping[str, Any]] = {}
_T = TypeVar("_T")


class _Rule:
    """Name patterns plus an optional attribute predicate."""

    __slots__ = ("_matcher", "where")

    def __init__(
        self, names: str | Iterable[str] = "*", *, where: AttributePredicate | None = None
    ) -> None:
        self._matcher = NameMatcher(check_patterns(names, "names"))
        if where is not None and not callable(where):
            msg = f"`where` must be a callable taking the attributes mapping, got {where!r}."
            raise TypeError(msg)
        self.where = where

    @property
    def names(self) -> tuple[str, ...]:
        """The name patterns this rule matches."""
        return self._matcher.patterns

    def matches(self, name: str, attributes: Mapping[str, Any] | None) -> bool:
        """Whether an item called *name* with *attributes* matches."""
        if not self._matcher.matches(name):
            return False
        if self.where is None:
            return True
        try:
            return bool(self.where(attributes or _EMPTY))
        except Exception:  # noqa: BLE001 - a failing predicate means "no match", never an error
            return False

    def _describe(self) -> str:
        where = "" if self.where is None else f", where={self.where!r}"
        return f"names={list(self.names)!r}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe()})"


class Route(_Rule):
    """Send matching items to *target*: a processor, or an exporter (wrapped in a batch processor).

    Args:
        target: A ``SpanProcessor``/``LogRecordProcessor`` or a ``SpanExporter``/``LogRecordExporter``.
        names: Name patterns (``"db.*"``); default all.
        where: A predicate on the attributes.
        batch: For an exporter target: batch (default) or export synchronously.
    """

    __slots__ = ("batch", "target")

    def __init__(
        self,
        target: Any,
        names: str | Iterable[str] = "*",
        *,
        where: AttributePredicate | None = None,
        batch: bool = True,
    ) -> None:
        super().__init__(names, where=where)
        self.target = target
        self.batch = batch

    def __repr__(self) -> str:
        return f"Route({self.target!r}, {self._describe()})"


class Drop(_Rule):
    """Filter rule: drop items matching *names* (default all) and the *where* predicate."""

    __slots__ = ()


class Keep(_Rule):
    """Filter rule: keep matching items (stops later rules from dropping them)."""

    __slots__ = ()


class Sample(_Rule):
    """Filter rule: keep a *rate* fraction (0..1) of matching items.

    Items with a trace id are sampled by it (like ``TraceIdRatioBased``), so a trace's spans and
    events are kept or dropped together; others use a random generator (seedable for tests).
    """

    __slots__ = ("_bound", "_random", "rate")

    def __init__(
        self,
        rate: float,
        names: str | Iterable[str] = "*",
        *,
        where: AttributePredicate | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(names, where=where)
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            msg = f"`rate` must be a number from 0.0 to 1.0, got {rate!r}."
            raise ValueError(msg)
        self.rate = float(rate)
        self._bound = round(self.rate * (1 << _RATIO_BITS))
        self._random = random.Random(seed)

    def __repr__(self) -> str:
        return f"Sample({self.rate!r}, {self._describe()})"

    def keeps(self, trace_id: int) -> bool:
        """Whether an item of *trace_id* (0: none) is kept."""
        if trace_id:
            return (trace_id & ((1 << _RATIO_BITS) - 1)) < self._bound
        return self._random.random() < self.rate


FilterRule: TypeAlias = Drop | Keep | Sample
"""What the filtering processors take: :class:`Drop`, :class:`Keep` or :class:`Sample`."""


class _Rules:
    """Filter rules in order, plus an exact count (across threads) of the items they dropped."""

    __slots__ = ("_lock", "dropped", "rules")

    def __init__(self, rules: Iterable[FilterRule]) -> None:
        self.rules = tuple(rules)
        for rule in self.rules:
            if not isinstance(rule, Drop | Keep | Sample):
                msg = f"Filter rules must be Drop(...), Keep(...) or Sample(...), got {rule!r}."
                raise TypeError(msg)
        self._lock = threading.Lock()
        self.dropped = 0

    def keep(self, name: str, attributes: Any, trace_id: int) -> bool:
        """Whether the first matching rule keeps the item (unmatched: kept); count a drop."""
        for rule in self.rules:
            if rule.matches(name, attributes):
                kept = rule.keeps(trace_id) if isinstance(rule, Sample) else isinstance(rule, Keep)
                if not kept:
                    with self._lock:
                        self.dropped += 1
                return kept
        return True


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
            (route, make_target(route.target, route.batch)) for route in map(_checked_route, routes)
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


class _Forwarding:
    """Forward ``shutdown``/``force_flush`` to every wrapped processor (one shared deadline).

    Mixed in before ``SpanProcessor`` / ``LogRecordProcessor``, whose methods these replace.
    """

    _targets: tuple[Any, ...] = ()

    def shutdown(self) -> None:
        """Shut every wrapped processor down."""
        for target in self._targets:
            target.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush every wrapped processor within one deadline."""
        deadline = time.monotonic() + timeout_millis / 1000
        flushed = True
        for target in self._targets:
            remaining = max(0, int((deadline - time.monotonic()) * 1000))
            flushed = bool(target.force_flush(remaining)) and flushed
        return flushed


# --- spans -----------------------------------------------------------------------------------


def _span_target(target: Any, batch: bool) -> SpanProcessor:
    if isinstance(target, SpanProcessor):
        return target
    if isinstance(target, SpanExporter):
        return BatchSpanProcessor(target) if batch else SimpleSpanProcessor(target)
    msg = f"A span route target must be a SpanProcessor or SpanExporter, got {target!r}."
    raise TypeError(msg)


class _WrappingSpanProcessor(_Forwarding, SpanProcessor):
    """Wrap one processor (an exporter is wrapped in one first); ``on_start`` is forwarded as is."""

    def __init__(self, processor: Any, batch: bool) -> None:
        self._next = _span_target(processor, batch)
        self._targets = (self._next,)

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        """Forward the start unchanged (rules and redaction apply to ended spans)."""
        self._next.on_start(span, parent_context=parent_context)


class RoutingSpanProcessor(_Forwarding, SpanProcessor):
    """Send each ended span to the targets of the matching routes (see the module docstring).

    Args:
        routes: The :class:`Route` s, checked in order.
        default: Where spans no route matched go (a processor or exporter); ``None`` drops them.
        first_match: Stop at the first matching route instead of fanning out to all.
    """

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        default: Any = None,
        first_match: bool = False,
    ) -> None:
        self._router = _Router(routes, _span_target, default, first_match)
        self._targets = self._router.targets

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        """Forward the start to the targets matching the span's name and *start* attributes.

        A route whose predicate needs attributes set later receives the span only at its end.
        """
        for target in self._router.select(span.name, span.attributes):
            target.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        """Forward the ended span to the targets matching its name and final attributes."""
        for target in self._router.select(span.name, span.attributes):
            target.on_end(span)


class FilteringSpanProcessor(_WrappingSpanProcessor):
    """Pass ended spans to *processor* unless a :class:`Drop`/:class:`Sample` rule removes them.

    ``dropped`` counts the spans removed by rules (intended, so not counted as skips).
    """

    def __init__(self, processor: Any, rules: Iterable[FilterRule], *, batch: bool = True) -> None:
        super().__init__(processor, batch)
        self._rules = _Rules(rules)

    @property
    def dropped(self) -> int:
        """How many spans the rules removed."""
        return self._rules.dropped

    def on_end(self, span: ReadableSpan) -> None:
        """Forward *span* if the rules keep it."""
        trace_id = span.context.trace_id if span.context is not None else 0
        if self._rules.keep(span.name, span.attributes, trace_id):
            self._next.on_end(span)


class RedactingSpanProcessor(_WrappingSpanProcessor):
    """Hand *processor* a copy of each ended span with sensitive attribute values replaced.

    Span, span-event and link attributes are redacted; spans with nothing sensitive are passed
    as they are. ``on_start`` is forwarded unchanged (attributes are final only at the end).
    """

    def __init__(
        self, processor: Any, redactor: Redactor | None = None, *, batch: bool = True
    ) -> None:
        super().__init__(processor, batch)
        self.redactor = Redactor() if redactor is None else redactor

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


class _ForwardingLogRecordProcessor(_Forwarding, LogRecordProcessor):
    """A log record processor that also answers the older SDK spelling ``emit``."""

    def emit(self, log_record: ReadWriteLogRecord) -> None:
        """Older SDK spelling of ``on_emit``."""
        self.on_emit(log_record)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:  # pragma: no cover - overridden
        """Handle one log record."""
        raise NotImplementedError


class _WrappingLogRecordProcessor(_ForwardingLogRecordProcessor):
    """Wrap one processor (an exporter is wrapped in one first)."""

    def __init__(self, processor: Any, batch: bool) -> None:
        self._next = _log_target(processor, batch)
        self._targets = (self._next,)


class RoutingLogRecordProcessor(_ForwardingLogRecordProcessor):
    """Send each log record / event to the targets of the matching routes (by ``event_name``)."""

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        default: Any = None,
        first_match: bool = False,
    ) -> None:
        self._router = _Router(routes, _log_target, default, first_match)
        self._targets = self._router.targets

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Forward *log_record* to every matching route's target (or the default)."""
        for target in self._router.select(_log_name(log_record), log_record.log_record.attributes):
            target.on_emit(log_record)


class FilteringLogRecordProcessor(_WrappingLogRecordProcessor):
    """Pass log records to *processor* unless a :class:`Drop`/:class:`Sample` rule removes them."""

    def __init__(self, processor: Any, rules: Iterable[FilterRule], *, batch: bool = True) -> None:
        super().__init__(processor, batch)
        self._rules = _Rules(rules)

    @property
    def dropped(self) -> int:
        """How many log records the rules removed."""
        return self._rules.dropped

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Forward *log_record* if the rules keep it."""
        record = log_record.log_record
        if self._rules.keep(_log_name(log_record), record.attributes, record.trace_id or 0):
            self._next.on_emit(log_record)


class RedactingLogRecordProcessor(_WrappingLogRecordProcessor):
    """Hand *processor* a copy of each log record with sensitive attributes and body parts replaced."""

    def __init__(
        self, processor: Any, redactor: Redactor | None = None, *, batch: bool = True
    ) -> None:
        super().__init__(processor, batch)
        self.redactor = Redactor() if redactor is None else redactor

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


def _checked_route(route: object) -> Route:
    if not isinstance(route, Route):
        msg = f"`routes` must contain Route(...) objects, got {route!r}."
        raise TypeError(msg)
    return route


_fixup_module_metadata(__name__, globals())
