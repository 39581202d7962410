"""Durations as people write them: seconds, ``timedelta`` or ``"30s"``/``"5m"``/``"1h"`` strings.

Every window, retention, resolution and for-duration in the service goes through
:func:`to_seconds`, so the same spelling works everywhere and a negative or unreadable duration is
refused with one wording.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

__all__ = ["Duration", "to_seconds"]

Duration = float | int | timedelta | str

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$")


def to_seconds(value: Duration, what: str, *, allow_zero: bool = True) -> float:
    """Return *value* in seconds, or raise ``ValueError``/``TypeError`` naming *what* was wrong."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if match is None:
            if value.strip().startswith("-"):
                msg = f"`{what}` must not be negative, got {value!r}."
                raise ValueError(msg)
            msg = (
                f"`{what}` is not a duration: {value!r}; write seconds or a number with a unit "
                "(ms, s, m, h, d), e.g. '30s' or '5m'."
            )
            raise ValueError(msg)
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        msg = f"`{what}` must be a duration (seconds, timedelta or '30s'), got {value!r}."
        raise TypeError(msg)
    if math.isnan(seconds) or math.isinf(seconds):
        msg = f"`{what}` must be a finite duration, got {value!r}."
        raise ValueError(msg)
    if seconds < 0:
        msg = f"`{what}` must not be negative, got {value!r}."
        raise ValueError(msg)
    if seconds == 0 and not allow_zero:
        msg = f"`{what}` must be > 0, got {value!r}."
        raise ValueError(msg)
    return seconds
