"""Rebinding global providers: install once, point at new providers as often as needed.

OpenTelemetry lets the global tracer, meter and logger providers be set exactly once; a second
``set_*_provider`` is ignored with a warning, and tracers or instruments that modules obtained at
import time stay bound to whatever provider they first resolved. That is the trap behind stale
module-level tracers in test suites and behind a silently ignored second ``configure()``.

This module installs, the first time it is needed, one proxy provider per signal as the OTel
global. Every tracer, meter, instrument and logger handed out through them resolves its real
counterpart lazily and re-resolves it when :func:`rebind` points the proxies at new providers, so
code that grabbed ``trace.get_tracer(__name__)`` at import follows every later ``configure()``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from opentelemetry import metrics, trace
from opentelemetry.metrics import Meter, MeterProvider, NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider, Span, Tracer, TracerProvider
from opentelemetry.util.types import Attributes

from .. import _state
from .._otel import _compat, _internals
from .._otel._compat import APILogger, APILoggerProvider, NoOpLoggerProvider
from ..defensive._policy import contain
from ._rebinding_meter import RebindingMeter

__all__ = [
    "GlobalProxies",
    "are_the_globals",
    "global_providers",
    "install",
    "installed",
    "proxies",
    "rebind",
]


class _Generation:
    """A provider slot that proxies re-resolve against when its generation changes."""

    __slots__ = ("delegate", "number", "tracers")

    def __init__(self, delegate: Any) -> None:
        self.delegate = delegate
        self.number = 0
        self.tracers: weakref.WeakSet[_RebindingTracer] = weakref.WeakSet()
        """Every tracer handed out: each forgets its resolved methods on a rebind."""


class RebindingTracerProvider(TracerProvider):
    """The global TracerProvider: hands out tracers that follow every rebind."""

    def __init__(self) -> None:
        self._slot = _Generation(NoOpTracerProvider())

    @property
    def delegate(self) -> TracerProvider:
        """The provider tracers currently resolve against."""
        return self._slot.delegate  # type: ignore[no-any-return]

    def set_delegate(self, provider: TracerProvider) -> None:
        """Point every tracer handed out so far (and later) at *provider*."""
        slot = self._slot
        slot.delegate = provider
        slot.number += 1
        for tracer in list(slot.tracers):
            tracer.forget()

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> Tracer:
        """Return a tracer that resolves against the current delegate on each use."""
        return _RebindingTracer(
            self._slot,
            (instrumenting_module_name, instrumenting_library_version, schema_url, attributes),
        )


class _RebindingTracer(Tracer):
    """A tracer that starts spans on the current provider's tracer.

    The first call after a (re)bind resolves the real tracer and stores its bound ``start_span``
    and ``start_as_current_span`` on the instance, where they shadow the methods below: later
    calls go straight to the real tracer, with no proxy frame, until the next rebind makes the
    instance forget them. (No ``__slots__``: the instance dictionary is what shadows.)
    """

    def __init__(self, slot: _Generation, args: tuple[Any, ...]) -> None:
        self._slot = slot
        self._args = args
        self._number = -1
        self._tracer: Tracer = trace.NoOpTracer()
        slot.tracers.add(self)

    def _real(self) -> Tracer:
        slot = self._slot
        number = slot.number
        if self._number != number:
            tracer = slot.delegate.get_tracer(*self._args)
            self._tracer = tracer
            self._number = number
            self.__dict__["start_span"] = tracer.start_span
            self.__dict__["start_as_current_span"] = tracer.start_as_current_span
            if slot.number != number:  # rebound meanwhile: its forget() may have run before ours
                self.forget()
        return self._tracer

    def forget(self) -> None:
        """Drop the resolved methods: the next call resolves against the new delegate."""
        self.__dict__.pop("start_span", None)
        self.__dict__.pop("start_as_current_span", None)

    def start_span(self, *args: Any, **kwargs: Any) -> Span:
        """Start a span on the current real tracer (a non-recording one if that fails)."""
        try:
            return self._real().start_span(*args, **kwargs)
        except BaseException as error:
            if contain(_TRACER_COMPONENT, error, item=_span_name(args, kwargs)):
                raise
            return trace.INVALID_SPAN

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        """Start a current span on the current real tracer (a no-op one if that fails)."""
        try:
            return self._real().start_as_current_span(*args, **kwargs)
        except BaseException as error:
            if contain(_TRACER_COMPONENT, error, item=_span_name(args, kwargs)):
                raise
            return _NO_OP_TRACER.start_as_current_span(*args, **kwargs)


# At interpreter teardown the real tracer can fail to resolve or start ("sys.meta_path is None"):
# the span is dropped and counted under this name instead of a traceback from ``__del__``.
_TRACER_COMPONENT: Final = "GlobalTracer"
_LOGGER_COMPONENT: Final = "GlobalLogger"
_NO_OP_TRACER: Final = trace.NoOpTracer()


def _span_name(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return str(args[0] if args else kwargs.get("name", "?"))


class RebindingMeterProvider(MeterProvider):
    """The global MeterProvider: meters and their instruments follow every rebind."""

    def __init__(self) -> None:
        self._delegate: MeterProvider = NoOpMeterProvider()
        self._meters: weakref.WeakSet[RebindingMeter] = weakref.WeakSet()
        self._lock = threading.Lock()

    @property
    def delegate(self) -> MeterProvider:
        """The provider instruments currently record into."""
        return self._delegate

    def set_delegate(self, provider: MeterProvider) -> None:
        """Re-create the real backing instrument of every instrument handed out so far."""
        with self._lock:
            self._delegate = provider
            meters = list(self._meters)
        for meter in meters:
            meter.bind(provider)

    def get_meter(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> Meter:
        """Return a meter whose instruments re-bind when the delegate changes."""
        meter = RebindingMeter(name, version, schema_url)
        with self._lock:
            self._meters.add(meter)
            delegate = self._delegate
        meter.bind(delegate)
        return meter


class RebindingLoggerProvider(APILoggerProvider):
    """The global LoggerProvider: loggers resolve against the current delegate on each use."""

    def __init__(self) -> None:
        self._slot = _Generation(NoOpLoggerProvider())

    @property
    def delegate(self) -> APILoggerProvider:
        """The provider loggers currently emit into."""
        return self._slot.delegate  # type: ignore[no-any-return]

    def set_delegate(self, provider: APILoggerProvider) -> None:
        """Point every logger handed out so far (and later) at *provider*."""
        slot = self._slot
        slot.delegate = provider
        slot.number += 1
        for tracer in list(slot.tracers):
            tracer.forget()

    def get_logger(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> APILogger:
        """Return a logger that resolves against the current delegate on each use."""
        return _RebindingLogger(self._slot, (name, version, schema_url, attributes))


class _RebindingLogger(APILogger):
    def __init__(self, slot: _Generation, args: tuple[Any, ...]) -> None:
        super().__init__(args[0], args[1], args[2], args[3])
        self._slot = slot
        self._args = args
        self._number = -1
        self._logger: APILogger = NoOpLoggerProvider().get_logger(args[0])

    def _real(self) -> APILogger:
        slot = self._slot
        if self._number != slot.number:
            self._logger = slot.delegate.get_logger(*self._args)
            self._number = slot.number
        return self._logger

    def emit(self, *args: Any, **kwargs: Any) -> None:
        """Emit on the current real logger (dropped and counted if that fails at teardown)."""
        try:
            self._real().emit(*args, **kwargs)
        except BaseException as error:
            if contain(_LOGGER_COMPONENT, error, item="emit"):
                raise

    def enabled(self, *args: Any, **kwargs: Any) -> bool:
        """Ask the current real logger whether it would record."""
        try:
            return _compat.log_enabled(self._real(), *args, **kwargs)
        except BaseException as error:
            if contain(_LOGGER_COMPONENT, error, item="enabled"):
                raise
            return False


class GlobalProxies:
    """The three rebinding providers installed as the OpenTelemetry globals."""

    def __init__(self) -> None:
        self.tracer_provider = RebindingTracerProvider()
        self.meter_provider = RebindingMeterProvider()
        self.logger_provider = RebindingLoggerProvider()


_PROXIES: Final = _state.proxies  # the installed proxies live in _state.proxies.installed


def installed() -> bool:
    """Whether our proxies are the OpenTelemetry globals."""
    return _PROXIES.installed is not None


def proxies() -> GlobalProxies | None:
    """Return the installed proxies, or ``None`` before :func:`install`."""
    return cast("GlobalProxies | None", _PROXIES.installed)


@dataclass(frozen=True, slots=True)
class _Slot:
    """One OpenTelemetry global provider: how to read it, set it, and tell the placeholder."""

    field: str  # the GlobalProxies attribute that fills it
    get: Callable[[], Any]
    set: Callable[[Any], None]
    is_placeholder: Callable[[Any], bool]


_SLOTS: Final = (
    _Slot(
        "tracer_provider",
        trace.get_tracer_provider,
        trace.set_tracer_provider,
        lambda provider: isinstance(provider, trace.ProxyTracerProvider),
    ),
    _Slot(
        "meter_provider",
        metrics.get_meter_provider,
        metrics.set_meter_provider,
        _internals.is_default_meter_provider,
    ),
    _Slot(
        "logger_provider",
        _compat.get_logger_provider,
        _compat.set_logger_provider,
        _internals.is_default_logger_provider,
    ),
)


def are_the_globals(installed: GlobalProxies) -> bool:
    """Whether *installed* are still the OTel globals (a test utility may have reset them)."""
    return all(slot.get() is getattr(installed, slot.field) for slot in _SLOTS)


def global_providers() -> tuple[Any, Any, Any]:
    """Return the OTel global tracer, meter and logger providers (for a proxy of ours, its target)."""
    installed = proxies()
    found = []
    for slot in _SLOTS:
        provider = slot.get()
        proxy = getattr(installed, slot.field, None)
        found.append(proxy.delegate if proxy is not None and provider is proxy else provider)
    tracer_provider, meter_provider, logger_provider = found
    return tracer_provider, meter_provider, logger_provider


def _reinstall_where_reset(installed: GlobalProxies) -> None:
    """Set *installed* again as each global that was reset to the API's placeholder.

    opentelemetry-test-utils resets the globals around every ``TestBase`` test (it may: it
    replaces OpenTelemetry's set-once guard); without this our proxies would stay out for good.
    """
    for slot in _SLOTS:
        provider, ours = slot.get(), getattr(installed, slot.field)
        if provider is not ours and slot.is_placeholder(provider):
            slot.set(ours)


def _foreign_globals() -> list[str]:
    foreign = []
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        foreign.append(f"TracerProvider ({type(trace.get_tracer_provider()).__name__})")
    if not _internals.is_default_meter_provider(metrics.get_meter_provider()):
        foreign.append(f"MeterProvider ({type(metrics.get_meter_provider()).__name__})")
    if not _internals.is_default_logger_provider(_compat.get_logger_provider()):
        foreign.append(f"LoggerProvider ({type(_compat.get_logger_provider()).__name__})")
    return foreign


def install() -> GlobalProxies:
    """Install the rebinding proxies as the OpenTelemetry globals (once; later calls return them).

    Raises:
        RuntimeError: another library already set an OpenTelemetry global provider, which the
            OpenTelemetry API never allows to be replaced.
    """
    with _PROXIES.install_lock:
        existing = proxies()
        if existing is not None:
            _reinstall_where_reset(existing)
            return existing
        foreign = _foreign_globals()
        if foreign:
            msg = (
                f"OpenTelemetry's global {', '.join(foreign)} was already set by other code, and "
                "OpenTelemetry never lets a global provider be replaced. Call "
                "foundation_telemetry.configure() before that code runs, or pass "
                "configure(set_global=False) and use telemetry.tracer_provider / "
                ".meter_provider / .logger_provider explicitly."
            )
            raise RuntimeError(msg)
        installing = GlobalProxies()
        trace.set_tracer_provider(installing.tracer_provider)
        metrics.set_meter_provider(installing.meter_provider)
        _compat.set_logger_provider(installing.logger_provider)
        _PROXIES.installed = installing
        return installing


def rebind(
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    logger_provider: APILoggerProvider,
) -> None:
    """Point the installed proxies at new providers (installing them first if needed)."""
    installed_proxies = install()
    installed_proxies.tracer_provider.set_delegate(tracer_provider)
    installed_proxies.meter_provider.set_delegate(meter_provider)
    installed_proxies.logger_provider.set_delegate(logger_provider)


def current_delegates() -> Sequence[Any] | None:
    """Return the providers the proxies point at, or ``None`` when not installed."""
    installed_proxies = proxies()
    if installed_proxies is None:
        return None
    return (
        installed_proxies.tracer_provider.delegate,
        installed_proxies.meter_provider.delegate,
        installed_proxies.logger_provider.delegate,
    )
