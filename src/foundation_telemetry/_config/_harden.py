"""``harden()``: the defensive layer for tracer, meter and logger providers the user built.

Many applications build their own providers. ``harden()`` puts every component they already
hold behind the matching wrapper (and the exporter inside each stock processor or periodic reader,
with the export time bound), makes the providers wrap what is added to them later, guards
``get_tracer`` / ``get_meter`` / ``get_logger`` so a lookup at interpreter teardown yields a no-op
instead of a traceback, removes the SDK's own ``shutdown_on_exit`` hooks and registers the
providers with the one shutdown coordinator, which shuts them down at exit within their budget,
together with everything else. The SDK's private lists it rewrites are touched in ``_otel``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.metrics import NoOpMeter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from .. import _state
from .._otel import _internals
from .._otel._compat import LoggerProvider, NoOpLoggerProvider
from ..defensive import set_debug
from ..defensive._adopt import guard_processor, guard_reader
from ..defensive._debug import guard_sdk_diagnostics
from ..defensive._policy import contain
from ..defensive._shutdown import adopt_components, register_telemetry
from ._configure import Telemetry
from ._settings import resolve_settings

__all__ = ["harden"]

_SHUTDOWN: Final = _state.shutdown  # its ``adopted`` field tells providers already hardened


def _guard_lookup(provider: Any, method: str, fallback: Callable[..., Any]) -> None:
    """Make ``provider.<method>`` return *fallback(...)* instead of raising (teardown)."""
    original = getattr(provider, method)
    component = f"{type(provider).__name__}.{method}"

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        except BaseException as error:
            if contain(component, error, item=str(args[0]) if args else method):
                raise
            return fallback(*args, **kwargs)

    setattr(provider, method, guarded)


def _wrap_additions(provider: Any, method: str, guard: Callable[[Any], Any]) -> None:
    """Make ``provider.<method>(component)`` add *guard(component)* instead (and adopt it)."""
    original = getattr(provider, method, None)
    if original is None:
        return

    @functools.wraps(original)
    def add(component: Any, *args: Any, **kwargs: Any) -> Any:
        guarded = guard(component)
        adopt_components(provider, [guarded])
        return original(guarded, *args, **kwargs)

    setattr(provider, method, add)


def _harden_tracing(provider: TracerProvider, timeout: float) -> None:
    processors = tuple(guard_processor(p, timeout) for p in _internals.span_processors_of(provider))
    _internals.set_span_processors(provider, processors)
    adopt_components(provider, processors)
    _wrap_additions(provider, "add_span_processor", lambda p: guard_processor(p, timeout))
    _guard_lookup(provider, "get_tracer", lambda *a, **k: trace.NoOpTracer())


def _harden_logs(provider: LoggerProvider, timeout: float) -> None:
    processors = tuple(
        guard_processor(p, timeout) for p in _internals.log_record_processors_of(provider)
    )
    _internals.set_log_record_processors(provider, processors)
    adopt_components(provider, processors)
    _wrap_additions(provider, "add_log_record_processor", lambda p: guard_processor(p, timeout))
    _guard_lookup(
        provider, "get_logger", lambda name, *a, **k: NoOpLoggerProvider().get_logger(name)
    )


def _harden_metrics(provider: MeterProvider, timeout: float) -> None:
    readers = []
    for reader in _internals.metric_readers_of(provider):
        guarded = guard_reader(reader, timeout)
        if guarded is not reader:
            _internals.swap_metric_reader(provider, reader, guarded)
        readers.append(guarded)
    adopt_components(provider, readers)
    _wrap_additions(provider, "add_metric_reader", lambda r: guard_reader(r, timeout))
    _guard_lookup(provider, "get_meter", lambda name, *a, **k: NoOpMeter(name))


def _check(value: object, kind: type, argument: str) -> None:
    if value is not None and not isinstance(value, kind):
        msg = (
            f"`{argument}` must be an OpenTelemetry SDK {kind.__name__} or None, "
            f"got {type(value).__name__}."
        )
        raise TypeError(msg)


def harden(
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: LoggerProvider | None = None,
    *,
    shutdown_timeout: float = 3.0,
    export_timeout: float | None = None,
) -> Telemetry:
    """Put the defensive layer around providers you built yourself; return their ``Telemetry``.

    Every processor, reader and exporter the providers hold now, and every one added to them
    later, goes behind its defensive wrapper (exporters bounded by *export_timeout*, their losses
    counted). ``get_tracer``, ``get_meter`` and ``get_logger`` never raise (at interpreter
    teardown they return a no-op). The SDK's ``shutdown_on_exit`` hooks are removed: the providers
    are shut down at exit by the one shutdown coordinator, all signals at once, within
    *shutdown_timeout*, together with every other ``Telemetry``. Calling it again on the same
    providers changes nothing.

    Args:
        tracer_provider: An SDK ``TracerProvider`` to harden, or ``None``.
        meter_provider: An SDK ``MeterProvider`` to harden, or ``None``.
        logger_provider: An SDK ``LoggerProvider`` to harden, or ``None``.
        shutdown_timeout: Seconds that ``Telemetry.shutdown()`` and the exit sequence may take
            for these providers in total.
        export_timeout: The most seconds one export may take. Default:
            ``OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT``, else 10 s.

    Returns:
        A ``Telemetry`` for the providers (``is_global`` is ``False``); a provider not given is
        an empty one with nothing to export, so the attributes keep their types.

    Raises:
        TypeError: an argument is not an SDK provider of its kind.
        ValueError: *shutdown_timeout* or *export_timeout* is not a positive number.

    .. versionadded:: 0.1.0
    """
    _check(tracer_provider, TracerProvider, "tracer_provider")
    _check(meter_provider, MeterProvider, "meter_provider")
    _check(logger_provider, LoggerProvider, "logger_provider")
    settings = resolve_settings(
        service_name=None,
        exporter="none",
        endpoint=None,
        protocol=None,
        headers=None,
        resource_attributes=None,
        debug=None,
        shutdown_timeout=shutdown_timeout,
        export_timeout=export_timeout,
    )
    if settings.debug:
        set_debug(True)
    empty = Resource.get_empty()
    if tracer_provider is None:
        tracer_provider = TracerProvider(resource=empty, shutdown_on_exit=False)
    elif tracer_provider not in _SHUTDOWN.adopted:
        _harden_tracing(tracer_provider, settings.traces.export_timeout)
    if meter_provider is None:
        meter_provider = MeterProvider(resource=empty, shutdown_on_exit=False)
    elif meter_provider not in _SHUTDOWN.adopted:
        _harden_metrics(meter_provider, settings.metrics.export_timeout)
    if logger_provider is None:
        logger_provider = LoggerProvider(resource=empty, shutdown_on_exit=False)
    elif logger_provider not in _SHUTDOWN.adopted:
        _harden_logs(logger_provider, settings.logs.export_timeout)
    for provider in (tracer_provider, meter_provider, logger_provider):
        _internals.remove_exit_hook(provider)
    telemetry = Telemetry(
        settings=settings,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        recorder=None,
        logging_handler=None,
        is_global=False,
    )
    guard_sdk_diagnostics()  # our diagnostics belong to the pipelines harden() builds
    register_telemetry(telemetry)
    return telemetry
