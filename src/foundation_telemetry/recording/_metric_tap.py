"""Metric capture: every measurement offered to the SDK's exemplar reservoirs reaches the recorders.

A catch-all View carries a capture reservoir (:func:`metric_capture_options`); the process-wide
:class:`MetricTap` hands each measurement, once, to every subscribed record buffer.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import (
    AlignedHistogramBucketExemplarReservoir,
    ExemplarFilter,
    ExemplarReservoir,
    SimpleFixedSizeExemplarReservoir,
)
from opentelemetry.sdk.metrics.view import View

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

    def offer(
        self,
        info: _InstrumentInfo,
        value: float,
        time_unix_nano: int,
        attributes: Mapping[str, Any] | None,
        context: Context | None,
    ) -> None:
        """Record one measurement (once, even when several readers or views offer it)."""
        subscribers = self._subscribers
        if not subscribers:
            return
        last = self._last
        key = (info.name, time_unix_nano)
        if getattr(last, "key", None) == key:
            return  # the same measurement offered by another reader's or view's storage
        last.key = key
        span_id = trace.get_current_span(context).get_span_context().span_id
        item = (info, value, time_unix_nano, dict(attributes) if attributes else {})
        thread = current_thread_name()
        for buffer, spans in subscribers:
            buffer._store((RecordKind.METRIC, item, spans.scope_of(span_id), thread))


_TAP: Final = MetricTap()


def metric_tap() -> MetricTap:
    """Return the process-wide tap the capture reservoirs report to."""
    return _TAP


class _CaptureReservoir(ExemplarReservoir):
    """Reports each offered measurement to the tap, then keeps the SDK's exemplar behaviour."""

    def __init__(self, inner: ExemplarReservoir, info: _InstrumentInfo, tap: MetricTap) -> None:
        self._inner = inner
        self._info = info
        self._tap = tap

    def offer(
        self,
        value: float,
        time_unix_nano: int,
        attributes: Any,
        context: Context,
    ) -> None:
        """Report the measurement; forward it to the default reservoir when traced-sampled."""
        try:
            self._tap.offer(self._info, value, time_unix_nano, attributes, context)
        except Exception as error:  # noqa: BLE001 - never raise into the application
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=self._info.name, error=error)
        # Our filter samples everything so offer() runs per measurement; the SDK's default
        # (trace-based) filter decides what becomes an exemplar, exactly as without us.
        if trace.get_current_span(context).get_span_context().trace_flags.sampled:
            self._inner.offer(value, time_unix_nano, attributes, context)

    def collect(self, point_attributes: Any) -> list[Any]:
        """Return the default reservoir's exemplars."""
        return self._inner.collect(point_attributes)


class _CaptureFilter(ExemplarFilter):
    """Lets every measurement reach the reservoir while a recorder listens (else trace-based)."""

    def __init__(self, tap: MetricTap) -> None:
        self._tap = tap

    def should_sample(
        self, value: float, time_unix_nano: int, attributes: Any, context: Context
    ) -> bool:
        """Sample while recording; otherwise only measurements inside a sampled span."""
        if self._tap.active:
            return True
        return bool(trace.get_current_span(context).get_span_context().trace_flags.sampled)


def _find_instrument() -> _InstrumentInfo:
    """Identify the instrument whose aggregation is being built.

    The SDK calls a View's ``exemplar_reservoir_factory`` from the aggregation's
    ``_create_aggregation(instrument, ...)``, once per instrument and attribute set, and passes no
    instrument to the reservoir; the instrument is that caller's ``instrument`` argument.
    """
    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            break
        instrument = frame.f_locals.get("instrument")
        name = getattr(instrument, "name", None)
        if isinstance(name, str):
            return _InstrumentInfo(
                name, _instrument_kind(instrument), str(getattr(instrument, "unit", "") or "")
            )
        frame = frame.f_back  # type: ignore[assignment]
    count_skip(_COMPONENT, SkipReason.CONTRACT_VIOLATION, item="metric instrument unknown")
    return _UNKNOWN_INSTRUMENT


def _reservoir_factory(tap: MetricTap) -> Callable[[type[Any]], Callable[..., ExemplarReservoir]]:
    def factory(aggregation_type: type[Any]) -> Callable[..., ExemplarReservoir]:
        info = _find_instrument()
        inner: Callable[..., ExemplarReservoir]
        if "ExplicitBucketHistogram" in aggregation_type.__name__:
            inner = AlignedHistogramBucketExemplarReservoir
        else:
            inner = SimpleFixedSizeExemplarReservoir

        def build(**kwargs: Any) -> ExemplarReservoir:
            return _CaptureReservoir(inner(**kwargs), info, tap)

        return build

    return factory


def metric_capture_options(recorder: Recorder | None = None) -> dict[str, Any]:
    """``MeterProvider`` keyword arguments that report every measurement to recorders.

    Pass them to any SDK ``MeterProvider`` (``configure()`` does): ``MeterProvider(
    metric_readers=[...], **metric_capture_options())``. A catch-all View carries the capture
    reservoir, and the exemplar filter lets every measurement reach it while a recorder listens
    (exemplars themselves stay trace-based, as with the SDK default). Measurements go to every
    recorder subscribed to the process-wide tap; *recorder*, when given, is subscribed now. The
    provider needs at least one metric reader: without one the SDK aggregates nothing and offers
    nothing. Views of your own that match an instrument create a second stream next to the
    catch-all one.
    """
    if recorder is not None:
        _TAP.subscribe(recorder.buffer, recorder.span_processor)
    factory = _reservoir_factory(_TAP)
    return {
        "views": [View(instrument_name="*", exemplar_reservoir_factory=factory)],
        "exemplar_filter": _CaptureFilter(_TAP),
    }
