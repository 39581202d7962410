"""Glob matching of event and span names, shared by handlers and routing rules.

A pattern is an exact name (``"foundation.retry.backoff"``) or a glob (``"foundation.retry.*"``;
``*`` also matches dots, ``?`` one character, ``[...]`` a set). Exact names are checked with one
set lookup and all globs of a matcher with one compiled regex, so matching costs the same however
many patterns a matcher holds.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

__all__ = ["NameMatcher", "check_patterns"]


class NameMatcher:
    """Match names against a fixed set of exact names and globs."""

    __slots__ = ("_any", "_exact", "_regex", "patterns")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns
        globs = [pattern for pattern in patterns if any(char in pattern for char in "*?[")]
        self._any = "*" in patterns
        self._exact = frozenset(pattern for pattern in patterns if pattern not in globs)
        self._regex = (
            re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in globs))
            if globs
            else None
        )

    def __repr__(self) -> str:
        return f"NameMatcher({list(self.patterns)!r})"

    def matches(self, name: str) -> bool:
        """Whether *name* matches one of the patterns."""
        if self._any or name in self._exact:
            return True
        return self._regex is not None and self._regex.match(name) is not None


def check_patterns(patterns: str | Iterable[str], argument: str) -> tuple[str, ...]:
    """Validate a person's pattern argument (one str or several); return them as a tuple.

    Raises:
        TypeError: a pattern is not a non-empty str.
        ValueError: no pattern was given.
    """
    result = (patterns,) if isinstance(patterns, str) else tuple(patterns)
    if not result:
        msg = f"`{argument}` is empty; give at least one name or glob such as 'foundation.*'."
        raise ValueError(msg)
    for pattern in result:
        if not isinstance(pattern, str) or not pattern:
            msg = f"Every pattern in `{argument}` must be a non-empty str such as 'foundation.retry.*', got {pattern!r}."
            raise TypeError(msg)
    return result
