"""``configure()``: build the three providers and own their lifetime.

``configure()`` turns validated settings (``_settings``) into a TracerProvider, MeterProvider and
LoggerProvider whose every processor, exporter and reader sits behind the defensive layer, and
returns a :class:`Telemetry` handle. With ``set_global=True`` the OpenTelemetry globals are our
rebinding proxies (``_globals``): a second ``configure()`` shuts the previous providers down and
points every tracer, meter and logger handed out so far at the new ones, and says so in
``Telemetry.replaced`` and an INFO log line, instead of being silently ignored as
``set_tracer_provider`` would be.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final, cast, final

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from .. import _state
from .._otel._compat import (
    LoggerProvider,
    LogRecordProcessor,
)
from ..defensive import (
    DefensiveLoggingHandler,
    flush_all,
    register_for_exit,
    set_debug,
    shutdown_all,
)
from ..defensive._debug import guard_sdk_diagnostics
from ..defensive._shutdown import adopt_components, register_telemetry
from ..defensive._skip_metric import PipelineSkips, install_skip_metric, set_global_pipeline
from ..recording._metric_tap import capture_through_readers
from ..recording._recorder import Recorder, notify_configured
from . import _globals, _pipelines
from ._settings import Settings, resolve_settings

__all__ = ["Telemetry", "configure", "current", "force_flush", "shutdown"]

_logger = logging.getLogger("foundation_telemetry")


@final
class Telemetry:
    """The providers one ``configure()`` call built, and their lifetime.

    Attributes:
        tracer_provider: the SDK ``TracerProvider``.
        meter_provider: the SDK ``MeterProvider``.
        logger_provider: the SDK ``LoggerProvider``.
        recorder: the in-process ``Recorder`` when a signal uses the ``"memory"`` exporter.
        settings: what ``configure()`` resolved from its arguments and the environment.
        is_global: whether the OpenTelemetry globals point at these providers.
        replaced: the ``Telemetry`` this one replaced as the global, if any (it is shut down).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        logger_provider: LoggerProvider,
        recorder: Recorder | None,
        logging_handler: logging.Handler | None,
        is_global: bool,
    ) -> None:
        self.settings = settings
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.logger_provider = logger_provider
        self.recorder = recorder
        self.is_global = is_global
        self.replaced: Telemetry | None = None
        self._logging_handler = logging_handler
        self._shutdown_lock = threading.Lock()
        self._is_shut_down = False

    @property
    def is_shut_down(self) -> bool:
        """Whether :meth:`shutdown` has run."""
        return self._is_shut_down

    def force_flush(self, timeout: float | None = None) -> bool:
        """Export everything buffered in all three signals, within *timeout* seconds in total.

        Returns ``True`` when every pipeline confirmed the flush in time. Never raises.
        """
        budget = self.settings.shutdown_timeout if timeout is None else timeout
        return flush_all(self.tracer_provider, self.meter_provider, self.logger_provider, budget)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop all three signals together within *timeout* seconds in total.

        The default budget is ``configure(shutdown_timeout=...)``. Idempotent; never raises;
        returns ``True`` when everything shut down cleanly in time.
        """
        with self._shutdown_lock:
            if self._is_shut_down:
                return True
            self._is_shut_down = True
        if self._logging_handler is not None:
            logging.getLogger().removeHandler(self._logging_handler)
        budget = self.settings.shutdown_timeout if timeout is None else timeout
        return shutdown_all(self.tracer_provider, self.meter_provider, self.logger_provider, budget)

    def __enter__(self) -> Telemetry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        service = self.tracer_provider.resource.attributes.get(SERVICE_NAME)
        state = "shut down" if self._is_shut_down else "active"
        return f"Telemetry(service_name={service!r}, global={self.is_global}, {state})"


_CONFIG: Final = _state.config  # the active Telemetry lives in _state.config.active


def current() -> Telemetry | None:
    """Return the ``Telemetry`` the OpenTelemetry globals point at, or ``None``."""
    return cast("Telemetry | None", _CONFIG.active)


def _build_resource(settings: Settings) -> Resource:
    attributes: dict[str, Any] = dict(settings.resource_attributes)
    if settings.service_name is not None:
        attributes[SERVICE_NAME] = settings.service_name
    return Resource.create(attributes)


def configure(
    service_name: str | None = None,
    *,
    exporter: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: str | Mapping[str, str] | None = None,
    resource_attributes: Mapping[str, object] | None = None,
    debug: bool | None = None,
    set_global: bool = True,
    shutdown_timeout: float = 3.0,
    export_timeout: float | None = None,
    span_processors: Iterable[SpanProcessor] = (),
    span_exporters: Iterable[Any] = (),
    metric_readers: Iterable[MetricReader] = (),
    metric_exporters: Iterable[Any] = (),
    log_processors: Iterable[LogRecordProcessor] = (),
    log_exporters: Iterable[Any] = (),
    logging_bridge: bool = False,
    service: MetricReader | None = None,
    runtime_metrics: bool = False,
) -> Telemetry:
    """Build tracer, meter and logger providers with the defensive layer around every component.

    Unset arguments come from the standard variables (``OTEL_SERVICE_NAME``,
    ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_{TRACES,METRICS,LOGS}_EXPORTER``,
    ``OTEL_EXPORTER_OTLP_[SIGNAL_]ENDPOINT/HEADERS/PROTOCOL/TIMEOUT``, ``OTEL_SDK_DISABLED``,
    ``OTEL_BSP_*``, ``OTEL_BLRP_*``, ``OTEL_METRIC_EXPORT_INTERVAL``) and then from the
    specification's defaults (OTLP over ``http/protobuf`` to ``localhost:4318``).

    Args:
        service_name: the ``service.name`` resource attribute.
        exporter: ``"otlp"`` (default), ``"console"``, ``"memory"`` (the in-process Recorder,
            exposed as ``Telemetry.recorder``) or ``"none"``, for all three signals.
        endpoint: the OTLP base URL; for HTTP the signal path (``/v1/traces``) is appended.
        protocol: ``"http/protobuf"`` (default) or ``"grpc"``.
        headers: OTLP headers, a mapping or ``"k=v,k2=v2"``.
        resource_attributes: extra resource attributes.
        debug: log every kind of skipped item once (``FOUNDATION_TELEMETRY_DEBUG=1``).
        set_global: make these the OpenTelemetry global providers. A later call replaces them:
            the previous providers are shut down and every tracer, meter and logger obtained
            earlier follows the new ones. ``False`` leaves the globals untouched.
        shutdown_timeout: the total time budget, in seconds, of ``shutdown()`` for all signals,
            and of the exit sequence for these providers (with ``set_global=False`` too).
        export_timeout: the most seconds one export may take, for every exporter, including
            those inside ``span_processors``, ``log_processors`` and ``metric_readers`` (each is
            put behind its defensive wrapper and its losses are counted). Default:
            ``OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT``, else 10 s. OTLP exporters also get it as
            their own ``timeout``.
        span_processors: extra span processors, added as given (each behind the defensive layer).
        span_exporters: extra span exporters, each behind its own batch processor.
        metric_readers: extra metric readers, such as a ``TelemetryService``.
        metric_exporters: extra metric exporters, each behind a periodic reader.
        log_processors: extra log record processors, added as given.
        log_exporters: extra log record exporters, each behind its own batch processor.
        logging_bridge: also send stdlib ``logging`` records through the log pipeline.
        service: a ``foundation_telemetry.service.TelemetryService`` (any ``MetricReader``),
            added to the metric readers.
        runtime_metrics: observe process CPU, memory, GC and threads on the meter provider
            (needs the ``service`` extra: ``opentelemetry-instrumentation-system-metrics``).

    Raises:
        ValueError: a setting (argument or variable) is invalid; the message names it and
            the accepted values.
        RuntimeError: ``set_global=True`` but other code already set an OpenTelemetry global
            provider, which OpenTelemetry never allows to be replaced.

    .. versionadded:: 0.1.0
    """
    settings = resolve_settings(
        service_name=service_name,
        exporter=exporter,
        endpoint=endpoint,
        protocol=protocol,
        headers=headers,
        resource_attributes=resource_attributes,
        debug=debug,
        shutdown_timeout=shutdown_timeout,
        export_timeout=export_timeout,
    )
    set_debug(settings.debug)  # configure(debug=False) also turns off a mode the variable set
    if set_global:
        _globals.install()  # fail before building anything if the globals are taken

    resource = _build_resource(settings)
    recorder: Recorder | None = None
    wants_memory = any(
        "memory" in settings.signal(s).exporters for s in ("traces", "metrics", "logs")
    )
    if wants_memory:
        recorder = Recorder()
    if service is not None:
        metric_readers = (*metric_readers, service)
    if settings.disabled:
        span_processors, span_exporters, metric_readers, metric_exporters = (), (), (), ()
        log_processors, log_exporters = (), ()

    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    built_span_processors = _pipelines.span_processors(
        settings, recorder, span_processors, span_exporters
    )
    for span_processor in built_span_processors:
        tracer_provider.add_span_processor(span_processor)
    adopt_components(tracer_provider, built_span_processors)

    built_readers = _pipelines.metric_readers(settings, metric_readers, metric_exporters)
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=built_readers,
        shutdown_on_exit=False,
        exemplar_filter=capture_through_readers(built_readers),
    )
    adopt_components(meter_provider, built_readers)
    if runtime_metrics and not settings.disabled:
        from ._runtime_metrics import enable_runtime_metrics

        enable_runtime_metrics(meter_provider)

    logger_provider = LoggerProvider(
        resource=resource, shutdown_on_exit=False, meter_provider=meter_provider
    )
    built_log_processors = _pipelines.log_processors(
        settings, recorder, log_processors, log_exporters
    )
    for log_processor in built_log_processors:
        logger_provider.add_log_record_processor(log_processor)
    adopt_components(logger_provider, built_log_processors)
    # Our diagnostics and the skip metric belong to this pipeline, not to every wrapped provider.
    guard_sdk_diagnostics()
    skips = PipelineSkips()
    skips.adopt([*built_span_processors, *built_readers, *built_log_processors])
    install_skip_metric(meter_provider, skips)

    logging_handler: logging.Handler | None = None
    if logging_bridge:
        logging_handler = DefensiveLoggingHandler(logger_provider=logger_provider)
        logging.getLogger().addHandler(logging_handler)

    telemetry = Telemetry(
        settings=settings,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        recorder=recorder,
        logging_handler=logging_handler,
        is_global=set_global,
    )
    if recorder is not None and "memory" in settings.metrics.exporters:
        recorder.attach(meter_provider=meter_provider)
    notify_configured(telemetry)  # session recorders (the test fixture) follow along
    register_telemetry(telemetry)  # the exit sequence honours its shutdown_timeout
    if set_global:
        with _CONFIG.active_lock:
            previous, _CONFIG.active = current(), telemetry
        _globals.rebind(tracer_provider, meter_provider, logger_provider)
        set_global_pipeline(skips)
        register_for_exit(telemetry)
        if previous is not None:
            telemetry.replaced = previous
            previous.is_global = False
            previous.shutdown()
            _logger.info(
                "configure() was called again: the previous %r was shut down and the global "
                "providers now point at %r.",
                previous,
                telemetry,
            )
    return telemetry


def shutdown(timeout: float | None = None) -> bool:
    """Shut down the global ``Telemetry`` (see :meth:`Telemetry.shutdown`); ``True`` if none."""
    active = current()
    return True if active is None else active.shutdown(timeout)


def force_flush(timeout: float | None = None) -> bool:
    """Flush the global ``Telemetry`` (see :meth:`Telemetry.force_flush`); ``True`` if none."""
    active = current()
    return True if active is None else active.force_flush(timeout)
