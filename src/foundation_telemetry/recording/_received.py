"""What a failure message says about the records that did arrive: grouped, capped, de-noised.

The answer comes first in a failure (see ``_failures``); this is the evidence after it. Records
are grouped by kind and name (one line per name, with a count), at most ``MAX_GROUPS`` names
are listed and the rest counted, attributes that are the same on every record (``host.name``,
``process.pid``) are said once instead of on every line, and a misspelled name gets a "did you
mean". ``pytest -vv`` (or :func:`set_full_failures`) lists every record instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any, Final

from .. import _state
from ._matchers import _GLOB_CHARS, Record, RecordMatcher, kind_label

__all__ = [
    "MAX_GROUPS",
    "common_attributes",
    "did_you_mean",
    "full_failures",
    "received_lines",
    "set_full_failures",
]

MAX_GROUPS: Final = 10
"""Names listed under "Received" before the rest is counted (unless full failures are on)."""
_MAX_FULL: Final = 2_000
_RECORDING: Final = _state.recording


def set_full_failures(full: bool) -> None:
    """List every received record in failure messages (the pytest plugin does under ``-vv``)."""
    if not isinstance(full, bool):
        msg = f"`full` must be True or False, got {full!r}."
        raise TypeError(msg)
    _RECORDING.full_failures = full


def full_failures() -> bool:
    """Return whether failure messages list every received record."""
    return bool(_RECORDING.full_failures)


def common_attributes(records: Sequence[Record], keep: Sequence[str] = ()) -> dict[str, Any]:
    """Return the attributes that have one value on every record that has them (two or more).

    Keys in *keep* (what the expectation asks about) are never hidden.
    """
    values: dict[str, Any] = {}
    seen: dict[str, int] = {}
    varied: set[str] = set(keep)
    for record in records:
        for key, value in record.attributes.items():
            if key in varied:
                continue
            if key not in values:
                values[key], seen[key] = value, 1
            elif _same(values[key], value):
                seen[key] += 1
            else:
                varied.add(key)
    return {key: value for key, value in values.items() if key not in varied and seen[key] > 1}


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - a value with a broken __eq__ is simply not common
        return False


def received_lines(
    records: Sequence[Record], total: int, began: str, line: Callable[[Record], str]
) -> list[str]:
    """Return the "Received ..." section: one line per kind and name, capped."""
    if not total:
        return [f"Received nothing since {began}."]
    if full_failures():
        shown = list(records)[-_MAX_FULL:]
        lines = [f"Received {total} record(s) since {began}:"]
        if total > len(shown):
            lines.append(f"- ... {total - len(shown)} earlier record(s) not kept")
        return lines + [f"- {line(record)}" for record in shown]
    groups: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        groups.setdefault((kind_label(record), record.name), []).append(record)
    lines = [f"Received {total} record(s) since {began}, by name (the last of each):"]
    listed = list(groups.values())[:MAX_GROUPS]
    for group in listed:
        count = f" ({len(group)}x)" if len(group) > 1 else ""
        lines.append(f"- {line(group[-1])}{count}")
    rest = total - sum(len(group) for group in listed)
    if rest > 0:
        names = len(groups) - len(listed)
        under = f" under {names} other name(s)" if names else ""
        lines.append(f"- ... {rest} more record(s){under}; `pytest -vv` lists every record")
    return lines


def did_you_mean(matchers: Sequence[RecordMatcher], records: Sequence[Record]) -> list[str]:
    """Return a "Did you mean" line per plain name that never arrived but a close one did."""
    lines: list[str] = []
    for matcher in matchers:
        name = matcher.name
        if not isinstance(name, str) or not _GLOB_CHARS.isdisjoint(name):
            continue
        names = {record.name for record in records if matcher.accepts(record)}
        if name in names:
            continue
        close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
        if close:
            options = " or ".join(repr(option) for option in close)
            lines.append(f"Did you mean {options}? No {matcher.what} named {name!r} arrived.")
    return lines
