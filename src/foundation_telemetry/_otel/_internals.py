"""Every place the package touches an OpenTelemetry name that starts with an underscore.

The SDK offers no public route for these; each is written here as plain attribute access with a
``# noqa: SLF001`` reason, behind a typed accessor, and ``tests/otel/test_internals.py`` checks
each one on the installed SDK (a failing check names the SDK version and the line to change).
Everything else in the package calls the accessors. Version differences that have a public
answer (a class that moved, a method that appeared) live in :mod:`._compat` instead.
"""

from __future__ import annotations

import atexit
import contextvars
import inspect
import threading
from collections.abc import Callable, Sequence, Sized
from importlib import metadata
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import baggage as _baggage
from opentelemetry import context as _context
from opentelemetry import metrics as _metrics
from opentelemetry._logs import LoggerProvider as _APILoggerProvider
from opentelemetry._logs._internal import ProxyLoggerProvider as _ProxyLoggerProvider
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.metrics import MeterProvider
from opentelemetry.metrics._internal import _ProxyMeterProvider
from opentelemetry.sdk._configuration import _BaseConfigurator
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import ExemplarReservoir
from opentelemetry.sdk.metrics import MeterProvider as SDKMeterProvider
from opentelemetry.sdk.metrics._internal.instrument import _Instrument as SDKInstrument
from opentelemetry.sdk.metrics._internal.measurement import Measurement
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import Aggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics._internal.aggregation import _Aggregation
    from opentelemetry.sdk.metrics.export import AggregationTemporality

__all__ = [
    "BAGGAGE_KEY",
    "READER_CARDINALITY_LIMITS",
    "SDK_VERSION",
    "SUPPRESS_INSTRUMENTATION_KEY",
    "APIGauge",
    "BaseConfigurator",
    "Measurement",
    "MeasurementSink",
    "ProviderAwareReader",
    "ReservoirFactory",
    "SDKInstrument",
    "bind_reader_reservoirs",
    "compact_span",
    "copy_reader_preferences",
    "current_context_getter",
    "encoded_grpc_exporter",
    "encoded_http_exporter",
    "end_exporter_retries",
    "exporter_of",
    "exporter_preferences",
    "hand_collect_callback",
    "hand_meter_provider",
    "is_default_logger_provider",
    "is_default_meter_provider",
    "log_record_processors_of",
    "measurement_hook_view",
    "metric_readers_of",
    "on_ending",
    "passive_ending_hook",
    "periodic_reader_exporter",
    "periodic_reader_thread_alive",
    "plain_attributes",
    "reader_is_registered",
    "receive_metrics",
    "remove_exit_hook",
    "replace_exporter",
    "replace_periodic_reader_exporter",
    "reset_reader_storage",
    "set_log_record_processors",
    "set_span_processors",
    "span_event_parts",
    "span_fields",
    "span_processors_of",
    "stock_batch_capacity",
    "stock_batch_queue",
    "stock_batch_queued",
    "stock_batch_worker_alive",
    "swap_metric_reader",
]

SDK_VERSION: Final = metadata.version("opentelemetry-sdk")

# --- context -------------------------------------------------------------------------------------

#: The context key the SDK's exporters and batch workers set so their own I/O is not instrumented
#: (``opentelemetry.instrumentation.utils.suppress_instrumentation`` sets it too, but that package
#: is not a core dependency).
SUPPRESS_INSTRUMENTATION_KEY: Final[str] = _context._SUPPRESS_INSTRUMENTATION_KEY  # noqa: SLF001 - the key every SDK exporter honours; no public constant

# --- API placeholders and classes ----------------------------------------------------------------

#: The API's synchronous gauge. It is exported as ``opentelemetry.metrics._Gauge`` only.
APIGauge = _metrics._Gauge  # noqa: SLF001 - the API exports its Gauge only under this name

#: The base class of ``opentelemetry_configurator`` entry points (the zero-code extension point).
BaseConfigurator = _BaseConfigurator


def is_default_meter_provider(provider: MeterProvider) -> bool:
    """Whether *provider* is the API's placeholder (no global MeterProvider set yet)."""
    return isinstance(provider, _ProxyMeterProvider)


def is_default_logger_provider(provider: _APILoggerProvider) -> bool:
    """Whether *provider* is the API's placeholder (no global LoggerProvider set yet)."""
    return isinstance(provider, _ProxyLoggerProvider)


# --- span and log processors ---------------------------------------------------------------------

