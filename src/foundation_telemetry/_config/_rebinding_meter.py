"""The meter behind the global rebinding MeterProvider, and the proxy instruments it hands out.

:class:`RebindingMeter` implements the public ``opentelemetry.metrics.Meter`` interface. Every
instrument it creates is one of our proxy instruments, which forwards each measurement to a real
instrument of the current provider and gets a new real instrument each time
:meth:`RebindingMeter.bind` is called with another provider. So an instrument created at import
time, before any ``configure()``, records into whatever provider the globals point at now.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any, Generic, TypeVar

from opentelemetry.context import Context
from opentelemetry.metrics import (
    CallbackOptions,
    CallbackT,
    Counter,
    Histogram,
    Instrument,
    Meter,
    MeterProvider,
    NoOpMeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    Observation,
    UpDownCounter,
)
from opentelemetry.util.types import Attributes

from .._otel._internals import APIGauge

__all__ = ["RebindingMeter"]

InstrumentT = TypeVar("InstrumentT", bound=Instrument)
ProxyT = TypeVar("ProxyT", bound="_Proxy[Any]")
_NO_OP_METER = NoOpMeterProvider().get_meter("foundation_telemetry.unbound")


class _Proxy(Generic[InstrumentT]):
    """What every proxy instrument shares: its creation arguments and its current real instrument.

    Each proxy keeps its meter alive: a module that kept only ``counter = get_meter(...)
    .create_counter(...)`` must still be re-bound, and the provider holds meters weakly.
    """

    _real: InstrumentT

    def _init_proxy(self, meter: RebindingMeter, name: str, unit: str, description: str) -> None:
        self._meter = meter
        self._name = name
        self._unit = unit
        self._description = description

    def bind(self, meter: Meter) -> None:
        """Replace the real instrument by one created on *meter*."""
        self._real = self._create_real(meter)

    def _create_real(self, meter: Meter) -> InstrumentT:
        raise NotImplementedError


class _ProxyCounter(_Proxy[Counter], Counter):
    def __init__(self, meter: RebindingMeter, name: str, unit: str, description: str) -> None:
        self._init_proxy(meter, name, unit, description)

    def _create_real(self, meter: Meter) -> Counter:
        return meter.create_counter(self._name, self._unit, self._description)

    def add(
        self, amount: float, attributes: Attributes = None, context: Context | None = None
    ) -> None:
        """Add *amount* on the current provider's counter."""
        self._real.add(amount, attributes, context)


class _ProxyUpDownCounter(_Proxy[UpDownCounter], UpDownCounter):
    def __init__(self, meter: RebindingMeter, name: str, unit: str, description: str) -> None:
        self._init_proxy(meter, name, unit, description)

    def _create_real(self, meter: Meter) -> UpDownCounter:
        return meter.create_up_down_counter(self._name, self._unit, self._description)

    def add(
        self, amount: float, attributes: Attributes = None, context: Context | None = None
    ) -> None:
        """Add *amount* on the current provider's up-down counter."""
        self._real.add(amount, attributes, context)


class _ProxyHistogram(_Proxy[Histogram], Histogram):
    def __init__(
        self,
        meter: RebindingMeter,
        name: str,
        unit: str,
        description: str,
        boundaries: Sequence[float] | None,
    ) -> None:
        self._init_proxy(meter, name, unit, description)
        self._boundaries = boundaries

    def _create_real(self, meter: Meter) -> Histogram:
        return meter.create_histogram(
            self._name,
            self._unit,
            self._description,
            explicit_bucket_boundaries_advisory=self._boundaries,
        )

    def record(
        self, amount: float, attributes: Attributes = None, context: Context | None = None
    ) -> None:
        """Record *amount* on the current provider's histogram."""
        self._real.record(amount, attributes, context)


class _ProxyGauge(_Proxy[APIGauge], APIGauge):
    def __init__(self, meter: RebindingMeter, name: str, unit: str, description: str) -> None:
        self._init_proxy(meter, name, unit, description)

    def _create_real(self, meter: Meter) -> APIGauge:
        return meter.create_gauge(self._name, self._unit, self._description)

    def set(
        self, amount: float, attributes: Attributes = None, context: Context | None = None
    ) -> None:
        """Set *amount* on the current provider's gauge."""
        self._real.set(amount, attributes, context)


Callback = Callable[[CallbackOptions], Iterable[Observation]]


def _plain_callbacks(callbacks: Sequence[CallbackT] | None) -> list[Callback]:
    """Turn generator callbacks into plain ones once, so each re-bind reuses the same callable.

    The SDK primes a generator callback with ``next()`` when the instrument is created; handing
    the same generator to a second provider would advance it again.
    """
    plain: list[Callback] = []
    for callback in callbacks or ():
        if isinstance(callback, Generator):
            plain.append(_generator_callback(callback))
        else:
            plain.append(callback)
    return plain


