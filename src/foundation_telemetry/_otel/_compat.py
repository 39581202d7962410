"""One home for the differences between OpenTelemetry SDK releases.

Tested releases: opentelemetry-sdk (and -api, -exporter-otlp, -proto) 1.43 and 1.45 — the whole
suite runs on 1.45 (``make test``) and on 1.43 (``make test-compat``); 1.44 lies between them
and is covered by the feature checks below. ``pyproject.toml`` caps the range at ``<1.46``, the
next minor release nobody has run the suite on. The floor is 1.43 because the package relies on
two SDK hooks that have no public replacement: ``MetricReader._set_meter_provider`` (1.41; the
service reader and the ``foundation.telemetry.skipped`` metric find their provider through it)
and ``MeasurementConsumer.add_metric_reader`` (1.43; a forked child starts with fresh metric
state). SDK 1.41 also records its own ``otel.sdk.*`` metrics into the application's provider
unconditionally (opt-in since 1.42), which every metric query and recorder would see. Every
touch of a private SDK name is in :mod:`._internals`, each with a canary test
(``tests/otel/test_internals.py``) that names the SDK version when it breaks.

The logs API (``opentelemetry._logs``), the logs SDK (``opentelemetry.sdk._logs``) and the OTLP
log exporters (``..._log_exporter``) still live in underscored modules, and their types moved
between releases (``LogData`` became ``ReadWriteLogRecord`` in 1.39, when the exporter types
gained their ``LogRecord`` names). Everything else in the package imports these names from
here, so a future SDK change is fixed in one place. Differences inside the range are detected
by feature, never by version number: ``InMemoryLogRecordExporter.force_flush`` (1.44) is
backfilled, log exporters written before ``force_flush`` joined the ``LogRecordExporter``
interface (1.44) flush through :func:`flush_log_exporter`, API loggers and SDK log processors
answer ``enabled`` (1.45) through :func:`log_enabled`, and :data:`ATTRIBUTES_KEEP_BYTES` tells
whether the API keeps ``bytes`` attribute values (1.45) or decodes them to ``str``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from opentelemetry import _logs as _api_logs
from opentelemetry._logs import Logger as APILogger
from opentelemetry._logs import LoggerProvider as APILoggerProvider
from opentelemetry._logs import NoOpLogger, NoOpLoggerProvider
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
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
from opentelemetry.sdk.resources import Resource

__all__ = [
    "ATTRIBUTES_KEEP_BYTES",
    "APILogger",
    "APILoggerProvider",
    "BatchLogRecordProcessor",
    "ConsoleLogRecordExporter",
    "InMemoryLogRecordExporter",
    "LogRecordExportResult",
    "LogRecordExporter",
    "LogRecordProcessor",
    "LoggerProvider",
    "LoggingHandler",
    "NoOpLoggerProvider",
    "ReadWriteLogRecord",
    "ReadableLogRecord",
    "SimpleLogRecordProcessor",
    "api_log_record",
    "event_name_of",
    "flush_log_exporter",
    "get_logger_provider",
    "log_enabled",
    "otlp_log_exporter",
    "readable_log_record",
    "set_logger_provider",
]

#: The logs API's global provider (the logs API is ``opentelemetry._logs`` in every release).
get_logger_provider = _api_logs.get_logger_provider
set_logger_provider = _api_logs.set_logger_provider

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


def readable_log_record(item: ReadWriteLogRecord) -> ReadableLogRecord:
    """Snapshot *item* for a batch queue, as the SDK's ``BatchLogRecordProcessor.on_emit`` does.

    The queued record no longer changes when a later processor mutates the original, and (as
    since SDK 1.45) it does not keep the emitting context alive while it waits for export.
    """
    api_record = copy.copy(item.log_record)
    api_record.context = Context()
    return ReadableLogRecord(
        log_record=api_record,
        resource=item.resource if item.resource is not None else Resource.create({}),
        instrumentation_scope=item.instrumentation_scope,
        limits=item.limits,
    )


def api_log_record(item: ReadableLogRecord | ReadWriteLogRecord) -> Any:
    """Return the API-level ``LogRecord`` carried by an SDK log item (body, attributes, ids)."""
    return item.log_record


def event_name_of(item: ReadableLogRecord | ReadWriteLogRecord) -> str | None:
    """Return the ``event_name`` of a log item, or ``None`` for a plain log record."""
    return getattr(item.log_record, "event_name", None)


def otlp_log_exporter(protocol: str, **kwargs: Any) -> LogRecordExporter:
    """Build the OTLP log exporter for *protocol* (``"grpc"`` or ``"http/protobuf"``).

    The OTLP packages publish their log exporters only in ``_log_exporter`` modules; they are
    imported here, on first use, so gRPC is loaded only when it is asked for.
    """
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        return OTLPLogExporter(**kwargs)
    from opentelemetry.exporter.otlp.proto.http._log_exporter import (
        OTLPLogExporter as HTTPLogExporter,
    )

    return HTTPLogExporter(**kwargs)