BAGGAGE_KEY: Final = _baggage._BAGGAGE_KEY  # noqa: SLF001 - the context key baggage lives under
"""The key under which W3C baggage sits in a ``Context`` (a dict): no key, no baggage."""


def current_context_getter() -> Callable[[], _context.Context]:
    """Return the cheapest callable that gives the current context.

    With the default contextvars runtime context it is the ``ContextVar.get`` itself (no Python
    frame); with any other ``OTEL_PYTHON_CONTEXT`` it is ``opentelemetry.context.get_current``.
    """
    runtime = getattr(_context, "_RUNTIME_CONTEXT", None)
    if isinstance(runtime, ContextVarsRuntimeContext):
        current = getattr(runtime, "_current_context", None)
        if isinstance(current, contextvars.ContextVar):
            return current.get
    return _context.get_current


def on_ending(processor: SpanProcessor, span: Span) -> None:
    """Call *processor*'s ``_on_ending`` hook, which the SDK's multi-processor calls on every child.

    A wrapper must forward it, or the wrapped processor would miss the span's last mutable moment.
    """
    processor._on_ending(span)  # noqa: SLF001 - the SDK calls this hook on processors; no public name


def _pass(self: object, span: object) -> None:
    pass


def _documented_pass(self: object, span: object) -> None:
    """Do nothing (a docstring is the only statement)."""


# The byte code of a method whose body does nothing, and where its returned constant (None) sits.
_PASSIVE_BODIES: Final = {
    _pass.__code__.co_code: 0,
    _documented_pass.__code__.co_code: 1,
}


def passive_ending_hook(processor: SpanProcessor) -> Callable[[Span], None] | None:
    """Return *processor*'s bound ``_on_ending`` when its body is ``pass``, else ``None``.

    The stock processors define it that way; such a hook cannot fail, so a wrapper may hand
    the SDK the hook itself instead of a frame that would contain its failures.
    """
    hook = getattr(processor, "_on_ending", None)
    code = getattr(getattr(hook, "__func__", None), "__code__", None)
    if code is None or code.co_argcount != 2 or code.co_kwonlyargcount:  # called as hook(span)
        return None
    index = _PASSIVE_BODIES.get(code.co_code)
    if index is None or len(code.co_consts) <= index or code.co_consts[index] is not None:
        return None
    return hook


def exporter_of(component: object) -> object | None:
    """Return the exporter a stock SDK processor or periodic reader holds, or ``None``."""
    if isinstance(component, SimpleSpanProcessor | BatchSpanProcessor):
        return component.span_exporter
    if isinstance(component, SimpleLogRecordProcessor):
        return component._exporter  # noqa: SLF001 - the log processors expose no exporter property
    if isinstance(component, BatchLogRecordProcessor):
        return component._batch_processor._exporter  # noqa: SLF001 - as above
    if isinstance(component, PeriodicExportingMetricReader):
        return periodic_reader_exporter(component)
    return None


def replace_exporter(component: object, exporter: object) -> bool:
    """Make a stock SDK processor or periodic reader export through *exporter*; ``False`` if not one.

    Used to put the defensive wrapper around the exporter inside a component a user built.
    """
    if isinstance(component, SimpleSpanProcessor):
        component.span_exporter = exporter  # type: ignore[assignment]
    elif isinstance(component, SimpleLogRecordProcessor):
        component._exporter = exporter  # type: ignore[assignment]  # noqa: SLF001 - the log processors expose no setter
    elif isinstance(component, BatchSpanProcessor | BatchLogRecordProcessor):
        component._batch_processor._exporter = exporter  # type: ignore[assignment]  # noqa: SLF001 - as above
    elif isinstance(component, PeriodicExportingMetricReader):
        replace_periodic_reader_exporter(component, exporter)  # type: ignore[arg-type]
    else:
        return False
    return True


def end_exporter_retries(exporter: object) -> bool:
    """Make a stock OTLP exporter give up after its current attempt instead of retrying.

    Sets the event its retry loop waits on for back-off (the one its ``shutdown()`` sets), without
    marking it shut down: an export still makes one attempt. Returns whether *exporter* had one.
    """
    event = getattr(exporter, "_shutdown_in_progress", None)  # gRPC exporters
    if event is None:  # the OTLP/HTTP log exporter up to 1.43 spells it so
        event = getattr(exporter, "_shutdown_is_occuring", None)
    if event is None:  # HTTP exporters keep it on their client
        event = getattr(getattr(exporter, "_client", None), "_shutdown_event", None)
    if not isinstance(event, threading.Event):
        return False
    event.set()
    return True


