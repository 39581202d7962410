"""Matching records: names (exact, glob, regex), attribute values, and the combinators.

An expected value matches an actual one when it is equal, or when it is a ``re.Pattern`` the
text fully matches, a callable returning true for it, a type it is an instance of, or any object
whose ``__eq__`` says so (so dirty-equals works). ``any_of``, ``all_of`` and ``not_`` combine them.
A :class:`RecordMatcher` applies one name and an attribute subset (plus span fields) to records
and explains a mismatch field by field, which is what failure messages print.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeAlias, final

from ._records import EventRecord, MetricPoint, RecordKind, SpanRecord

__all__ = [
    "ROOT",
    "AllOf",
    "AnyOf",
    "Not",
    "Record",
    "RecordMatcher",
    "all_of",
    "any_of",
    "describe_value",
    "kind_label",
    "not_",
    "value_matches",
]

Record: TypeAlias = SpanRecord | EventRecord | MetricPoint

_GLOB_CHARS: Final = frozenset("*?[")


class _Combinator:
    """Base of the value combinators: equality means "matches", repr is the call that built it."""

    def matches(self, actual: Any) -> bool:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return self.matches(other)

    def __ne__(self, other: object) -> bool:
        return not self.matches(other)

    __hash__ = None  # type: ignore[assignment]


@final
class AnyOf(_Combinator):
    """Matches when any of the expected values matches."""

    def __init__(self, *expected: Any) -> None:
        if not expected:
            msg = "any_of() needs at least one expected value."
            raise ValueError(msg)
        self.expected = expected

    def matches(self, actual: Any) -> bool:
        """Return whether any expected value matches *actual*."""
        return any(value_matches(e, actual) for e in self.expected)

    def __repr__(self) -> str:
        return f"any_of({', '.join(describe_value(e) for e in self.expected)})"


@final
class AllOf(_Combinator):
    """Matches when every expected value matches."""

    def __init__(self, *expected: Any) -> None:
        if not expected:
            msg = "all_of() needs at least one expected value."
            raise ValueError(msg)
        self.expected = expected

    def matches(self, actual: Any) -> bool:
        """Return whether every expected value matches *actual*."""
        return all(value_matches(e, actual) for e in self.expected)

    def __repr__(self) -> str:
        return f"all_of({', '.join(describe_value(e) for e in self.expected)})"


@final
class Not(_Combinator):
    """Matches when the expected value does not."""

    def __init__(self, expected: Any) -> None:
        self.expected = expected

    def matches(self, actual: Any) -> bool:
        """Return whether the expected value does not match *actual*."""
        return not value_matches(self.expected, actual)

    def __repr__(self) -> str:
        return f"not_({describe_value(self.expected)})"


def any_of(*expected: Any) -> AnyOf:
    """Match a value equal to (or matched by) any of *expected*."""
    return AnyOf(*expected)


def all_of(*expected: Any) -> AllOf:
    """Match a value matched by every one of *expected* (e.g. two callables)."""
    return AllOf(*expected)


def not_(expected: Any) -> Not:
    """Match any value *expected* does not match."""
    return Not(expected)


@final
class _Root:
    """The ``parent=ROOT`` marker: the span has no parent."""

    def __repr__(self) -> str:
        return "ROOT"


ROOT: Final = _Root()
"""Pass as ``expect_span(..., parent=ROOT)`` to require a root span."""


def article(word: str) -> str:
    """Return "An" or "A" for *word* ("An event name", "A span name")."""
    return "An" if word[:1] in "aeiou" else "A"


def value_matches(expected: Any, actual: Any) -> bool:
    """Return whether *actual* satisfies *expected* (see the module docstring)."""
    if isinstance(expected, _Combinator):
        return expected.matches(actual)
    if isinstance(expected, re.Pattern):
        return isinstance(actual, str) and expected.fullmatch(actual) is not None
    if isinstance(expected, type):
        try:
            if expected == actual:
                return True
        except (TypeError, ValueError):
            return False
        return isinstance(actual, expected)
    if callable(expected) and not _has_custom_eq(expected):
        try:
            return bool(expected(actual))
        except (TypeError, ValueError):
            return False
    try:
        return bool(expected == actual)
    except (TypeError, ValueError):
        return False


_PLAIN_TYPES: Final = frozenset({str, int, bool, bytes, type(None)})


def _is_plain(expected: Any) -> bool:
    """Whether *expected* matches exactly what ``==`` says (a scalar; NaN is never equal)."""
    if type(expected) is float:
        return expected == expected
    return type(expected) in _PLAIN_TYPES


def _has_custom_eq(value: Any) -> bool:
    # dirty-equals instances are callable-free; a few matcher libraries make them callable too,
    # and for those equality is the contract.
    eq: object = type(value).__eq__
    return eq is not object.__eq__ and not isinstance(value, type)


def describe_value(expected: Any) -> str:
    """Return how an expected value reads in a failure message."""
    if isinstance(expected, re.Pattern):
        return f"re.compile({expected.pattern!r})"
    if callable(expected) and not isinstance(expected, type) and not _has_custom_eq(expected):
        return getattr(expected, "__qualname__", None) or repr(expected)
    if isinstance(expected, type):
        return expected.__name__
    return repr(expected)


def name_matches(expected: Any, actual: str) -> bool:
    """Match a record name: a glob when *expected* is a ``str`` with ``*?[``, else as a value."""
    if isinstance(expected, str):
        if _GLOB_CHARS.isdisjoint(expected):
            return expected == actual
        return fnmatch.fnmatchcase(actual, expected)
    return value_matches(expected, actual)


def kind_label(record: Record) -> str:
    """Return a short word for what a record is ("span", "event", "log", "metric")."""
    if isinstance(record, SpanRecord):
        return "span" if record.ended else "span start"
    if isinstance(record, MetricPoint):
        return "metric"
    if record.kind is RecordKind.SPAN_EVENT:
        return "span event"
    if record.kind is RecordKind.LOG:
        return "log"
    return "event"


SpanIndex: TypeAlias = Mapping[int, SpanRecord]
"""span_id -> span, used to check a span's parent by name."""


class RecordMatcher:
    """One name plus an attribute subset (plus span fields), applied to one kind of record.

    Args:
        what: what the matcher looks for, as printed ("event", "span", "log", "metric").
        accepts: which records are candidates at all (e.g. ended spans only).
        name: expected name; ``None`` matches any name.
        attributes: expected attribute subset (values are matchers).
        fields: expected record fields (``status``) compared like attribute values.
        parent: expected parent span: a name (glob), matcher, ``SpanRecord`` or ``ROOT``.
    """

    def __init__(
        self,
        what: str,
        accepts: Callable[[Record], bool],
        name: Any = None,
        attributes: Mapping[str, Any] | None = None,
        fields: Mapping[str, Any] | None = None,
        parent: Any = None,
    ) -> None:
        if name is not None and not (
            isinstance(name, str | re.Pattern | _Combinator) or callable(name)
        ):
            msg = f"{article(what)} {what} name must be a str, glob, re.Pattern or matcher, got {name!r}."
            raise TypeError(msg)
        if attributes is not None and not isinstance(attributes, Mapping):
            msg = f"`attributes` must be a mapping of attribute name to value, got {attributes!r}."
            raise TypeError(msg)
        self.what = what
        self.accepts = accepts
        self.name = name
        self.attributes: Mapping[str, Any] = dict(attributes or {})
        self.fields: Mapping[str, Any] = dict(fields or {})
        self.parent = parent
        # The common case read in one C comparison each: the record kinds of a known `accepts`,
        # an exact name, plain expected values.
        self._event_kinds = _EVENT_KINDS.get(accepts)
        self._exact_name = name if isinstance(name, str) and _GLOB_CHARS.isdisjoint(name) else None
        self._plain_items = (
            dict(self.attributes).items()
            if all(_is_plain(value) for value in self.attributes.values())
            else None
        )

    def matches(self, record: Record, spans: SpanIndex | None = None) -> bool:
        """Return whether *record* is a candidate and every expected part matches."""
        if self._event_kinds is not None:
            if type(record) is not EventRecord or record.kind not in self._event_kinds:
                return False
        elif not self.accepts(record):
            return False
        if self._exact_name is not None:
            if self._exact_name != record.name:
                return False
        elif self.name is not None and not name_matches(self.name, record.name):
            return False
        attributes = record.attributes
        if self._plain_items is not None and type(attributes) is dict:
            # Each expected (key, value) is in the record's items: `key in` and `==`, as below.
            if not attributes.items() >= self._plain_items:
                return False
        else:
            for key, expected in self.attributes.items():
                if key not in attributes or not value_matches(expected, attributes[key]):
                    return False
        for field, expected in self.fields.items():
            if not value_matches(expected, getattr(record, field, None)):
                return False
        return self.parent is None or self._parent_matches(record, spans)

    def _parent_matches(self, record: Record, spans: SpanIndex | None) -> bool:
        parent_id = getattr(record, "parent_span_id", None)
        if self.parent is ROOT:
            return parent_id is None
        if parent_id is None:
            return False
        if isinstance(self.parent, SpanRecord):
            return bool(parent_id == self.parent.span_id)
        parent = (spans or {}).get(parent_id)
        return parent is not None and name_matches(self.parent, parent.name)

    def diff(self, record: Record, spans: SpanIndex | None = None) -> list[str]:
        """Return one line per expected part that *record* does not satisfy."""
        lines = []
        if self.name is not None and not name_matches(self.name, record.name):
            lines.append(f"name: {record.name!r} != {describe_value(self.name)}")
        for key, expected in self.attributes.items():
            if key not in record.attributes:
                lines.append(f"attributes[{key!r}]: missing, expected {describe_value(expected)}")
            elif not value_matches(expected, record.attributes[key]):
                lines.append(
                    f"attributes[{key!r}]: {record.attributes[key]!r} != {describe_value(expected)}"
                )
        for field, expected in self.fields.items():
            actual = getattr(record, field, None)
            if not value_matches(expected, actual):
                lines.append(f"{field}: {actual!r} != {describe_value(expected)}")
        if self.parent is not None and not self._parent_matches(record, spans):
            lines.append(f"parent: {self._parent_text(record, spans)} != {self._parent_wanted()}")
        return lines

    def _parent_text(self, record: Record, spans: SpanIndex | None) -> str:
        parent_id = getattr(record, "parent_span_id", None)
        if parent_id is None:
            return "ROOT"
        parent = (spans or {}).get(parent_id)
        return repr(parent.name) if parent is not None else f"unknown span {parent_id:016x}"

    def _parent_wanted(self) -> str:
        if isinstance(self.parent, SpanRecord):
            return f"span {self.parent.name!r} ({self.parent.span_id:016x})"
        return describe_value(self.parent)

    def score(self, record: Record, spans: SpanIndex | None = None) -> float:
        """Return how close *record* comes (1.0 is a match), to rank the closest candidates."""
        parts = 2 + len(self.attributes) + len(self.fields) + (self.parent is not None)
        missed = len(self.diff(record, spans))
        name_missed = self.name is not None and not name_matches(self.name, record.name)
        return (parts - missed - name_missed) / parts

    def describe(self) -> str:
        """Return the expectation as one line, e.g. ``event 'checkout' with {'order.id': 42}``."""
        text = self.what
        if self.name is not None:
            text += f" {describe_value(self.name)}"
        parts = [f"{key!r}: {describe_value(value)}" for key, value in self.attributes.items()]
        if parts:
            text += " with {" + ", ".join(parts) + "}"
        for field, expected in self.fields.items():
            text += f" {field}={describe_value(expected)}"
        if self.parent is not None:
            text += f" parent={self._parent_wanted()}"
        return text


def merge_attributes(
    attributes: Mapping[str, Any] | None, attrs: Mapping[str, Any]
) -> dict[str, Any]:
    """Combine ``attributes={...}`` (dotted keys) with ``**attrs`` (plain keys)."""
    if attributes is not None and not isinstance(attributes, Mapping):
        msg = f"`attributes` must be a mapping of attribute name to value, got {attributes!r}."
        raise TypeError(msg)
    merged = dict(attributes or {})
    for key, value in attrs.items():
        if key in merged:
            msg = f"Attribute {key!r} is given twice (in `attributes` and as a keyword)."
            raise ValueError(msg)
        merged[key] = value
    return merged


def is_event(record: Record) -> bool:
    """Log-based events and span events: what event names match."""
    return isinstance(record, EventRecord) and record.kind in (
        RecordKind.EVENT,
        RecordKind.SPAN_EVENT,
    )


def is_log(record: Record) -> bool:
    """Log records, with or without an event name."""
    return isinstance(record, EventRecord) and record.kind in (RecordKind.LOG, RecordKind.EVENT)


def is_ended_span(record: Record) -> bool:
    """Spans that have ended."""
    return isinstance(record, SpanRecord) and record.ended


def is_metric(record: Record) -> bool:
    """Metric measurements and data points."""
    return isinstance(record, MetricPoint)


# The EventRecord kinds that is_event and is_log accept (EventRecord is final).
_EVENT_KINDS: Final[dict[Callable[[Any], bool], tuple[RecordKind, ...]]] = {
    is_event: (RecordKind.EVENT, RecordKind.SPAN_EVENT),
    is_log: (RecordKind.LOG, RecordKind.EVENT),
}

_KINDS: Final[dict[Callable[[Any], bool], frozenset[RecordKind]]] = {
    is_event: frozenset({RecordKind.EVENT, RecordKind.SPAN_END}),
    is_log: frozenset({RecordKind.LOG, RecordKind.EVENT}),
    is_ended_span: frozenset({RecordKind.SPAN_END}),
    is_metric: frozenset({RecordKind.METRIC}),
}


def kinds_for(matchers: Sequence[RecordMatcher]) -> frozenset[RecordKind] | None:
    """Return the entry kinds any of *matchers* can match (``None``: cannot tell, all)."""
    kinds: set[RecordKind] = set()
    for matcher in matchers:
        known = _KINDS.get(matcher.accepts)
        if known is None:
            return None
        kinds |= known
        if matcher.parent is not None:
            kinds.add(RecordKind.SPAN_START)  # a running parent is known by its start
    return frozenset(kinds)


def needs_span_records(matchers: Sequence[RecordMatcher]) -> bool:
    """Return whether any of *matchers* looks at span records (not only at span events)."""
    return any(m.accepts not in (is_event, is_log, is_metric) for m in matchers)


def exact_names(matchers: Sequence[RecordMatcher]) -> list[str] | None:
    """Return the names *matchers* look for when each is one exact name (no glob), else ``None``."""
    names = [m.name for m in matchers]
    if all(isinstance(n, str) and _GLOB_CHARS.isdisjoint(n) for n in names):
        return names
    return None


def step_matcher(step: Any, index: int) -> RecordMatcher:
    """Build the event matcher for one sequence step: a name or ``(name, attributes)``."""
    if isinstance(step, RecordMatcher):
        return step
    if isinstance(step, tuple) and len(step) == 2 and isinstance(step[1], Mapping):
        return RecordMatcher("event", is_event, step[0], step[1])
    if isinstance(step, str | re.Pattern):
        return RecordMatcher("event", is_event, step)
    msg = f"Step {index} must be an event name or a (name, attributes) pair, got {step!r}."
    raise TypeError(msg)


def step_matchers(steps: Sequence[Any]) -> list[RecordMatcher]:
    """Build the matchers for a list of steps, refusing an empty list (it would pass vacuously)."""
    if isinstance(steps, str) or not isinstance(steps, Sequence):
        msg = f"`steps` must be a list of event names or (name, attributes) pairs, got {steps!r}."
        raise TypeError(msg)
    if not steps:
        msg = "`steps` is empty: an expectation with nothing to match would pass vacuously."
        raise ValueError(msg)
    return [step_matcher(step, index) for index, step in enumerate(steps)]
