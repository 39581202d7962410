"""The :class:`Recorder`: capture processors and the metric tap, plus the query and expectation API.

It also keeps the recorders that follow every ``configure()`` (the pytest fixture's session
recorder): ``configure()`` calls :func:`notify_configured` with each new ``Telemetry``.
"""

from __future__ import annotations

import threading
from typing import Any, Final, final
from weakref import WeakSet

from opentelemetry.sdk.trace import TracerProvider

from .. import _state
from .._otel import _compat
from ..defensive._ledger import SkipReason, count_skip
from ._buffer import DEFAULT_CAPACITY, RecordBuffer
from ._metric_tap import metric_tap
from ._processors import COMPONENT as _COMPONENT
from ._processors import RecordingLogProcessor, RecordingSpanProcessor
from ._queries import TelemetryQueries

__all__ = ["Recorder", "follow_configure", "notify_configured"]

_TAP = metric_tap()


@final
class Recorder(TelemetryQueries):
    """Captures spans, span events, logs, events and metric measurements into one buffer.

    Attach it to SDK providers with :meth:`attach` (the pytest ``telemetry`` fixture and
    ``configure(exporter="memory")`` do it for you), then use the queries (``spans()``,
    ``events()``, ...) and the expectations (``assert_telemetry_event()``, ...).

    Args:
        capacity: entries kept before the oldest are dropped (drops are counted and reported).
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.buffer = RecordBuffer(capacity)
        self.span_processor = RecordingSpanProcessor(self.buffer)
        self.log_processor = RecordingLogProcessor(self.buffer, self.span_processor)
        self._providers: WeakSet[Any] = WeakSet()
        self._lock = threading.Lock()

    def attach(
        self,
        telemetry: Any = None,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        logger_provider: Any = None,
    ) -> None:
        """Capture from these SDK providers (each at most once; ``None`` is skipped).

        *telemetry* is anything with ``tracer_provider`` / ``meter_provider`` /
        ``logger_provider`` attributes (a ``Telemetry``); explicit keywords win. Spans and logs
        are captured from any SDK ``TracerProvider``/``LoggerProvider`` (this adds the capture
        processors). Measurements are captured from every ``MeterProvider`` built with
        :func:`metric_capture_options`; passing any *meter_provider* subscribes this recorder.
        """
        if telemetry is not None:
            tracer_provider = tracer_provider or getattr(telemetry, "tracer_provider", None)
            meter_provider = meter_provider or getattr(telemetry, "meter_provider", None)
            logger_provider = logger_provider or getattr(telemetry, "logger_provider", None)
        if tracer_provider is not None and not isinstance(tracer_provider, TracerProvider):
            msg = f"`tracer_provider` must be an SDK TracerProvider, got {tracer_provider!r}."
            raise TypeError(msg)
        if logger_provider is not None and not isinstance(logger_provider, _compat.LoggerProvider):
            msg = f"`logger_provider` must be an SDK LoggerProvider, got {logger_provider!r}."
            raise TypeError(msg)
        with self._lock:
            if tracer_provider is not None and self._adopt(tracer_provider):
                tracer_provider.add_span_processor(self.span_processor)
            if logger_provider is not None and self._adopt(logger_provider):
                logger_provider.add_log_record_processor(self.log_processor)
            if meter_provider is not None:
                _TAP.subscribe(self.buffer, self.span_processor)

    def _adopt(self, provider: Any) -> bool:
        if provider in self._providers:
            return False
        self._providers.add(provider)
        return True

    def attached_to(self, provider: Any) -> bool:
        """Whether :meth:`attach` already hooked into *provider*."""
        return provider in self._providers

    def detach_metrics(self) -> None:
        """Stop receiving metric measurements."""
        _TAP.unsubscribe(self.buffer)

    def _telemetry_buffer(self) -> RecordBuffer:
        return self.buffer

    def clear(self) -> None:
        """Forget everything captured so far."""
        self.buffer.clear()

    def __repr__(self) -> str:
        buffer = self.buffer
        return f"<Recorder {buffer.next_seq} captured, capacity {buffer.capacity}>"


_RECORDING: Final = _state.recording  # the followers are _state.recording.session_recorders


def follow_configure(recorder: Recorder) -> None:
    """Have *recorder* attach to the providers of every later ``configure()`` (the fixture's)."""
    _RECORDING.session_recorders.add(recorder)


def notify_configured(telemetry: Any) -> None:
    """Attach the recorders registered with :func:`follow_configure` to new providers.

    ``configure()`` calls this with the ``Telemetry`` it built; it never raises.
    """
    for recorder in list(_RECORDING.session_recorders):
        try:
            recorder.attach(telemetry)
        except Exception as error:  # noqa: BLE001 - configure() must not fail for a recorder
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item="attach", error=error)