def remove_exit_hook(provider: object) -> bool:
    """Unregister the ``atexit`` hook a provider built with ``shutdown_on_exit=True`` added."""
    # Tracer and meter providers name it _atexit_handler, the logger provider _at_exit_handler.
    for attribute in ("_atexit_handler", "_at_exit_handler"):
        handler = getattr(provider, attribute, None)
        if handler is not None:
            atexit.unregister(handler)
            setattr(provider, attribute, None)  # what the provider's own shutdown() does
            return True
    return False


def set_span_processors(provider: TracerProvider, processors: tuple[SpanProcessor, ...]) -> None:
    """Replace the span processors of *provider* (the multi-processor keeps a tuple)."""
    multi = provider._active_span_processor  # noqa: SLF001 - no public way to replace processors
    with multi._lock:  # noqa: SLF001 - the lock add_span_processor takes
        multi._span_processors = processors  # noqa: SLF001 - as above


def set_log_record_processors(
    provider: LoggerProvider, processors: tuple[LogRecordProcessor, ...]
) -> None:
    """Replace the log record processors of *provider*."""
    multi = provider._multi_log_record_processor  # noqa: SLF001 - no public way to replace them
    with multi._lock:  # noqa: SLF001 - the lock add_log_record_processor takes
        multi._log_record_processors = processors  # noqa: SLF001 - as above


def swap_metric_reader(provider: SDKMeterProvider, reader: MetricReader, wrapper: Any) -> None:
    """Put *wrapper* in the place of *reader*, already registered with *provider*.

    The provider lists its readers (shutdown and force_flush iterate the list) and its
    measurement consumer keys each reader's aggregation storage by the reader; both are re-pointed
    at *wrapper* (the mapping is replaced, never mutated, as the SDK itself does), and *wrapper*
    is handed the collect callback and the provider as if the provider had registered it.
    """
    consumer = provider._measurement_consumer  # noqa: SLF001 - no public way to replace a reader
    with consumer._lock:  # noqa: SLF001 - the lock the SDK's own add/remove take
        storages = consumer._reader_storages  # noqa: SLF001 - as above
        consumer._reader_storages = {  # noqa: SLF001 - as above
            (wrapper if key is reader else key): value for key, value in storages.items()
        }
    readers = provider._metric_readers  # noqa: SLF001 - as above
    provider._metric_readers = tuple(wrapper if r is reader else r for r in readers)  # noqa: SLF001 - as above
    wrapper._set_collect_callback(consumer.collect)  # noqa: SLF001 - what the provider calls
    if hasattr(wrapper, "_set_meter_provider"):
        wrapper._set_meter_provider(provider)  # noqa: SLF001 - as above (SDK 1.41+)


def _stock_batch(processor: object) -> Any:
    if isinstance(processor, BatchSpanProcessor | BatchLogRecordProcessor):
        return processor._batch_processor  # noqa: SLF001 - read-only: queue length and worker state
    return None


def stock_batch_queue(processor: object) -> Sized | None:
    """Return a stock batch processor's queue, to read its length (``None`` for others)."""
    batch = _stock_batch(processor)
    return None if batch is None else batch._queue  # noqa: SLF001 - read-only: its length


def stock_batch_queued(processor: object) -> int | None:
    """Return how many items a stock batch processor holds now (``None`` for other processors)."""
    queue = stock_batch_queue(processor)
    return None if queue is None else len(queue)


def stock_batch_capacity(processor: object) -> int | None:
    """Return the ``max_queue_size`` of a stock batch processor (``None`` for other processors)."""
    batch = _stock_batch(processor)
    return None if batch is None else int(batch._max_queue_size)  # noqa: SLF001 - read-only


def stock_batch_worker_alive(processor: object) -> bool:
    """Whether a stock batch processor's worker thread still runs (``False`` for others).

    Its ``shutdown()`` joins that thread with a timeout and returns regardless, so a shutdown
    that *finished* can still have abandoned the export the thread is stuck in.
    """
    batch = _stock_batch(processor)
    if batch is None:
        return False
    thread = batch._worker_thread  # noqa: SLF001 - read-only: is the worker stuck in an export?
    return isinstance(thread, threading.Thread) and thread.is_alive()


