"""The rules of routing and filtering: which items a route or a filter rule applies to.

A rule is a set of name patterns (globs, matched against a span's name or a log record's
``event_name``) plus an optional predicate on the attributes. :class:`Route` adds a target;
:class:`Drop`, :class:`Keep` and :class:`Sample` say what a filter does with a matching item, and
the ordered rule set (``_Rules``) applies the first one that matches and counts what it drops.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeAlias

from ..events._patterns import NameMatcher, check_patterns

__all__ = [
    "AttributePredicate",
    "Drop",
    "FilterRule",
    "Keep",
    "Route",
    "Rules",
    "Sample",
    "checked_route",
]

AttributePredicate: TypeAlias = Callable[[Mapping[str, Any]], bool]
"""``where(attributes) -> bool``; an exception counts as "does not match"."""

_RATIO_BITS: Final = 64
_EMPTY: Final[Mapping[str, Any]] = {}


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


class Rules:
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


def checked_route(route: object) -> Route:
    if not isinstance(route, Route):
        msg = f"`routes` must contain Route(...) objects, got {route!r}."
        raise TypeError(msg)
    return route
