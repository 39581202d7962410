"""Metric capture: every measurement a capturing MeterProvider records reaches the recorders.

The SDK tells an aggregation which instrument it aggregates when it builds it
(``Aggregation._create_aggregation(instrument, ...)``); both capture routes start there, so no
frame is inspected and every measurement is captured in the thread that recorded it.

* The pipelines ``configure()`` builds (:func:`capture_through_readers`): every reader's own
  aggregations are wrapped so each instrument's exemplar reservoirs know their instrument and
  report each measurement they are offered; while a recorder listens the exemplar filter offers
  every measurement (the configured filter still decides which become exemplars). Nobody
  recording costs what the SDK's own exemplar filter costs.
* Any other ``MeterProvider`` (:func:`metric_capture_options`): a second catch-all View whose
  aggregation receives every measurement of each instrument and exports nothing. It costs one
  more metric stream per instrument and reader, recording or not, so it is meant for providers
  built for tests.

The process-wide :class:`MetricTap` hands each measurement, once, to every subscribed buffer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import (
    AlwaysOffExemplarFilter,
    AlwaysOnExemplarFilter,
    ExemplarFilter,
    ExemplarReservoir,
    TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.metrics.view import View

from .._otel._internals import (
    Measurement,
    MeasurementSink,
    ReservoirFactory,
    SDKInstrument,
    bind_reader_reservoirs,
    measurement_hook_view,
)
from ..defensive._ledger import SkipReason, count_skip
from ._buffer import RecordBuffer
from ._processors import COMPONENT as _COMPONENT
from ._processors import RecordingSpanProcessor, current_thread_name
from ._records import RecordKind

if TYPE_CHECKING:
    from ._recorder import Recorder

__all__ = [
    "MetricTap",
    "capture_through_readers",
    "metric_capture_options",
    "metric_tap",
]


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


def _info_of(instrument: SDKInstrument) -> _InstrumentInfo:
    try:
        return _InstrumentInfo(
            str(instrument.name), _instrument_kind(instrument), str(instrument.unit or "")
        )
    except Exception as error:  # noqa: BLE001 - never raise into the application
        count_skip(_COMPONENT, SkipReason.CONTRACT_VIOLATION, item="instrument", error=error)
        return _UNKNOWN_INSTRUMENT


class MetricTap:
    """Receives every captured measurement and hands it to the subscribed recorders.

    One process-wide tap (:func:`metric_tap`) feeds every subscribed :class:`Recorder`, whatever
    MeterProvider the measurement was recorded on, as long as that provider captures
    (``configure()``'s, or one built with :func:`metric_capture_options`).
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

    def offer(
        self,
        info: _InstrumentInfo,
        value: float,
        time_unix_nano: int,
        attributes: Any,
        context: Context | None,
        seen_as: object,
    ) -> None:
        """Record one measurement, once, however many readers or views hand it over.

        *seen_as* is the same for every hand-over of one measurement (the SDK's ``Measurement``
        object, or the instrument's name and the measurement's timestamp).
        """
        subscribers = self._subscribers
        if not subscribers:
            return
        last = self._last
        seen = getattr(last, "seen", None)
        if seen is seen_as or (seen.__class__ is tuple and seen == seen_as):
            return
        last.seen = seen_as
        span_id = trace.get_current_span(context).get_span_context().span_id
        item = (info, value, time_unix_nano, dict(attributes) if attributes else {})
        thread = current_thread_name()
        for buffer, spans in subscribers:
            buffer._store([RecordKind.METRIC, item, spans.scope_of(span_id), thread])  # noqa: SLF001 - the buffer's append, shared inside recording


_TAP: Final = MetricTap()


def metric_tap() -> MetricTap:
    """Return the process-wide tap the capture routes report to."""
    return _TAP


# --- route 1: the readers configure() builds -----------------------------------------------------


class _CaptureReservoir(ExemplarReservoir):
    """Reports each offered measurement to the tap, then keeps the configured exemplar behaviour."""

    def __init__(
        self, inner: ExemplarReservoir, info: _InstrumentInfo, exemplars: ExemplarFilter
    ) -> None:
        self._inner = inner
        self._info = info
        self._exemplars = exemplars

    def offer(self, value: float, time_unix_nano: int, attributes: Any, context: Context) -> None:
        """Report the measurement; forward it to the reservoir when it makes an exemplar."""
        info = self._info
        try:
            _TAP.offer(
                info, value, time_unix_nano, attributes, context, (info.name, time_unix_nano)
            )
        except Exception as error:  # noqa: BLE001 - never raise into the application
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=info.name, error=error)
        # The capture filter lets everything through while recording; whether a measurement
        # becomes an exemplar is the configured filter's decision, exactly as without us.
        if self._exemplars.should_sample(value, time_unix_nano, attributes, context):
            self._inner.offer(value, time_unix_nano, attributes, context)

    def collect(self, point_attributes: Any) -> list[Any]:
        """Return the exemplars of the wrapped reservoir."""
        return self._inner.collect(point_attributes)