def periodic_reader_thread_alive(reader: object) -> bool:
    """Whether a periodic metric reader's export thread still runs (``False`` for others)."""
    if not isinstance(reader, PeriodicExportingMetricReader):
        return False
    thread = reader._daemon_thread  # noqa: SLF001 - read-only: is the final export stuck?
    return isinstance(thread, threading.Thread) and thread.is_alive()


# --- providers (read-only) -----------------------------------------------------------------------


def span_processors_of(provider: TracerProvider) -> tuple[SpanProcessor, ...]:
    """Return the span processors added to *provider* (the SDK keeps them privately)."""
    return tuple(provider._active_span_processor._span_processors)  # noqa: SLF001 - no public list


def log_record_processors_of(provider: LoggerProvider) -> tuple[LogRecordProcessor, ...]:
    """Return the log record processors added to *provider*."""
    multi = provider._multi_log_record_processor  # noqa: SLF001 - no public list
    return tuple(multi._log_record_processors)  # noqa: SLF001 - as above


def metric_readers_of(provider: SDKMeterProvider) -> tuple[MetricReader, ...]:
    """Return the metric readers registered with *provider*."""
    consumer = provider._measurement_consumer  # noqa: SLF001 - no public list
    return tuple(consumer._reader_storages)  # noqa: SLF001 - as above


# --- metric readers and exporters ----------------------------------------------------------------

CollectCallback = Callable[..., Any]

#: Whether readers carry per-instrument cardinality limits (SDK 1.44+; absent in 1.43).
READER_CARDINALITY_LIMITS: Final = (
    "cardinality_limits" in inspect.signature(MetricReader.__init__).parameters
)


class ProviderAwareReader(MetricReader):
    """A ``MetricReader`` told which provider it joined and handed the provider's collect callback.

    The SDK calls two private hooks on every reader it registers: ``_set_collect_callback`` (the
    function that collects from the provider; marked final, "internal to the SDK") and
    ``_set_meter_provider`` (1.41). Subclasses override :meth:`collect_callback_set` and
    :meth:`meter_provider_set` instead. ``_receive_metrics`` is the SDK's documented hook for
    subclasses and stays as it is.
    """

    def _set_collect_callback(self, func: CollectCallback | None) -> None:  # type: ignore[misc]
        super()._set_collect_callback(func)
        self.collect_callback_set(func)

    def _set_meter_provider(self, meter_provider: MeterProvider) -> None:
        super()._set_meter_provider(meter_provider)
        self.meter_provider_set(meter_provider)

    def collect_callback_set(self, func: CollectCallback | None) -> None:
        """React to the provider registering (*func*) or unregistering (``None``) this reader."""

    def meter_provider_set(self, meter_provider: MeterProvider) -> None:
        """React to being registered with *meter_provider*."""


def hand_collect_callback(reader: MetricReader, func: CollectCallback | None) -> None:
    """Give *reader* a collect callback, as a ``MeterProvider`` does when it registers it."""
    reader._set_collect_callback(func)  # noqa: SLF001 - a wrapping reader registers its inner one


def hand_meter_provider(reader: MetricReader, meter_provider: MeterProvider) -> None:
    """Tell *reader* its provider, as a ``MeterProvider`` does when it registers it (SDK 1.41+)."""
    reader._set_meter_provider(meter_provider)  # noqa: SLF001 - as above


def receive_metrics(reader: MetricReader, metrics_data: Any, timeout_millis: float) -> None:
    """Hand *metrics_data* to *reader*'s documented ``_receive_metrics`` hook."""
    reader._receive_metrics(metrics_data, timeout_millis=timeout_millis)  # noqa: SLF001 - the hook's only name


def reader_is_registered(reader: MetricReader) -> bool:
    """Whether a provider has registered *reader* (it has a collect callback)."""
    return reader._collect is not None  # noqa: SLF001 - what collect() itself checks


def copy_reader_preferences(source: MetricReader, target: MetricReader) -> None:
    """Give *target* the temporality, aggregation and cardinality preferences of *source*.

    The SDK builds a reader's aggregation storage from these three private mappings when the
    reader is registered; a wrapping reader registered in place of *source* must carry them.
    """
    target._instrument_class_temporality = source._instrument_class_temporality  # noqa: SLF001 - read at registration
    target._instrument_class_aggregation = source._instrument_class_aggregation  # noqa: SLF001 - as above
    if READER_CARDINALITY_LIMITS:
        target._instrument_class_cardinality_limit = source._instrument_class_cardinality_limit  # noqa: SLF001 - as above


