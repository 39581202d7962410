"""The contract between the query API and the object that holds the records.

:class:`TelemetrySource` is what :class:`~foundation_telemetry.testing.TelemetryQueries` needs
from the class it is mixed into (the ``Recorder``, the pytest fixture, the embedded ``Sink``):
a record store and a few defaults. Expectations, collectors and waits read their source only
through these hooks. The hook names start with ``_telemetry_`` so they never crowd the public
methods of the host.
"""

from __future__ import annotations

from typing import Protocol

from ._buffer import RecordBuffer
from ._timeouts import check_timeout, default_refute_window, default_timeout

__all__ = ["Pending", "TelemetrySource", "resolve_timeout"]


class Pending(Protocol):
    """Something a test must finish (wait for, await) before it ends."""

    def pending(self) -> str | None:
        """Return a line naming what was left unfinished and where, or ``None`` if finished."""


class TelemetrySource(Protocol):
    """The hooks a host implements to serve the query and expectation API.

    Only :meth:`_telemetry_buffer` is required; subclassing this protocol (``TelemetryQueries``
    does) provides the defaults of the others.
    """

    def _telemetry_buffer(self) -> RecordBuffer:
        """Return the store every query and expectation reads."""
        ...

    def _telemetry_scope(self) -> int | None:
        """Return the isolation token of this view; records with another scope are foreign.

        ``None`` (the default) means every record belongs to this view.
        """
        return None

    def _telemetry_origin(self) -> int:
        """Return the sequence number queries and "since the start" waits read from (default 0)."""
        return 0

    def _telemetry_timeout(self) -> float:
        """Return the timeout, in seconds, of a call that passes none (the scaled default)."""
        return default_timeout()

    def _telemetry_refute_window(self) -> float:
        """Return how long a refute watches when the call passes no ``within``."""
        return default_refute_window()

    def _telemetry_track(self, item: Pending) -> bool:
        """Take charge of reporting *item* if the test never finishes it.

        Return ``True`` when the host reports it (the pytest fixture fails the test at teardown);
        the default returns ``False``, and an unfinished wait then warns when it is collected.
        """
        return False


def resolve_timeout(source: TelemetrySource, timeout: float | None, name: str = "timeout") -> float:
    """Return *timeout* checked, or the source's default."""
    if timeout is None:
        return source._telemetry_timeout()
    return check_timeout(timeout, name)
