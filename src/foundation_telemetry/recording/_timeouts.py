"""The one timeout setting every expectation defaults to, scaled for slow machines.

``DEFAULT_TIMEOUT`` seconds (changeable with :func:`set_default_timeout`, or per test with
``@pytest.mark.telemetry(timeout=...)``) times ``FOUNDATION_TELEMETRY_TIMEOUT_SCALE`` (a positive
number, default 1) is how long an expectation waits when the call passes no ``timeout``. Refutes
watch for a tenth of it by default.
"""

from __future__ import annotations

import math
import os
from typing import Final

from .. import _state

__all__ = [
    "DEFAULT_TIMEOUT",
    "SCALE_ENV",
    "check_timeout",
    "default_refute_window",
    "default_timeout",
    "set_default_timeout",
    "timeout_scale",
]

DEFAULT_TIMEOUT: Final = 2.0
"""Seconds an expectation waits by default, before scaling."""

SCALE_ENV: Final = "FOUNDATION_TELEMETRY_TIMEOUT_SCALE"

_REFUTE_FRACTION: Final = 0.1

_RECORDING: Final = _state.recording  # set_default_timeout() sets its default_timeout


def _base() -> float:
    base = _RECORDING.default_timeout
    return DEFAULT_TIMEOUT if base is None else base


def timeout_scale() -> float:
    """Return the factor from ``FOUNDATION_TELEMETRY_TIMEOUT_SCALE`` (1.0 when unset).

    Raises:
        ValueError: the variable is set to something that is not a positive number.
    """
    raw = os.environ.get(SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        scale = float(raw)
    except ValueError:
        scale = math.nan
    if not math.isfinite(scale) or scale <= 0:
        msg = f"{SCALE_ENV} must be a positive number such as 2 or 0.5, got {raw!r}."
        raise ValueError(msg)
    return scale


def set_default_timeout(seconds: float) -> float:
    """Set the unscaled default timeout; return the previous one."""
    check_timeout(seconds, "seconds")
    previous, _RECORDING.default_timeout = _base(), float(seconds)
    return previous


def default_timeout() -> float:
    """Return the default timeout in seconds, scaled."""
    return _base() * timeout_scale()


def default_refute_window() -> float:
    """Return how long a refute watches by default, in seconds, scaled."""
    return _base() * _REFUTE_FRACTION * timeout_scale()


def check_timeout(value: object, name: str = "timeout") -> float:
    """Return *value* as seconds, or raise a clear error for anything but a positive number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"`{name}` must be a number of seconds, got {value!r}."
        raise TypeError(msg)
    if not math.isfinite(value) or value <= 0:
        msg = f"`{name}` must be > 0 seconds, got {value!r}."
        raise ValueError(msg)
    return float(value)