def periodic_reader_exporter(reader: PeriodicExportingMetricReader) -> MetricExporter:
    """Return the exporter a periodic reader exports with."""
    exporter: MetricExporter = reader._exporter  # noqa: SLF001 - no public property
    return exporter


def replace_periodic_reader_exporter(
    reader: PeriodicExportingMetricReader, exporter: MetricExporter
) -> None:
    """Make *reader* export through *exporter* (the defensive wrapper of its own exporter)."""
    reader._exporter = exporter  # noqa: SLF001 - a user's periodic reader gets a guarded exporter


def exporter_preferences(
    exporter: MetricExporter,
) -> tuple[dict[type, AggregationTemporality] | None, dict[type, Aggregation] | None]:
    """Return the temporality and aggregation *exporter* was built to prefer (no getters)."""
    temporality: dict[type, AggregationTemporality] | None = exporter._preferred_temporality  # noqa: SLF001 - no getter
    aggregation: dict[type, Aggregation] | None = exporter._preferred_aggregation  # noqa: SLF001 - no getter
    return temporality, aggregation


def reset_reader_storage(collect_callback: CollectCallback, reader: MetricReader) -> None:
    """Give *reader* empty aggregation storage in the provider that handed it *collect_callback*.

    The callback is the bound ``collect`` of the provider's measurement consumer;
    ``add_metric_reader`` (SDK 1.43) replaces the reader's storage under the consumer's lock.
    """
    consumer = collect_callback.__self__  # type: ignore[attr-defined]
    consumer.add_metric_reader(reader)


# --- metric capture ------------------------------------------------------------------------------

#: Called with every measurement of one instrument, in the thread that recorded it.
MeasurementSink = Callable[["Measurement"], None]


class _MeasurementTap:
    """Stands in for an aggregation: hands each measurement to a sink and exports nothing.

    ``collect`` returning ``None`` makes the SDK's storage skip this stream entirely, whatever
    the reader's temporality.
    """

    __slots__ = ("_sink",)

    def __init__(self, sink: MeasurementSink) -> None:
        self._sink = sink

    def aggregate(self, measurement: Measurement, should_sample_exemplar: bool = True) -> None:
        self._sink(measurement)

    def collect(self, *args: object, **kwargs: object) -> None:
        return None


# The SDK warns about two streams with the same name, unit and aggregation class; a tap class per
# instrument class keeps that warning to the cases where the stock streams conflict too.
_tap_classes: dict[type, type[_MeasurementTap]] = {}


def _tap_class(instrument_class: type) -> type[_MeasurementTap]:
    found = _tap_classes.get(instrument_class)
    if found is None:
        found = type(f"_MeasurementTap{instrument_class.__name__}", (_MeasurementTap,), {})
        _tap_classes[instrument_class] = found
    return found


class _MeasurementHook(Aggregation):
    """The aggregation of the capture View: the SDK hands it each instrument it applies to.

    A View whose aggregation is not ``DefaultAggregation`` ignores the reader's preferred
    aggregation, so this one sits on a second View next to the catch-all stream that exports.
    """

    def __init__(self, sink_for: Callable[[SDKInstrument], MeasurementSink]) -> None:
        self._sink_for = sink_for

    # The SDK's abstract factory method (private name, stable signature since 1.26): it is called
    # once per instrument, attribute set and reader, with the instrument as its first argument.
    def _create_aggregation(self, instrument: Any, *args: Any, **kwargs: Any) -> _Aggregation[Any]:
        tap = _tap_class(type(instrument))(self._sink_for(instrument))
        return tap  # type: ignore[return-value]


#: What a View hands an aggregation to build its exemplar reservoirs with (aggregation type ->
#: reservoir builder).
ReservoirFactory = Callable[[type], Callable[..., ExemplarReservoir]]


class _InstrumentAwareAggregation(Aggregation):
    """A reader's aggregation that lets ``bind`` pick the reservoir factory per instrument."""

    def __init__(
        self,
        inner: Aggregation,
        bind: Callable[[SDKInstrument, ReservoirFactory], ReservoirFactory],
    ) -> None:
        self._inner = inner
        self._bind = bind

    # Same private factory method as _MeasurementHook; the reader's own aggregation builds the
    # real one, with the reservoir factory ``bind`` returned for this instrument.
    def _create_aggregation(
        self, instrument: Any, attributes: Any, reservoir_factory: Any, *args: Any, **kwargs: Any
    ) -> _Aggregation[Any]:
        factory = self._bind(instrument, reservoir_factory)
        return self._inner._create_aggregation(instrument, attributes, factory, *args, **kwargs)  # noqa: SLF001 - delegating the same private method


