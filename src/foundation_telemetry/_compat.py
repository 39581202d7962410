"""One home for the differences between OpenTelemetry SDK releases.

The logs SDK still lives in ``opentelemetry.sdk._logs`` and its types moved between releases
(``LogData`` became ``ReadWriteLogRecord`` in 1.39; exporter results were renamed to
``LogRecordExportResult``). Everything else in the package imports these names from here, so a
future SDK change is fixed in one place. Supported range: opentelemetry-sdk 1.39 to 1.45.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk._logs import (
    LoggerProvider,
    LoggingHandler,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    SimpleLogRecordProcessor,
)

try:  # 1.40+: the "LogRecord"-prefixed names; older releases only have the short ones.
    from opentelemetry.sdk._logs.export import (
        ConsoleLogRecordExporter as ConsoleLogRecordExporter,
    )
    from opentelemetry.sdk._logs.export import (
        InMemoryLogRecordExporter as InMemoryLogRecordExporter,
    )
    from opentelemetry.sdk._logs.export import (
        LogRecordExporter as LogRecordExporter,
    )
    from opentelemetry.sdk._logs.export import (
        LogRecordExportResult as LogRecordExportResult,
    )
except ImportError:  # pragma: no cover - exercised only on older SDKs
    from opentelemetry.sdk._logs.export import (  # type: ignore[attr-defined,no-redef]
        ConsoleLogExporter as ConsoleLogRecordExporter,
    )
    from opentelemetry.sdk._logs.export import (  # type: ignore[attr-defined,no-redef]
        InMemoryLogExporter as InMemoryLogRecordExporter,
    )
    from opentelemetry.sdk._logs.export import (  # type: ignore[attr-defined,no-redef]
        LogExporter as LogRecordExporter,
    )
    from opentelemetry.sdk._logs.export import (  # type: ignore[attr-defined,no-redef]
        LogExportResult as LogRecordExportResult,
    )

__all__ = [
    "BatchLogRecordProcessor",
    "ConsoleLogRecordExporter",
    "InMemoryLogRecordExporter",
    "LogRecordExportResult",
    "LogRecordExporter",
    "LogRecordProcessor",
    "LoggerProvider",
    "LoggingHandler",
    "ReadWriteLogRecord",
    "ReadableLogRecord",
    "SimpleLogRecordProcessor",
    "api_log_record",
    "event_name_of",
]


def api_log_record(item: ReadableLogRecord | ReadWriteLogRecord) -> Any:
    """Return the API-level ``LogRecord`` carried by an SDK log item (body, attributes, ids)."""
    return item.log_record


def event_name_of(item: ReadableLogRecord | ReadWriteLogRecord) -> str | None:
    """Return the ``event_name`` of a log item, or ``None`` for a plain log record."""
    return getattr(item.log_record, "event_name", None)
