"""Tests of the SDK-compat helpers, run on the newest SDK (``make test``) and the oldest
supported one (``make test-compat``): each checks the helper against the installed SDK itself."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry._logs import NoOpLoggerProvider
from opentelemetry.sdk.metrics._internal.measurement_consumer import (
    SynchronousMeasurementConsumer,
)
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace import TracerProvider

from foundation_telemetry._otel import _compat
from foundation_telemetry._otel._compat import (
    ATTRIBUTES_KEEP_BYTES,
    InMemoryLogRecordExporter,
    LoggerProvider,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
    flush_log_exporter,
    log_enabled,
)


class LegacyLogExporter:
    """A log exporter written before ``force_flush`` joined the interface (SDK < 1.44)."""

    def __init__(self) -> None:
        self.batches: list[Sequence[Any]] = []

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        self.batches.append(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class FlushRecordingExporter(LegacyLogExporter):
    """A log exporter whose flush reports *result* and remembers the timeout it was given."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result
        self.timeouts: list[int] = []

    def force_flush(self, timeout_millis: int = 30_000) -> Any:
        self.timeouts.append(timeout_millis)
        return self.result


class TestInMemoryLogRecordExporter:
    def test_is_the_sdk_exporter_with_a_flush(self) -> None:
        """The exported class is an SDK in-memory log exporter and always has ``force_flush``."""
        exporter = InMemoryLogRecordExporter()
        assert isinstance(exporter, LogRecordExporter)
        assert exporter.force_flush() is True
        assert exporter.force_flush(1) is True

    def test_stores_records_from_a_real_pipeline(self) -> None:
        """A record emitted through a real LoggerProvider lands in the exporter, flush or not."""
        exporter = InMemoryLogRecordExporter()
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        handler = _compat.LoggingHandler(logger_provider=provider)
        logger = logging.getLogger("test_compat.in_memory")
        logger.propagate = False
        logger.addHandler(handler)
        try:
            logger.warning("stored %d", 1)
        finally:
            logger.removeHandler(handler)
        assert exporter.force_flush() is True
        bodies = [_compat.api_log_record(item).body for item in exporter.get_finished_logs()]
        assert bodies == ["stored 1"]
        provider.shutdown()


class TestFlushLogExporter:
    def test_exporter_without_force_flush_counts_as_flushed(self) -> None:
        """An exporter that predates ``force_flush`` is flushed trivially, not called."""
        exporter = LegacyLogExporter()
        assert flush_log_exporter(exporter, 5) is True  # type: ignore[arg-type]
        assert exporter.batches == []

    @pytest.mark.parametrize(("result", "expected"), [(True, True), (False, False), (None, False)])
    def test_exporter_flush_result_and_timeout_are_forwarded(
        self, result: Any, expected: bool
    ) -> None:
        """The exporter's own answer is returned as a bool and the timeout reaches it unchanged."""
        exporter = FlushRecordingExporter(result)
        assert flush_log_exporter(exporter, 1234) is expected  # type: ignore[arg-type]
        assert exporter.timeouts == [1234]

    def test_default_timeout(self) -> None:
        """Without a timeout the SDK's default of 30 seconds is passed."""
        exporter = FlushRecordingExporter(True)
        flush_log_exporter(exporter)  # type: ignore[arg-type]
        assert exporter.timeouts == [30_000]

    def test_sdk_exporter(self) -> None:
        """The SDK's in-memory exporter flushes through the helper on every supported release."""
        assert flush_log_exporter(InMemoryLogRecordExporter(), 10) is True


class EnabledRecorder:
    """A logger or processor of SDK 1.45+, answering ``enabled`` with *answer*."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def enabled(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.answer


class TestLogEnabled:
    def test_sdk_logger_with_a_processor_is_enabled(self) -> None:
        """A real SDK logger with a processor would record, whether or not it has ``enabled``."""
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(SimpleLogRecordProcessor(InMemoryLogRecordExporter()))
        assert log_enabled(provider.get_logger("compat")) is True
        provider.shutdown()

    def test_sdk_processor_is_enabled(self) -> None:
        """A real SDK log processor takes every record."""
        processor = SimpleLogRecordProcessor(InMemoryLogRecordExporter())
        assert log_enabled(processor, event_name="e") is True

    def test_no_op_logger_is_not_enabled(self) -> None:
        """The API's no-op logger records nothing, whether or not it has ``enabled``."""
        assert log_enabled(NoOpLoggerProvider().get_logger("compat")) is False

    @pytest.mark.parametrize(("answer", "expected"), [(True, True), (False, False), (0, False)])
    def test_own_answer_and_arguments_are_forwarded(self, answer: Any, expected: bool) -> None:
        """A target with ``enabled`` decides itself, given the caller's arguments unchanged."""
        target = EnabledRecorder(answer)
        assert log_enabled(target, event_name="e", severity_number=None) is expected
        assert target.calls == [((), {"event_name": "e", "severity_number": None})]

    def test_target_without_enabled_takes_every_record(self) -> None:
        """A logger or processor written before 1.45 has no ``enabled``: it takes everything."""
        assert log_enabled(LegacyLogExporter()) is True


class TestAttributesKeepBytes:
    def test_flag_matches_a_real_span(self) -> None:
        """The flag says what a real span does with a ``bytes`` attribute on this SDK."""
        provider = TracerProvider(shutdown_on_exit=False)
        span = provider.get_tracer("compat").start_span("s", attributes={"blob": b"\0\1"})
        span.end()
        assert span.attributes is not None
        expected: bytes | str = b"\0\1" if ATTRIBUTES_KEEP_BYTES else "\0\1"
        assert span.attributes["blob"] == expected
        assert isinstance(span.attributes["blob"], bytes) is ATTRIBUTES_KEEP_BYTES


class TestSupportedFloor:
    def test_metric_reader_learns_its_provider(self) -> None:
        """SDK 1.41+: a MeterProvider hands itself to each reader (service reader, skip metric)."""
        assert callable(getattr(MetricReader, "_set_meter_provider", None))

    def test_measurement_consumer_can_replace_a_readers_storage(self) -> None:
        """SDK 1.43+: a reader's storage can be replaced (fresh metric state after fork)."""
        assert callable(getattr(SynchronousMeasurementConsumer, "add_metric_reader", None))