def bind_reader_reservoirs(
    reader: MetricReader, bind: Callable[[SDKInstrument, ReservoirFactory], ReservoirFactory]
) -> None:
    """Have every aggregation the SDK builds for *reader* ask ``bind`` for its reservoir factory.

    ``bind(instrument, factory)`` receives each instrument and the factory the View asked for,
    and returns the factory to use. The reader's preferred aggregation per instrument kind is
    kept: each one is wrapped, not replaced. Call it before the reader is registered; ``bind``
    must never raise.
    """
    preferred = reader._instrument_class_aggregation  # noqa: SLF001 - read at registration
    wrapped: dict[Any, Any] = {
        kind: _InstrumentAwareAggregation(aggregation, bind)
        for kind, aggregation in preferred.items()
    }
    reader._instrument_class_aggregation = wrapped  # noqa: SLF001 - as above


def measurement_hook_view(sink_for: Callable[[SDKInstrument], MeasurementSink]) -> View:
    """Return a View over every instrument that asks ``sink_for(instrument)`` for its sink.

    The sink then receives every measurement of that instrument, once per registered reader, in
    the thread that recorded it (an observable instrument's in the collecting thread). The view
    exports nothing and aggregates nothing: its attribute keys are empty, so it keeps one
    aggregation per instrument and reader. ``sink_for`` and the sinks must never raise.
    """
    return View(instrument_name="*", aggregation=_MeasurementHook(sink_for), attribute_keys=set())


# --- OTLP encoding -------------------------------------------------------------------------------


def plain_attributes(attributes: Any) -> Any:
    """Return the plain dictionary behind SDK ``BoundedAttributes`` (*attributes* otherwise).

    ``BoundedAttributes.items()`` walks the ``collections.abc`` mixins in Python, a call per
    item; the direct OTLP encoder reads the same entries, in the same order, from the dictionary.
    """
    if type(attributes) is BoundedAttributes:
        return attributes._dict  # noqa: SLF001 - read-only, the entries items() yields
    return attributes


def span_fields(span: ReadableSpan) -> tuple[Any, Sequence[Any], Sequence[Any], int, int, int]:
    """Return a span's attributes, events, links and their dropped counts, in one call.

    The values of ``ReadableSpan.attributes`` (as the plain dictionary, not the read-only proxy
    the property builds), ``events``, ``links``, ``dropped_attributes``, ``dropped_events`` and
    ``dropped_links``, which are six Python calls through the properties.
    """
    attributes = span._attributes  # noqa: SLF001 - read-only, what the properties return
    events = span._events  # noqa: SLF001 - as above
    links = span._links  # noqa: SLF001 - as above
    dropped_attributes = dropped_events = dropped_links = 0
    if isinstance(attributes, BoundedAttributes):
        dropped_attributes = attributes.dropped
        attributes = plain_attributes(attributes)
    if isinstance(events, BoundedList):
        dropped_events = events.dropped
        events = tuple(events._dq)  # type: ignore[attr-defined]  # noqa: SLF001 - the span has ended
    if isinstance(links, BoundedList):
        dropped_links = links.dropped
        links = tuple(links._dq)  # type: ignore[attr-defined]  # noqa: SLF001 - as above
    return attributes, events or (), links or (), dropped_attributes, dropped_events, dropped_links


# --- recording ---------------------------------------------------------------------------------


def compact_span(span: ReadableSpan) -> tuple[Any, ...]:
    """Return a span's fields as one flat tuple, without the SDK's per-span containers.

    ``(name, context, parent, attributes, events, links, kind, status, start_time, end_time,
    resource, scope, (dropped attributes, events, links))``: the attributes as the plain dictionary behind ``BoundedAttributes``, the
    events and links as tuples out of their ``BoundedList`` deques (a deque and a lock each,
    about half of what an ended span keeps alive). Read straight from the slots the properties
    return, so it is cheap enough for ``on_end``.
    """
    attributes = span._attributes  # noqa: SLF001 - read-only, what the properties return
    dropped = (
        getattr(attributes, "dropped", 0),
        getattr(span._events, "dropped", 0),  # noqa: SLF001 - as above
        getattr(span._links, "dropped", 0),  # noqa: SLF001 - as above
    )
    if type(attributes) is BoundedAttributes:
        attributes = attributes._dict  # noqa: SLF001 - as above
    events = span._events  # noqa: SLF001 - as above
    if type(events) is BoundedList:
        events = events._dq  # type: ignore[attr-defined]  # noqa: SLF001 - as above
    links = span._links  # noqa: SLF001 - as above
    if type(links) is BoundedList:
        links = links._dq  # type: ignore[attr-defined]  # noqa: SLF001 - as above
    return (
        span._name,  # noqa: SLF001 - as above
        span._context,  # noqa: SLF001 - as above
        span._parent,  # noqa: SLF001 - as above
        attributes,
        tuple(events) if events else (),
        tuple(links) if links else (),
        span._kind,  # noqa: SLF001 - as above
        span._status,  # noqa: SLF001 - as above
        span._start_time,  # noqa: SLF001 - as above
        span._end_time,  # noqa: SLF001 - as above
        span._resource,  # noqa: SLF001 - as above
        span._instrumentation_scope,  # noqa: SLF001 - as above
        dropped,
    )


