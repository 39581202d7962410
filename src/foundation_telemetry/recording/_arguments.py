"""Call-time checks of the query API's arguments that no other module owns.

A test helper given a value that can never match (``status="FAILED"``, a threshold of ``"3"``)
would otherwise wait out its whole timeout and then fail with a message about the telemetry.
These checks raise at the call instead, naming what is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from opentelemetry.trace import StatusCode

from ._matchers import ROOT, _Combinator, _has_custom_eq
from ._records import SpanRecord

__all__ = ["check_action", "check_flag", "check_parent", "check_status", "check_threshold"]

SPAN_STATUSES: Final = tuple(code.name for code in StatusCode)
"""The span status names ``expect_span(status=...)`` accepts (any case)."""

_PLAIN_VALUES: Final = (str, bytes, bool, int, float, type(None), list, tuple, dict, set, frozenset)


def _is_matcher(value: Any) -> bool:
    """Return whether *value* is a combinator, pattern, predicate or dirty-equals object."""
    if isinstance(value, _PLAIN_VALUES):
        return False
    return isinstance(value, _Combinator | re.Pattern) or callable(value) or _has_custom_eq(value)


def check_status(status: Any) -> Any:
    """Return the status to match: an upper-case status name, or the matcher as given."""
    if status is None:
        return None
    if isinstance(status, StatusCode):
        return status.name
    if isinstance(status, str):
        if status.upper() in SPAN_STATUSES:
            return status.upper()
        msg = (
            f"`status` must be one of {', '.join(map(repr, SPAN_STATUSES))} (any case) or a "
            f"matcher, got {status!r}."
        )
        raise ValueError(msg)
    if _is_matcher(status):
        return status
    msg = (
        f"`status` must be one of {', '.join(map(repr, SPAN_STATUSES))}, a StatusCode or a "
        f"matcher, got {status!r}."
    )
    raise TypeError(msg)


def check_parent(parent: Any) -> Any:
    """Return *parent* if it can name a parent span (name, glob, matcher, SpanRecord, ROOT)."""
    if parent is None or parent is ROOT or isinstance(parent, str | SpanRecord):
        return parent
    if _is_matcher(parent):
        return parent
    msg = (
        "`parent` must be the parent span's name (a str or glob), a matcher, a SpanRecord or "
        f"ROOT, got {parent!r}."
    )
    raise TypeError(msg)


def check_threshold(threshold: Any) -> Any:
    """Return *threshold* if it is a number or a matcher on the aggregate."""
    if isinstance(threshold, int | float) and not isinstance(threshold, bool):
        return threshold
    if _is_matcher(threshold):
        return threshold
    hint = ""
    if isinstance(threshold, str):
        try:
            hint = f" (did you mean {float(threshold):g}, a number?)"
        except ValueError:
            hint = ""
    msg = (
        "`threshold` must be a number (the aggregate must reach it) or a matcher on the "
        f"aggregate (a callable such as `lambda v: v <= 0`, any_of(...), dirty-equals), got "
        f"{threshold!r}{hint}."
    )
    raise TypeError(msg)


def check_flag(value: Any, name: str) -> bool:
    """Return *value* if it is a bool (``strict=``, ``ordered=``)."""
    if not isinstance(value, bool):
        msg = f"`{name}` must be True or False, got {value!r}."
        raise TypeError(msg)
    return value


def check_action(action: Any) -> Callable[[], object]:
    """Return *action* if it is callable (``collect_event(name, action)``)."""
    if not callable(action):
        msg = f"`action` must be a callable taking no arguments (it is called), got {action!r}."
        raise TypeError(msg)
    return action  # type: ignore[no-any-return]