def _generator_callback(
    generator: Generator[Iterable[Observation], CallbackOptions, None],
) -> Callback:
    next(generator)

    def observe(options: CallbackOptions) -> Iterable[Observation]:
        try:
            return generator.send(options)
        except StopIteration:
            return []

    return observe


class _ProxyObservable(_Proxy[InstrumentT]):
    """An observable proxy: the same callbacks are registered with each new real instrument."""

    def __init__(
        self,
        meter: RebindingMeter,
        name: str,
        callbacks: Sequence[CallbackT] | None,
        unit: str,
        description: str,
    ) -> None:
        self._init_proxy(meter, name, unit, description)
        self._callbacks = _plain_callbacks(callbacks)


class _ProxyObservableCounter(_ProxyObservable[ObservableCounter], ObservableCounter):
    def _create_real(self, meter: Meter) -> ObservableCounter:
        return meter.create_observable_counter(
            self._name, self._callbacks, self._unit, self._description
        )


class _ProxyObservableUpDownCounter(
    _ProxyObservable[ObservableUpDownCounter], ObservableUpDownCounter
):
    def _create_real(self, meter: Meter) -> ObservableUpDownCounter:
        return meter.create_observable_up_down_counter(
            self._name, self._callbacks, self._unit, self._description
        )


class _ProxyObservableGauge(_ProxyObservable[ObservableGauge], ObservableGauge):
    def _create_real(self, meter: Meter) -> ObservableGauge:
        return meter.create_observable_gauge(
            self._name, self._callbacks, self._unit, self._description
        )


class RebindingMeter(Meter):
    """A meter whose instruments re-bind each time :meth:`bind` is called with a new provider."""

    def __init__(self, name: str, version: str | None, schema_url: str | None) -> None:
        super().__init__(name, version=version, schema_url=schema_url)
        self._lock = threading.Lock()
        self._instruments: list[_Proxy[Any]] = []
        self._real_meter: Meter = _NO_OP_METER

    def bind(self, meter_provider: MeterProvider) -> None:
        """Back every instrument handed out so far by a real instrument of *meter_provider*."""
        real_meter = meter_provider.get_meter(self.name, self.version, self.schema_url)
        with self._lock:
            self._real_meter = real_meter
            for instrument in self._instruments:
                instrument.bind(real_meter)

    def _adopt(self, instrument: ProxyT) -> ProxyT:
        with self._lock:
            instrument.bind(self._real_meter)
            self._instruments.append(instrument)
        return instrument

    def create_counter(self, name: str, unit: str = "", description: str = "") -> Counter:
        """Create a counter that follows every provider change."""
        return self._adopt(_ProxyCounter(self, name, unit, description))

    def create_up_down_counter(
        self, name: str, unit: str = "", description: str = ""
    ) -> UpDownCounter:
        """Create an up-down counter that follows every provider change."""
        return self._adopt(_ProxyUpDownCounter(self, name, unit, description))

    def create_histogram(
        self,
        name: str,
        unit: str = "",
        description: str = "",
        *,
        explicit_bucket_boundaries_advisory: Sequence[float] | None = None,
    ) -> Histogram:
        """Create a histogram that follows every provider change."""
        proxy = _ProxyHistogram(self, name, unit, description, explicit_bucket_boundaries_advisory)
        return self._adopt(proxy)

    def create_gauge(self, name: str, unit: str = "", description: str = "") -> APIGauge:
        """Create a gauge that follows every provider change."""
        return self._adopt(_ProxyGauge(self, name, unit, description))

    def create_observable_counter(
        self,
        name: str,
        callbacks: Sequence[CallbackT] | None = None,
        unit: str = "",
        description: str = "",
    ) -> ObservableCounter:
        """Create an observable counter whose callbacks follow every provider change."""
        proxy = _ProxyObservableCounter(self, name, callbacks, unit, description)
        return self._adopt(proxy)

    def create_observable_up_down_counter(
        self,
        name: str,
        callbacks: Sequence[CallbackT] | None = None,
        unit: str = "",
        description: str = "",
    ) -> ObservableUpDownCounter:
        """Create an observable up-down counter whose callbacks follow every provider change."""
        proxy = _ProxyObservableUpDownCounter(self, name, callbacks, unit, description)
        return self._adopt(proxy)

    def create_observable_gauge(
        self,
        name: str,
        callbacks: Sequence[CallbackT] | None = None,
        unit: str = "",
        description: str = "",
    ) -> ObservableGauge:
        """Create an observable gauge whose callbacks follow every provider change."""
        proxy = _ProxyObservableGauge(self, name, callbacks, unit, description)
        return self._adopt(proxy)