def span_event_parts(
    fields: tuple[Any, ...],
) -> tuple[int, int, Any, str | None, list[tuple[str, dict[str, Any], int, int]]]:
    """Return what the span-event records of an ended span need, from its compact fields.

    ``(trace_id, span_id, resource attributes, scope name, [(name, attributes, timestamp,
    dropped attributes)])`` for a :func:`compact_span` tuple, each event's attributes a plain
    copy. Read from the
    slots the properties return (one frame instead of one per property: a woken test waiter
    runs this before it returns).
    """
    context, raw_events, resource, scope = fields[1], fields[4], fields[10], fields[11]
    events = []
    for event in raw_events:
        if type(event) is Event:
            name, timestamp = event._name, event._timestamp  # noqa: SLF001 - what the properties return
            attributes = event._attributes  # noqa: SLF001 - as above
        else:
            name, timestamp, attributes = event.name, event.timestamp, event.attributes
        dropped = getattr(attributes, "dropped", 0)  # past the event attribute limit
        attributes = plain_attributes(attributes)
        events.append((name, dict(attributes) if attributes else {}, timestamp, dropped))
    if type(context) is SpanContext:
        trace_id, span_id = context[0], context[1]  # what .trace_id and .span_id return
    else:
        trace_id, span_id = (context.trace_id, context.span_id) if context else (0, 0)
    resource_attributes: Any
    scope_name: str | None
    if type(resource) is Resource:
        resource_attributes = resource._attributes  # noqa: SLF001 - what .attributes returns
    else:
        resource_attributes = resource.attributes if resource is not None else None
    if type(scope) is InstrumentationScope:
        scope_name = scope._name  # noqa: SLF001 - what .name returns
    else:
        scope_name = scope.name if scope is not None else None
    return trace_id, span_id, resource_attributes, scope_name, events


class _Deferred:
    """Stands in for the request message the stock HTTP exporters serialise: our bytes instead.

    The stock ``export`` takes ``len(batch)`` for its own metrics, calls the module's
    ``encode_*`` function (which :func:`_dispatching` makes return this object unchanged) and
    serialises the result inside its own error handling, so the direct encoder runs there.
    """

    __slots__ = ("_batch", "_encode")

    def __init__(self, batch: Any, encode: Callable[[Any], bytes]) -> None:
        self._batch = batch
        self._encode = encode

    def __len__(self) -> int:
        return len(self._batch)

    def SerializeToString(self) -> bytes:
        return self._encode(self._batch)

    SerializePartialToString = SerializeToString


def _dispatching(module: Any, name: str) -> None:
    """Make ``module.name`` (a stock ``encode_*``) pass a :class:`_Deferred` through unchanged.

    Every other argument reaches the stock function as before, so stock exporters in the same
    process encode exactly as they did. Idempotent.
    """
    stock = getattr(module, name)
    if stock in _DISPATCHERS:
        return

    def encode(batch: Any, *args: Any, **kwargs: Any) -> Any:
        if type(batch) is _Deferred:
            return batch
        return stock(batch, *args, **kwargs)

    encode.__wrapped__ = stock  # type: ignore[attr-defined]
    _DISPATCHERS.add(encode)
    setattr(module, name, encode)


_DISPATCHERS: Final[set[Callable[..., Any]]] = set()


_ENCODED_CLASSES: dict[type, type] = {}


