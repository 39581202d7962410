"""One home for the differences between OpenTelemetry SDK releases.

The logs SDK still lives in ``opentelemetry.sdk._logs`` and its types moved between releases
(``LogData`` became ``ReadWriteLogRecord`` in 1.39, when the exporter types gained their
``LogRecord`` names). Everything else in the package imports these names from here, so a future
SDK change is fixed in one place. Supported range: opentelemetry-sdk 1.43 to 1.45, checked by
``make test-compat`` on 1.43. The floor is 1.43 because the package relies on two SDK hooks that
have no public replacement: ``MetricReader._set_meter_provider`` (1.41; the service reader and the
``foundation.telemetry.skipped`` metric find their provider through it) and
``MeasurementConsumer.add_metric_reader`` (1.43; a forked child starts with fresh metric state).
SDK 1.41 also records its own ``otel.sdk.*`` metrics into the application's provider
unconditionally (opt-in since 1.42), which every metric query and recorder would see.
Differences inside the range are detected by feature, never by version number:
``InMemoryLogRecordExporter.force_flush`` (1.44) is backfilled, log exporters written before
``force_flush`` joined the ``LogRecordExporter`` interface (1.44) flush through
:func:`flush_log_exporter`, API loggers and SDK log processors answer ``enabled`` (1.45)
through :func:`log_enabled`, and :data:`ATTRIBUTES_KEEP_BYTES` tells whether the API keeps
``bytes`` attribute values (1.45) or decodes them to ``str``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry._logs import LoggerProvider as APILoggerProvider
from opentelemetry._logs import NoOpLogger
from opentelemetry._logs._internal import ProxyLoggerProvider
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.metrics import Meter, MeterProvider
from opentelemetry.metrics._internal import _ProxyMeter, _ProxyMeterProvider
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LoggingHandler,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    ConsoleLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter as _SDKInMemoryLogRecordExporter,
)

__all__ = [
    "ATTRIBUTES_KEEP_BYTES",
    "BatchLogRecordProcessor",
    "ConsoleLogRecordExporter",
    "InMemoryLogRecordExporter",
    "LogRecordExportResult",
    "LogRecordExporter",
    "LogRecordProcessor",
    "LoggerProvider",
    "LoggingHandler",
    "ProxyMeter",
    "ReadWriteLogRecord",
    "ReadableLogRecord",
    "SimpleLogRecordProcessor",
    "api_log_record",
    "event_name_of",
    "flush_log_exporter",
    "is_default_logger_provider",
    "is_default_meter_provider",
    "log_enabled",
    "rebinding_meter",
]

#: Whether the API keeps ``bytes`` attribute values as ``bytes`` (1.45); before that it decodes
#: them to ``str`` (and drops undecodable ones) when a span, event or metric attribute is set.
ATTRIBUTES_KEEP_BYTES: bool = isinstance(
    BoundedAttributes(attributes={"probe": b"\x00"}).get("probe"), bytes
)
_IN_MEMORY_LOG_EXPORTER_FLUSHES = callable(
    getattr(_SDKInMemoryLogRecordExporter, "force_flush", None)
)


class _InMemoryLogRecordExporterBefore144(_SDKInMemoryLogRecordExporter):
    """The SDK 1.43 in-memory log exporter, with the ``force_flush`` it gained in 1.44."""

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Nothing is buffered: every export is stored before it returns."""
        return True


# Type checkers see the newest SDK's classes; at run time an older SDK gets the backfilled ones.
if TYPE_CHECKING or _IN_MEMORY_LOG_EXPORTER_FLUSHES:
    InMemoryLogRecordExporter = _SDKInMemoryLogRecordExporter
else:
    InMemoryLogRecordExporter = _InMemoryLogRecordExporterBefore144


def flush_log_exporter(exporter: LogRecordExporter, timeout_millis: int = 30_000) -> bool:
    """Flush *exporter*; ``True`` for an exporter without ``force_flush``.

    ``LogRecordExporter.force_flush`` joined the interface in SDK 1.44. An exporter written for an
    older release (the SDK's own console and in-memory exporters of 1.43 included) offers no flush,
    so there is nothing to wait for.
    """
    flush = getattr(exporter, "force_flush", None)
    if flush is None:
        return True
    return bool(flush(timeout_millis))


def log_enabled(target: Any, *args: Any, **kwargs: Any) -> bool:
    """``target.enabled(...)`` for an API logger or SDK log processor, on SDKs without it too.

    Both gained ``enabled`` in 1.45. Before that a no-op logger records nothing and every other
    logger or processor takes every record it is given.
    """
    enabled = getattr(target, "enabled", None)
    if enabled is None:
        return not isinstance(target, NoOpLogger)
    return bool(enabled(*args, **kwargs))


def api_log_record(item: ReadableLogRecord | ReadWriteLogRecord) -> Any:
    """Return the API-level ``LogRecord`` carried by an SDK log item (body, attributes, ids)."""
    return item.log_record


def event_name_of(item: ReadableLogRecord | ReadWriteLogRecord) -> str | None:
    """Return the ``event_name`` of a log item, or ``None`` for a plain log record."""
    return getattr(item.log_record, "event_name", None)


# The API's own proxy meter resolves to real instruments once and for all; ours keeps handing out
# proxy instruments and re-creates their backing instrument on every provider change. The private
# API classes are used here and nowhere else.
class ProxyMeter(_ProxyMeter):
    """A meter whose instruments re-bind each time ``on_set_meter_provider`` is called."""

    def __init__(self, name: str, version: str | None, schema_url: str | None) -> None:
        super().__init__(name, version=version, schema_url=schema_url)
        self._instruments = _BindingInstrumentList(self)
        self._current_meter: Meter | None = None

    def on_set_meter_provider(self, meter_provider: MeterProvider) -> None:
        """Back every instrument handed out so far by a real instrument of *meter_provider*."""
        real_meter = meter_provider.get_meter(self._name, self._version, self._schema_url)
        with self._lock:
            self._current_meter = real_meter
            for instrument in self._instruments:
                instrument.on_meter_set(real_meter)


class _BindingInstrumentList(list[Any]):
    """Binds each proxy instrument to the meter's current real meter as it is created."""

    def __init__(self, meter: ProxyMeter) -> None:
        super().__init__()
        self._meter = meter

    def append(self, instrument: Any) -> None:
        super().append(instrument)
        current: Meter | None = getattr(self._meter, "_current_meter", None)
        if current is not None:
            instrument.on_meter_set(current)


def rebinding_meter(name: str, version: str | None, schema_url: str | None) -> ProxyMeter:
    """Create a meter whose instruments follow provider changes."""
    return ProxyMeter(name, version, schema_url)


def is_default_meter_provider(provider: MeterProvider) -> bool:
    """Whether *provider* is the API's placeholder (no global MeterProvider set yet)."""
    return isinstance(provider, _ProxyMeterProvider)


def is_default_logger_provider(provider: APILoggerProvider) -> bool:
    """Whether *provider* is the API's placeholder (no global LoggerProvider set yet)."""
    return isinstance(provider, ProxyLoggerProvider)
