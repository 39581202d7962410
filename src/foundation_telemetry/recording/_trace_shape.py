"""Span-tree expectations: ``expect_trace(shape)`` and the side-by-side tree drawing.

A shape is a span name (its children are not checked), a ``(name, [children])`` or
``(name, {attributes}, [children])`` tuple, or a dict with ``name``, ``attributes`` and
``children``. Listed children must all be there, in any order unless ``ordered=True``, and no
others unless the list contains ``...``. Names may be globs or matchers. A failure draws the
expected tree next to every received one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, final

from ._expectations import Expectation
from ._failures import Report
from ._matchers import Record, describe_value, is_ended_span, name_matches, value_matches
from ._records import RecordKind, SpanRecord
from ._source import TelemetrySource

__all__ = ["ShapeNode", "TraceExpectation", "parse_shape"]

_COLUMN_GAP: Final = 4


@dataclass(frozen=True)
class ShapeNode:
    """One expected span: name, attribute subset, children (``None``: not checked)."""

    name: Any
    attributes: Mapping[str, Any]
    children: Sequence[ShapeNode] | None
    allow_extra: bool

    def label(self) -> str:
        """Return how the node reads in a drawing."""
        text = describe_value(self.name)
        if self.attributes:
            text += (
                " {"
                + ", ".join(f"{k!r}: {describe_value(v)}" for k, v in self.attributes.items())
                + "}"
            )
        return text


def parse_shape(shape: Any, path: str = "shape") -> ShapeNode:
    """Turn the user's shape into :class:`ShapeNode` objects, with clear errors."""
    if isinstance(shape, ShapeNode):
        return shape
    if isinstance(shape, str):
        return ShapeNode(shape, {}, None, True)
    if isinstance(shape, Mapping):
        unknown = set(shape) - {"name", "attributes", "children"}
        if "name" not in shape or unknown:
            msg = f"{path}: a dict shape needs 'name' and may have 'attributes' and 'children', got {dict(shape)!r}."
            raise ValueError(msg)
        return _node(shape["name"], shape.get("attributes") or {}, shape.get("children"), path)
    if isinstance(shape, tuple) and len(shape) == 2:
        return _node(shape[0], {}, shape[1], path)
    if isinstance(shape, tuple) and len(shape) == 3 and isinstance(shape[1], Mapping):
        return _node(shape[0], shape[1], shape[2], path)
    msg = (
        f"{path}: expected a span name, (name, [children]), (name, {{attributes}}, [children]) "
        f"or a dict, got {shape!r}."
    )
    raise TypeError(msg)


def _node(name: Any, attributes: Mapping[str, Any], children: Any, path: str) -> ShapeNode:
    if children is None:
        return ShapeNode(name, dict(attributes), None, True)
    if isinstance(children, str) or not isinstance(children, Sequence):
        msg = f"{path}: children of {name!r} must be a list, got {children!r}."
        raise TypeError(msg)
    allow_extra = any(child is ... for child in children)
    parsed = [
        parse_shape(child, f"{path} > {name}[{index}]")
        for index, child in enumerate(children)
        if child is not ...
    ]
    return ShapeNode(name, dict(attributes), parsed, allow_extra)


def _node_matches(node: ShapeNode, span: SpanRecord) -> bool:
    if not name_matches(node.name, span.name):
        return False
    return all(
        key in span.attributes and value_matches(expected, span.attributes[key])
        for key, expected in node.attributes.items()
    )


