"""``TelemetryAssertionError`` and the failure report it carries.

A failed expectation explains itself the way ExUnit's ``assert_receive`` does, and then some:
what was received since the expectation began (name, key attributes, thread, time relative to
the start), the closest candidates with a per-field diff, what matched just after the timeout,
how many records from earlier tests were excluded (and which of those would have matched), and
whether the recorder's ring buffer overflowed.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Final, final

from ._matchers import Record, RecordMatcher, SpanIndex, kind_label
from ._received import common_attributes, did_you_mean, received_lines

__all__ = ["Report", "TelemetryAssertionError", "format_record", "record_time_ns"]

_MAX_CLOSEST: Final = 3
_MAX_KEY_ATTRIBUTES: Final = 4
_MAX_VALUE_CHARS: Final = 60


@final
class TelemetryAssertionError(AssertionError):
    """An expectation on telemetry failed; the message says what was recorded instead.

    Attributes:
        report: the structured report the message was rendered from (``None`` for simple
            failures such as a ``wait_for`` timeout).
    """

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


# Tracebacks name it where users import it from.
TelemetryAssertionError.__module__ = "foundation_telemetry.testing"


def record_time_ns(record: Record) -> int:
    """Return when a record happened: a span's end (or start while running), else its stamp."""
    end = getattr(record, "end_time_ns", None)
    if end is not None:
        return int(end)
    start = getattr(record, "start_time_ns", None)
    if start is not None:
        return int(start)
    return int(getattr(record, "timestamp_ns", 0))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _key_attributes(record: Record, preferred: Sequence[str], hidden: Collection[str]) -> str:
    attributes = record.attributes
    keys = [key for key in preferred if key in attributes]
    keys += [key for key in attributes if key not in keys and key not in hidden]
    shown = keys[:_MAX_KEY_ATTRIBUTES]
    text = ", ".join(f"{key!r}: {_short(attributes[key])}" for key in shown)
    more = len(keys) - len(shown)
    if more > 0:
        text += f", +{more} more"
    return "{" + text + "}"


def format_record(
    record: Record,
    begin_ns: int,
    preferred: Sequence[str] = (),
    hidden: Collection[str] = (),
) -> str:
    """One line for a record: relative time, thread, kind, name, key attributes.

    Keys in *hidden* (fields the same on every listed record) are left out unless preferred.
    """
    offset_ms = (record_time_ns(record) - begin_ns) / 1e6
    thread = record.thread or "?"
    line = f"{offset_ms:+.1f}ms [{thread}] {kind_label(record)} {record.name!r}"
    line += f" {_key_attributes(record, preferred, hidden)}"
    value = getattr(record, "value", None)
    if value is not None:
        line += f" value={value!r}"
    return line


_PATH_KEYS: Final = ("code.file.path", "code.filepath")
_LINE_KEYS: Final = ("code.line.number", "code.lineno")


def _emitted_at(record: Record) -> str:
    """Return `` (emitted at path:line)`` when the record carries its code location."""
    attributes = record.attributes
    path = next((attributes[key] for key in _PATH_KEYS if key in attributes), None)
    if path is None:
        return ""
    line = next((attributes[key] for key in _LINE_KEYS if key in attributes), None)
    try:
        relative = os.path.relpath(str(path))
    except ValueError:  # another drive on Windows
        relative = str(path)
    shown = path if relative.startswith("..") else relative
    return f" (emitted at {shown}{'' if line is None else f':{line}'})"


@dataclass
class Report:
    """Everything a failure message is rendered from."""

    headline: str
    begin_ns: int
    matchers: Sequence[RecordMatcher] = ()
    received: Sequence[Record] = ()
    received_total: int = 0
    spans: SpanIndex = field(default_factory=dict)
    late: Sequence[Record] = ()
    foreign_total: int = 0
    foreign_matches: Sequence[Record] = ()
    dropped: int = 0
    capacity: int = 0
    details: Sequence[str] = ()
    show_closest: bool = True
    before: Sequence[Record] = ()
    began: str = "the expectation began"

    def render(self) -> str:
        """Return the full message: the answer first (cause, closest, did-you-mean), then the rest."""
        preferred = [key for matcher in self.matchers for key in matcher.attributes]
        hidden = common_attributes(self.received, preferred)
        lines = [self.headline, *self.details, *self._before()]
        if self.show_closest:
            lines += self._closest()
            lines += did_you_mean(self.matchers, self.received)
        lines += received_lines(
            self.received,
            self.received_total or len(self.received),
            self.began,
            lambda record: format_record(record, self.begin_ns, preferred, hidden),
        )
        if hidden:
            shown = ", ".join(f"{key!r}: {_short(value)}" for key, value in hidden.items())
            lines.append(f"Same on every record, so not shown above: {{{shown}}}")
        if self.late:
            lines.append("Matched just after the timeout (raise `timeout` if this is expected):")
            lines += [f"- {format_record(r, self.begin_ns, preferred, hidden)}" for r in self.late]
        if self.foreign_total:
            lines.append(
                f"Excluded {self.foreign_total} record(s) that belong to an earlier test "
                "(spans started before this test, and records emitted inside them)"
                + (", of which these matched (late arrivals):" if self.foreign_matches else ".")
            )
            lines += [
                f"- {format_record(r, self.begin_ns, preferred, hidden)}"
                for r in self.foreign_matches
            ]
        if self.dropped:
            lines.append(
                f"The recorder's buffer overflowed: {self.dropped} record(s) captured since the "
                f"expectation began were dropped (capacity {self.capacity}); the match may have "
                "been among them. Create the Recorder with a larger `capacity`."
            )
        return "\n".join(lines)

    def _before(self) -> list[str]:
        if not self.before:
            return []
        record = self.before[-1]
        ago_ms = (self.begin_ns - record_time_ns(record)) / 1e6
        where = _emitted_at(record)
        more = len(self.before) - 1
        return [
            f"A matching {kind_label(record)} {record.name!r} arrived {ago_ms:.1f}ms BEFORE "
            f"{self.began}{where}"
            + (f" (and {more} more before it)" if more else "")
            + ": attach before the action (put the action inside the `with` block, or call "
            "attach_collector() before it and .wait() after)."
        ]

    def _closest(self) -> list[str]:
        scored = []
        for matcher in self.matchers:
            for record in self.received:
                if not matcher.accepts(record):
                    continue
                score = matcher.score(record, self.spans)
                if 0 < score < 1:
                    scored.append((score, matcher, record))
        if not scored:
            return []
        scored.sort(key=lambda item: -item[0])
        lines = ["Closest candidates:"]
        for _, matcher, record in scored[:_MAX_CLOSEST]:
            offset_ms = (record_time_ns(record) - self.begin_ns) / 1e6
            lines.append(f"- {kind_label(record)} {record.name!r} at {offset_ms:+.1f}ms:")
            lines += [f"    {line}" for line in matcher.diff(record, self.spans)]
        return lines
