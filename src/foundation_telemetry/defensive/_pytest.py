"""pytest plugin (``pytest11`` entry point): run the shutdown coordinator when the session ends.

At session finish the capture streams are still open; flushing and shutting down here, within the
shutdown budget, means nothing is written to a closed stream later at interpreter exit ("I/O
operation on closed file"). Only the outermost session acts, so a ``pytester`` run inside a test
does not shut down the outer process's telemetry. It sets nothing global until a defensive
component exists.
"""

from __future__ import annotations

from typing import Any, Final

import pytest

from .. import _state
from . import _shutdown

__all__ = ["pytest_sessionfinish", "pytest_sessionstart"]

_SHUTDOWN: Final = _state.shutdown  # its ``pytest_sessions`` field counts the running sessions


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: Any) -> None:
    """Note one more active session (pytester runs nest sessions in one process)."""
    _SHUTDOWN.pytest_sessions += 1


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    """Flush and shut down every wrapped component when the outermost session finishes."""
    _SHUTDOWN.pytest_sessions = max(_SHUTDOWN.pytest_sessions - 1, 0)
    if _SHUTDOWN.pytest_sessions == 0 and _shutdown.has_components():
        _shutdown.shutdown_registered()