class _Tree:
    def __init__(self, spans: Sequence[SpanRecord]) -> None:
        self.spans = list(spans)
        ids = {span.span_id for span in spans}
        self.children: dict[int, list[SpanRecord]] = defaultdict(list)
        self.roots: list[SpanRecord] = []
        for span in sorted(spans, key=lambda s: (s.start_time_ns, s.span_id)):
            if span.parent_span_id is not None and span.parent_span_id in ids:
                self.children[span.parent_span_id].append(span)
            else:
                self.roots.append(span)

    def match(self, node: ShapeNode, span: SpanRecord, ordered: bool) -> bool:
        if not _node_matches(node, span):
            return False
        if node.children is None:
            return True
        actual = self.children.get(span.span_id, [])
        if not node.allow_extra and len(actual) != len(node.children):
            return False
        if ordered:
            return self._ordered(list(node.children), actual, node.allow_extra)
        return self._assign(list(node.children), actual, set(), ordered)

    def _ordered(self, expected: list[ShapeNode], actual: list[SpanRecord], extra: bool) -> bool:
        position = 0
        for child in expected:
            while position < len(actual) and not self.match(child, actual[position], True):
                if not extra:
                    return False
                position += 1
            if position == len(actual):
                return False
            position += 1
        return True

    def _assign(
        self, expected: list[ShapeNode], actual: list[SpanRecord], used: set[int], ordered: bool
    ) -> bool:
        if not expected:
            return True
        first, rest = expected[0], expected[1:]
        for index, span in enumerate(actual):
            if index in used or not self.match(first, span, ordered):
                continue
            if self._assign(rest, actual, used | {index}, ordered):
                return True
        return False

    def draw(self, span: SpanRecord, depth: int = 0) -> list[str]:
        lines = ["  " * depth + f"{span.name}"]
        for child in self.children.get(span.span_id, []):
            lines += self.draw(child, depth + 1)
        return lines


def draw_shape(node: ShapeNode, depth: int = 0) -> list[str]:
    """Draw an expected tree, one indented line per node."""
    lines = ["  " * depth + node.label()]
    for child in node.children or ():
        lines += draw_shape(child, depth + 1)
    if node.children is not None and node.allow_extra:
        lines.append("  " * (depth + 1) + "...")
    return lines


def side_by_side(left: Sequence[str], right: Sequence[str]) -> list[str]:
    """Put two columns of lines next to each other."""
    width = max((len(line) for line in left), default=0) + _COLUMN_GAP
    rows = max(len(left), len(right))
    padded_left = list(left) + [""] * (rows - len(left))
    padded_right = list(right) + [""] * (rows - len(right))
    return [f"{a:<{width}}{b}".rstrip() for a, b in zip(padded_left, padded_right, strict=True)]


@final
class TraceExpectation(Expectation):
    """``expect_trace``: a span tree among the ended spans; ``.record`` is its root span."""

    def __init__(
        self, source: TelemetrySource, shape: Any, ordered: bool, timeout: float | None
    ) -> None:
        super().__init__(source, timeout)
        self.shape = parse_shape(shape)
        self.ordered = ordered
        self.records: list[SpanRecord] = []
        self._spans: list[SpanRecord] = []
        self._dirty = False

    @property
    def record(self) -> SpanRecord:
        """The root span of the matched tree (after the block exited successfully)."""
        if not self.records:
            msg = "No record yet: `.record` is filled when the `with` block exits successfully."
            raise LookupError(msg)
        return self.records[0]

    def kinds(self) -> frozenset[RecordKind] | None:
        """Return the one entry kind a tree is built from: span ends."""
        return frozenset({RecordKind.SPAN_END})

    def feed(self, record: Record, foreign: bool, late: bool) -> None:
        """Keep this test's ended spans."""
        if not foreign and not late and is_ended_span(record):
            self._spans.append(record)  # type: ignore[arg-type]
            self._dirty = True

    def done(self) -> bool:
        """Look for the shape among the spans seen so far."""
        if self.records:
            return True
        if not self._dirty:
            return False
        self._dirty = False
        tree = _Tree(self._spans)
        for span in tree.spans:
            if tree.match(self.shape, span, self.ordered):
                self.records = [span]
                return True
        return False

    def failure(self) -> Report | None:
        """Draw the expected tree next to the received ones."""
        if self.done():
            return None
        tree = _Tree(self._spans)
        received: list[str] = []
        for root in tree.roots:
            received += tree.draw(root)
        if not received:
            received = ["(no ended spans)"]
        order = "ordered " if self.ordered else ""
        headline = f"No {order}span tree matched the expected shape within {self.timeout:g}s."
        details = side_by_side(["Expected:", *draw_shape(self.shape)], ["Received:", *received])
        return self.watch.report(headline, details=details, show_closest=False)
