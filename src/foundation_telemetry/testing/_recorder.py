"""The testing ``Recorder``: the core capture Recorder plus the query and expectation API."""

from __future__ import annotations

from typing import final

from .. import recording
from ..recording import RecordBuffer
from ._queries import TelemetryQueries

__all__ = ["Recorder"]


@final
class Recorder(recording.Recorder, TelemetryQueries):
    """Captures spans, span events, logs, events and metric measurements, and waits on them.

    Attach it to SDK providers with :meth:`attach` (the pytest ``telemetry`` fixture and
    ``configure(exporter="memory")`` do it for you), then use the queries (``spans()``,
    ``events()``, ...) and the expectations (``assert_telemetry_event()``, ...).

    Args:
        capacity: entries kept before the oldest are dropped (drops show in failure messages).
    """

    def _telemetry_buffer(self) -> RecordBuffer:
        return self.buffer

    def clear(self) -> None:
        """Forget everything captured so far."""
        self.buffer.clear()

    def __repr__(self) -> str:
        buffer = self.buffer
        return f"<Recorder {buffer.next_seq} captured, capacity {buffer.capacity}>"


recording.use_recorder_class(Recorder)