def _encoded_http_class(base: type) -> type:
    """Subclass a stock OTLP/HTTP exporter so that its ``export`` sends the direct encoder's bytes."""

    class EncodedHTTPExporter(base):  # type: ignore[misc]
        def __init__(self, encode: Callable[[Any], bytes], **kwargs: Any) -> None:
            self._foundation_telemetry_encode = encode
            super().__init__(**kwargs)

        def export(self, batch: Any, *args: Any, **kwargs: Any) -> Any:
            return super().export(
                _Deferred(batch, self._foundation_telemetry_encode), *args, **kwargs
            )

    # The stock name: health(), skip counts and debug logs name components by class.
    EncodedHTTPExporter.__name__ = EncodedHTTPExporter.__qualname__ = base.__name__
    return EncodedHTTPExporter


class _EncodedStub:
    """A gRPC ``Export`` stub that sends request bytes as they are (identity serialiser)."""

    def __init__(self, channel: Any, method: str, response_type: Any) -> None:
        self.Export = channel.unary_unary(
            method, request_serializer=None, response_deserializer=response_type.FromString
        )


def _encoded_grpc_class(base: type) -> type:
    """Subclass a stock OTLP/gRPC exporter so that it sends the direct encoder's bytes.

    The stock mixin's ``_export`` keeps its retries, backoff, deadline and reconnection; only
    the request (``_translate_data``) and the stub (``_initialize_channel_and_stub``, also
    called when the mixin reconnects) change.
    """

    class EncodedGrpcExporter(base):  # type: ignore[misc]
        def __init__(
            self, encode: Callable[[Any], bytes], method: str, response_type: Any, **kwargs: Any
        ) -> None:
            self._foundation_telemetry_encode = encode
            self._foundation_telemetry_method = method
            self._foundation_telemetry_response = response_type
            super().__init__(**kwargs)

        def _translate_data(self, data: Any) -> bytes:
            return self._foundation_telemetry_encode(data)

        def _initialize_channel_and_stub(self) -> None:
            super()._initialize_channel_and_stub()
            self._client = _EncodedStub(
                self._channel,
                self._foundation_telemetry_method,
                self._foundation_telemetry_response,
            )

    # The stock name: health(), skip counts and debug logs name components by class.
    EncodedGrpcExporter.__name__ = EncodedGrpcExporter.__qualname__ = base.__name__
    return EncodedGrpcExporter


def _encoded_class(base: type, build: Callable[[type], type]) -> type:
    cls = _ENCODED_CLASSES.get(base)
    if cls is None:
        cls = _ENCODED_CLASSES[base] = build(base)
    return cls


def _grpc_parts(signal: str) -> tuple[type, Any]:
    if signal == "traces":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        return OTLPSpanExporter, ExportTraceServiceResponse
    if signal == "metrics":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceResponse,
        )

        return OTLPMetricExporter, ExportMetricsServiceResponse
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

    return OTLPLogExporter, ExportLogsServiceResponse


def encoded_grpc_exporter(signal: str, encode: Callable[[Any], bytes], **kwargs: Any) -> Any:
    """Build the stock OTLP/gRPC exporter of *signal*, sending ``encode(batch)`` as the request.

    Args:
        signal: ``"traces"``, ``"metrics"`` or ``"logs"``.
        encode: Turns what the exporter is given (spans, ``MetricsData``, log records) into the
            serialised ``Export*ServiceRequest``.
        **kwargs: The stock exporter's own arguments (endpoint, headers, timeout...).
    """
    base, response_type = _grpc_parts(signal)
    service = response_type.DESCRIPTOR.file.services_by_name
    (name,) = (full.full_name for full in service.values())
    cls = _encoded_class(base, _encoded_grpc_class)
    return cls(encode=encode, method=f"/{name}/Export", response_type=response_type, **kwargs)


def encoded_http_exporter(signal: str, encode: Callable[[Any], bytes], **kwargs: Any) -> Any:
    """Build the stock OTLP/HTTP exporter of *signal*, posting ``encode(batch)`` as the body.

    Traces and logs only: the stock metric exporter counts and splits the request message
    itself, so *signal* ``"metrics"`` returns the stock exporter, encoding as it always does.
    """
    if signal == "metrics":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(**kwargs)
    if signal == "traces":
        from opentelemetry.exporter.otlp.proto.http import trace_exporter

        base: type = trace_exporter.OTLPSpanExporter
        _dispatching(trace_exporter, "encode_spans")
    else:
        from opentelemetry.exporter.otlp.proto.http import _log_exporter

        base = _log_exporter.OTLPLogExporter
        _dispatching(_log_exporter, "encode_logs")
    return _encoded_class(base, _encoded_http_class)(encode=encode, **kwargs)
