"""Redaction of sensitive attribute values, shared by the span and log record processors.

A :class:`Redactor` decides per attribute key (cached, so a key is classified once) whether the
whole value is sensitive (``authorization``, ``db.password``, ``access_token``...) and replaces
it, and scrubs sensitive fragments out of string values that are kept (a bearer token inside a
header dump, credentials inside a URL). It returns ``None`` when nothing needed redacting, so the
common case allocates nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["DEFAULT_SENSITIVE_KEYS", "DEFAULT_VALUE_PATTERNS", "REDACTED", "Redactor"]

REDACTED: Final = "[REDACTED]"

DEFAULT_SENSITIVE_KEYS: Final[tuple[str, ...]] = (
    "authorization",
    "proxy-authorization",
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "api-key",
    "apikey",
    "private_key",
    "cookie",
    "set-cookie",
    "credentials",
)
"""Key words whose attributes are replaced whole; matched case-insensitively as a key segment."""

DEFAULT_VALUE_PATTERNS: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
)
"""Fragments scrubbed from kept string values: bearer tokens and ``user:password@`` in URLs."""

_CACHE_LIMIT: Final = 4096


class Redactor:
    """Replace sensitive attribute values before export.

    Args:
        keys: Key words; an attribute whose key contains one as a whole segment (segments are
            separated by ``.``, ``_`` or ``-``; ``db.password`` and ``user_password`` match
            ``password``, ``tokens_used`` does not match ``token``) is replaced whole.
        key_patterns: Extra regexes searched in the (original-case) key.
        value_patterns: Regexes whose matches inside string values are replaced.
        replacement: What replaces a sensitive value or fragment.

    Raises:
        TypeError: an argument has the wrong type.
        re.error: a pattern does not compile.
    """

    def __init__(
        self,
        keys: Iterable[str] = DEFAULT_SENSITIVE_KEYS,
        *,
        key_patterns: Iterable[str | re.Pattern[str]] = (),
        value_patterns: Iterable[str | re.Pattern[str]] = DEFAULT_VALUE_PATTERNS,
        replacement: str = REDACTED,
    ) -> None:
        if isinstance(keys, str):
            msg = f"`keys` must be a list of key words, got the single str {keys!r}."
            raise TypeError(msg)
        words = [_checked_str(key, "keys") for key in keys]
        patterns = [re.compile(p) if isinstance(p, str) else p for p in key_patterns]
        if words:
            alternatives = "|".join(re.escape(word) for word in words)
            patterns.append(re.compile(rf"(?i)(?:^|[._\-])(?:{alternatives})(?:$|[._\-])"))
        self._key_patterns = tuple(patterns)
        self._value_patterns = tuple(
            re.compile(p) if isinstance(p, str) else p for p in value_patterns
        )
        self.replacement = _checked_str(replacement, "replacement")
        self._sensitive: dict[str, bool] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Redactor(key_patterns={[p.pattern for p in self._key_patterns]!r})"

    def is_sensitive(self, key: str) -> bool:
        """Whether attributes named *key* are replaced whole."""
        found = self._sensitive.get(key)
        if found is None:
            found = any(pattern.search(key) for pattern in self._key_patterns)
            with self._lock:
                if len(self._sensitive) < _CACHE_LIMIT:
                    self._sensitive[key] = found
        return found

    def redact(self, attributes: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """Return a redacted copy of *attributes*, or ``None`` when nothing was sensitive."""
        if not attributes:
            return None
        changed: dict[str, Any] | None = None
        for key, value in attributes.items():
            if self.is_sensitive(key):
                new_value: Any = self.replacement
            else:
                new_value = self.scrub(value)
                if new_value is value:
                    continue
            if changed is None:
                changed = dict(attributes)
            changed[key] = new_value
        return changed

    def scrub(self, value: Any) -> Any:
        """Return *value* with sensitive fragments replaced (the same object when none were)."""
        if isinstance(value, str):
            scrubbed = value
            for pattern in self._value_patterns:
                scrubbed = pattern.sub(self.replacement, scrubbed)
            return value if scrubbed == value else scrubbed
        if isinstance(value, tuple | list) and any(isinstance(item, str) for item in value):
            items = [self.scrub(item) for item in value]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                return tuple(items)
        elif isinstance(value, Mapping):
            nested = self.redact(value)
            if nested is not None:
                return nested
        return value


def _checked_str(value: object, argument: str) -> str:
    if not isinstance(value, str):
        msg = f"`{argument}` must contain str values, got {value!r}."
        raise TypeError(msg)
    return value
