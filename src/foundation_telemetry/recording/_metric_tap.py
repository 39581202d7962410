"""Metric capture: every measurement a capturing MeterProvider records reaches the recorders.

:func:`metric_capture_options` adds a second catch-all View whose aggregation the SDK hands each
instrument it applies to (``_otel._internals.measurement_hook_view``); it then receives every
measurement of that instrument in the recording thread and exports nothing. The process-wide
:class:`MetricTap` hands each measurement, once, to every subscribed record buffer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace
from opentelemetry.sdk.metrics.view import View

from .._otel._internals import Measurement, MeasurementSink, SDKInstrument, measurement_hook_view
from ..defensive._ledger import SkipReason, count_skip
from ._buffer import RecordBuffer
from ._processors import COMPONENT as _COMPONENT
from ._processors import RecordingSpanProcessor, current_thread_name
from ._records import RecordKind

if TYPE_CHECKING:
    from ._recorder import Recorder

__all__ = ["MetricTap", "metric_capture_options", "metric_tap"]


class _InstrumentInfo:
    __slots__ = ("kind", "name", "unit")

    def __init__(self, name: str, kind: str, unit: str) -> None:
        self.name = name
        self.kind = kind
        self.unit = unit


_UNKNOWN_INSTRUMENT: Final = _InstrumentInfo("<unknown instrument>", "unknown", "")


def _instrument_kind(instrument: object) -> str:
    """``Counter`` -> ``counter``, ``ObservableUpDownCounter`` -> ``observable_up_down_counter``."""
    name = type(instrument).__name__.lstrip("_")
    for prefix in ("Proxy",):
        name = name.removeprefix(prefix)
    out: list[str] = []
    for char in name:
        if char.isupper() and out:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


class MetricTap:
    """Receives every measurement offered to the capture reservoirs and hands it to recorders.

    One process-wide tap (:func:`metric_tap`) feeds every subscribed :class:`Recorder`, whatever
    MeterProvider the measurement was recorded on, as long as that provider was built with
    :func:`metric_capture_options`.
    """

    def __init__(self) -> None:
        self._subscribers: tuple[tuple[RecordBuffer, RecordingSpanProcessor], ...] = ()
        self._lock = threading.Lock()
        self._last = threading.local()

    @property
    def active(self) -> bool:
        """Whether any recorder listens."""
        return bool(self._subscribers)

    def subscribe(self, buffer: RecordBuffer, spans: RecordingSpanProcessor) -> None:
        """Start feeding *buffer* (idempotent)."""
        with self._lock:
            if all(b is not buffer for b, _ in self._subscribers):
                self._subscribers = (*self._subscribers, (buffer, spans))

    def unsubscribe(self, buffer: RecordBuffer) -> None:
        """Stop feeding *buffer*."""
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s[0] is not buffer)

    def offer(self, info: _InstrumentInfo, measurement: Measurement) -> None:
        """Record one measurement, once, however many readers hand it over."""
        subscribers = self._subscribers
        if not subscribers:
            return
        last = self._last
        # Every reader's storage hands over the same Measurement object.
        if getattr(last, "measurement", None) is measurement:
            return
        last.measurement = measurement
        attributes = measurement.attributes
        span_id = trace.get_current_span(measurement.context).get_span_context().span_id
        item = (
            info,
            measurement.value,
            measurement.time_unix_nano,
            dict(attributes) if attributes else {},
        )
        thread = current_thread_name()
        for buffer, spans in subscribers:
            buffer._store((RecordKind.METRIC, item, spans.scope_of(span_id), thread))  # noqa: SLF001 - the buffer's append, shared inside recording


_TAP: Final = MetricTap()


def metric_tap() -> MetricTap:
    """Return the process-wide tap the capture reservoirs report to."""
    return _TAP


def _sink_for(tap: MetricTap) -> Callable[[SDKInstrument], MeasurementSink]:
    """Build, for each instrument the SDK applies the capture View to, its measurement sink."""

    def sink_for(instrument: SDKInstrument) -> MeasurementSink:
        try:
            info = _InstrumentInfo(
                str(instrument.name), _instrument_kind(instrument), str(instrument.unit or "")
            )
        except Exception as error:  # noqa: BLE001 - never raise into the application
            count_skip(_COMPONENT, SkipReason.CONTRACT_VIOLATION, item="instrument", error=error)
            info = _UNKNOWN_INSTRUMENT

        def sink(measurement: Measurement) -> None:
            try:
                tap.offer(info, measurement)
            except Exception as error:  # noqa: BLE001 - never raise into the application
                count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=info.name, error=error)

        return sink

    return sink_for


def metric_capture_options(recorder: Recorder | None = None) -> dict[str, Any]:
    """``MeterProvider`` keyword arguments that report every measurement to recorders.

    Pass them to any SDK ``MeterProvider`` (``configure()`` does): ``MeterProvider(
    metric_readers=[...], **metric_capture_options())``. They are two Views: a catch-all one that
    exports every instrument as the SDK would without Views (the reader's preferred aggregation
    and the exemplar filter stay as configured), and the capture View, which exports nothing and
    hands each measurement to every recorder subscribed to the process-wide tap; *recorder*,
    when given, is subscribed now. The provider needs at least one metric reader: without one
    the SDK records nothing. Views of your own that match an instrument create a second stream
    next to the catch-all one.
    """
    if recorder is not None:
        _TAP.subscribe(recorder.buffer, recorder.span_processor)
    return {"views": [View(instrument_name="*"), measurement_hook_view(_sink_for(_TAP))]}