class _CaptureFilter(ExemplarFilter):
    """Lets every measurement reach the reservoirs while a recorder listens, else *configured*."""

    def __init__(self, configured: ExemplarFilter) -> None:
        self.configured = configured

    def should_sample(
        self, value: float, time_unix_nano: int, attributes: Any, context: Context
    ) -> bool:
        """Sample while recording; otherwise what the configured filter decides."""
        if _TAP.active:
            return True
        return self.configured.should_sample(value, time_unix_nano, attributes, context)


_EXEMPLAR_FILTERS: Final[dict[str, Callable[[], ExemplarFilter]]] = {
    "trace_based": TraceBasedExemplarFilter,
    "always_on": AlwaysOnExemplarFilter,
    "always_off": AlwaysOffExemplarFilter,
}


def _configured_exemplar_filter() -> ExemplarFilter:
    """Return the filter the SDK would build from ``OTEL_METRICS_EXEMPLAR_FILTER``."""
    name = os.environ.get("OTEL_METRICS_EXEMPLAR_FILTER", "").strip().lower() or "trace_based"
    chosen = _EXEMPLAR_FILTERS.get(name)
    if chosen is None:
        msg = (
            "OTEL_METRICS_EXEMPLAR_FILTER must be one of "
            f"{', '.join(map(repr, _EXEMPLAR_FILTERS))}, got {name!r}."
        )
        raise ValueError(msg)
    return chosen()


def _bind_reservoirs(
    exemplars: ExemplarFilter,
) -> Callable[[SDKInstrument, ReservoirFactory], ReservoirFactory]:
    def bind(instrument: SDKInstrument, factory: ReservoirFactory) -> ReservoirFactory:
        info = _info_of(instrument)

        def capturing(aggregation_type: type) -> Callable[..., ExemplarReservoir]:
            builder = factory(aggregation_type)

            def build(**kwargs: Any) -> ExemplarReservoir:
                return _CaptureReservoir(builder(**kwargs), info, exemplars)

            return build

        return capturing

    return bind


def capture_through_readers(readers: list[MetricReader]) -> ExemplarFilter:
    """Make *readers* capture every measurement; return the provider's exemplar filter.

    Call it before the readers join a ``MeterProvider``, and build that provider with the
    returned filter: ``MeterProvider(metric_readers=readers, exemplar_filter=...)``. Exemplars
    follow ``OTEL_METRICS_EXEMPLAR_FILTER`` as they would without capture.

    Raises:
        ValueError: ``OTEL_METRICS_EXEMPLAR_FILTER`` names no known filter (the SDK refuses
            it too).
    """
    configured = _configured_exemplar_filter()
    bind = _bind_reservoirs(configured)
    for reader in readers:
        bind_reader_reservoirs(reader, bind)
    return _CaptureFilter(configured)


# --- route 2: any MeterProvider --------------------------------------------------------------------


def _sink_for(tap: MetricTap) -> Callable[[SDKInstrument], MeasurementSink]:
    """Build, for each instrument the SDK applies the capture View to, its measurement sink."""

    def sink_for(instrument: SDKInstrument) -> MeasurementSink:
        info = _info_of(instrument)

        def sink(measurement: Measurement) -> None:
            try:
                tap.offer(
                    info,
                    measurement.value,
                    measurement.time_unix_nano,
                    measurement.attributes,
                    measurement.context,
                    # Every reader's storage hands over the same Measurement object.
                    measurement,
                )
            except Exception as error:  # noqa: BLE001 - never raise into the application
                count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=info.name, error=error)

        return sink

    return sink_for


def metric_capture_options(recorder: Recorder | None = None) -> dict[str, Any]:
    """``MeterProvider`` keyword arguments that report every measurement to recorders.

    Pass them to any SDK ``MeterProvider`` you build for tests: ``MeterProvider(
    metric_readers=[...], **metric_capture_options())`` (``configure()`` has its own, cheaper
    route). They are two Views: a catch-all one that exports every instrument as the SDK would
    without Views (the reader's preferred aggregation and the exemplar filter stay as
    configured), and the capture View, which exports nothing and hands each measurement to
    every recorder subscribed to the process-wide tap; *recorder*, when given, is subscribed
    now. The capture View costs one more metric stream per instrument and reader on every
    measurement, recording or not. The provider needs at least one metric reader: without one
    the SDK records nothing. Views of your own that match an instrument create a second stream
    next to the catch-all one.
    """
    if recorder is not None:
        _TAP.subscribe(recorder.buffer, recorder.span_processor)
    return {"views": [View(instrument_name="*"), measurement_hook_view(_sink_for(_TAP))]}
