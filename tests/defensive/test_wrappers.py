"""The per-signal wrappers in process: containment, counting, the interrupt policy, shutdown."""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from foundation_telemetry import defensive as d
from foundation_telemetry.defensive._batch import BatchSpanProcessor as OwnBatchSpanProcessor
from foundation_telemetry.defensive._bounded import Deadline

_names = itertools.count()


def unique(prefix: str) -> str:
    """A component name no other test uses, so global skip counts can be read per test."""
    return f"{prefix}-{next(_names)}"


def counts(component: str) -> dict[str, int]:
    return dict(d.health()["skipped"].get(component, {}))


class Raising(SpanProcessor):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        raise self.error

    def on_end(self, span: Any) -> None:
        raise self.error


class RaisingExporter(SpanExporter):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def export(self, spans: Any) -> SpanExportResult:
        raise self.error


def tracer_with(*processors: SpanProcessor) -> Any:
    provider = TracerProvider(shutdown_on_exit=False)
    for processor in processors:
        provider.add_span_processor(processor)
    return provider.get_tracer("test")


class TestDefensiveSpanProcessor:
    def test_failure_contained_and_next_processor_runs(self) -> None:
        """A raising processor is counted per span; the one after it still sees every span."""
        name = unique("raising")
        memory = InMemorySpanExporter()
        tracer = tracer_with(
            d.DefensiveSpanProcessor(Raising(RuntimeError("boom")), name=name),
            d.DefensiveSpanProcessor(SimpleSpanProcessor(memory)),
        )
        for _ in range(3):
            with tracer.start_as_current_span("work"):
                pass
        assert len(memory.get_finished_spans()) == 3
        assert counts(name) == {"unexpected": 6}  # on_start and on_end, three spans

    def test_application_exception_is_not_replaced(self) -> None:
        """The body's own exception leaves the ``with`` block, not the processor's."""
        tracer = tracer_with(d.DefensiveSpanProcessor(Raising(TypeError("processor"))))
        with pytest.raises(KeyError, match="app"), tracer.start_as_current_span("work"):
            raise KeyError("app")

    @pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
    def test_interrupt_propagates_on_application_thread(
        self, interrupt: type[BaseException]
    ) -> None:
        """KeyboardInterrupt/SystemExit from a hook reach the app's thread, counted once."""
        name = unique("interrupting")
        tracer = tracer_with(d.DefensiveSpanProcessor(Raising(interrupt()), name=name))
        with pytest.raises(interrupt):
            tracer.start_span("work")
        assert counts(name) == {"interrupted": 1}

    def test_interrupt_contained_in_telemetry_thread(self) -> None:
        """The same interrupt in a telemetry thread is contained and counted."""
        name = unique("interrupting")
        tracer = tracer_with(d.DefensiveSpanProcessor(Raising(KeyboardInterrupt()), name=name))
        escaped: list[BaseException] = []

        def run() -> None:
            try:
                tracer.start_span("work").end()
            except BaseException as error:  # noqa: BLE001 - what the test checks
                escaped.append(error)

        thread = threading.Thread(target=run, name="OtelBatchSpanRecordProcessor-test")
        thread.start()
        thread.join()
        assert escaped == []
        assert counts(name) == {"interrupted": 2}

    def test_interrupt_in_export_restores_context(self) -> None:
        """An interrupt from export under SimpleSpanProcessor leaves no suppression attached."""
        exporter = d.DefensiveSpanExporter(RaisingExporter(KeyboardInterrupt()))
        memory = InMemorySpanExporter()
        tracer = tracer_with(
            d.DefensiveSpanProcessor(SimpleSpanProcessor(exporter)),
            d.DefensiveSpanProcessor(SimpleSpanProcessor(memory)),
        )
        with pytest.raises(KeyboardInterrupt):
            tracer.start_span("first").end()
        assert not otel_context.get_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY)

    def test_after_sdk_shutdown_spans_still_reach_the_processor(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """After ``shutdown()`` from the SDK, spans go on to the processor's own handling."""

        def late_span(processor: Any) -> list[str]:
            tracer = tracer_with(processor)
            processor.shutdown()
            processor.shutdown()  # idempotent
            caplog.clear()
            with (
                caplog.at_level(logging.WARNING, logger="opentelemetry.sdk"),
                tracer.start_as_current_span("late"),
            ):
                pass
            return [record.getMessage() for record in caplog.records]

        plain_memory = InMemorySpanExporter()
        without_wrapper = late_span(SimpleSpanProcessor(plain_memory))
        name = unique("closed")
        memory = InMemorySpanExporter()
        processor = d.DefensiveSpanProcessor(SimpleSpanProcessor(memory), name=name)
        # The SDK's own handling (its "already shutdown" warning where its version has one).
        assert late_span(processor) == without_wrapper
        assert memory.get_finished_spans() == plain_memory.get_finished_spans() == ()
        assert counts(name) == {}
        assert processor.force_flush() is False

    def test_rejects_non_processor(self) -> None:
        """Wrapping something that is not a SpanProcessor is a clear TypeError."""
        with pytest.raises(TypeError, match="must be a SpanProcessor"):
            d.DefensiveSpanProcessor(object())  # type: ignore[arg-type]

    def test_rejects_empty_name(self) -> None:
        """An empty component name is a clear ValueError."""
        with pytest.raises(ValueError, match="non-empty string"):
            d.DefensiveSpanProcessor(SimpleSpanProcessor(InMemorySpanExporter()), name="")


class FailingExporter(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.FAILURE


class NoneExporter(SpanExporter):
    def export(self, spans: Any) -> Any:
        return None


class BlockingExporter(SpanExporter):
    """Blocks in export until released; shutdown releases it (like OTLP back-off)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.shutdown_called = threading.Event()

    def export(self, spans: Any) -> SpanExportResult:
        self.entered.set()
        self.release.wait()
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.shutdown_called.set()
        self.release.set()


@pytest.fixture
def short_budget() -> Any:
    from foundation_telemetry.defensive import _shutdown

    previous = _shutdown.default_timeout()
    d.set_shutdown_timeout(0.2)
    yield
    d.set_shutdown_timeout(previous)


class TestDefensiveSpanExporter:
    def test_failure_result_counted_per_span(self) -> None:
        """FAILURE results are counted per span and flip the state to failing."""
        name = unique("failing")
        exporter = d.DefensiveSpanExporter(FailingExporter(), name=name)
        tracer = tracer_with(d.DefensiveSpanProcessor(SimpleSpanProcessor(exporter)))
        for _ in range(4):
            tracer.start_span("work").end()
        assert counts(name) == {"backend_unavailable": 4}
        assert exporter.state == "failing"
        assert d.health()["components"][name]["state"] == "failing"

    def test_exception_becomes_failure(self) -> None:
        """An exception from export is counted and turned into FAILURE."""
        name = unique("raising-exporter")
        exporter = d.DefensiveSpanExporter(RaisingExporter(ConnectionError("down")), name=name)
        span = tracer_with().start_span("x")
        span.end()
        assert exporter.export([span, span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
        assert counts(name) == {"backend_unavailable": 2}

    def test_non_result_is_handed_back_unchanged(self) -> None:
        """An exporter returning None is not rewritten to FAILURE and loses nothing (the SDK's view)."""
        name = unique("none-exporter")
        exporter = d.DefensiveSpanExporter(NoneExporter(), name=name)
        span = tracer_with().start_span("x")
        span.end()
        assert exporter.export([span]) is None  # type: ignore[list-item]
        assert counts(name) == {}

    def test_bounded_export_abandons_and_skips_while_hung(self) -> None:
        """With export_timeout, a hung export is abandoned; later batches are dropped meanwhile."""
        name = unique("hung")
        inner = BlockingExporter()
        exporter = d.DefensiveSpanExporter(inner, name=name, export_timeout=0.05)
        span = tracer_with().start_span("x")
        span.end()
        assert exporter.export([span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
        assert inner.entered.is_set()
        assert exporter.state == "hung"
        assert exporter.export([span, span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
        assert counts(name) == {"timeout": 3}
        inner.release.set()

    @pytest.mark.usefixtures("short_budget")
    def test_shutdown_interrupts_in_flight_export(self) -> None:
        """shutdown() calls the inner shutdown first, which ends an export stuck in back-off."""
        name = unique("backoff")
        inner = BlockingExporter()
        exporter = d.DefensiveSpanExporter(inner, name=name)
        batch_name = unique("batch")
        processor = d.DefensiveSpanProcessor(
            BatchSpanProcessor(exporter, schedule_delay_millis=1), name=batch_name
        )
        tracer = tracer_with(processor)
        tracer.start_span("x").end()
        assert inner.entered.wait(30)
        processor.shutdown()
        assert inner.shutdown_called.wait(30)
        assert processor.start_shutdown().wait(Deadline(30))  # the abandoned shutdown ends too
        # The in-flight span is counted once: by the exporter when the abort ended its export
        # in time, or by the processor that abandoned it.
        lost = {**counts(name), **{f"batch-{k}": v for k, v in counts(batch_name).items()}}
        assert sum(lost.values()) == 1, lost
        assert set(lost) <= {"timeout", "batch-timeout"}

    def test_rejects_bad_timeout(self) -> None:
        """A non-positive export_timeout is a clear ValueError."""
        with pytest.raises(ValueError, match="export_timeout"):
            d.DefensiveSpanExporter(InMemorySpanExporter(), export_timeout=0)


class RaisingLogProcessor(LogRecordProcessor):
    def on_emit(self, log_record: Any) -> None:
        raise ImportError("sys.meta_path is None, Python is likely shutting down")

    def shutdown(self) -> None:
        raise RuntimeError("shutdown failed")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        raise TypeError("flush failed")


class FailingLogExporter(LogRecordExporter):
    def export(self, batch: Any) -> LogRecordExportResult:
        return LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class TestLogWrappers:
    def test_log_pipeline_contained(self) -> None:
        """A raising log processor never reaches ``logging.warning``; the next one still runs."""
        import logging

        name = unique("log-raising")
        memory = InMemoryLogRecordExporter()
        provider = LoggerProvider(shutdown_on_exit=False)
        raising = d.DefensiveLogRecordProcessor(RaisingLogProcessor(), name=name)
        provider.add_log_record_processor(raising)
        provider.add_log_record_processor(
            d.DefensiveLogRecordProcessor(SimpleLogRecordProcessor(memory))
        )
        logger = logging.getLogger(unique("app"))
        logger.propagate = False
        logger.addHandler(d.DefensiveLoggingHandler(logger_provider=provider))
        logger.warning("hello")
        assert len(memory.get_finished_logs()) == 1
        assert raising.force_flush() is False
        raising.shutdown()
        assert counts(name) == {
            "interpreter_finalizing": 1,
            "contract_violation": 1,
            "unexpected": 1,
        }

    def test_log_exporter_failure_counted(self) -> None:
        """FAILURE from a log exporter is counted per record."""
        name = unique("log-failing")
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(
            d.DefensiveLogRecordProcessor(
                SimpleLogRecordProcessor(d.DefensiveLogExporter(FailingLogExporter(), name=name))
            )
        )
        provider.get_logger("x").emit(body="one")
        provider.get_logger("x").emit(body="two")
        assert counts(name) == {"backend_unavailable": 2}

    def test_console_exporter_flushes_without_skips(self) -> None:
        """Flushing a console log exporter (no ``force_flush`` before SDK 1.44) succeeds quietly."""
        import io

        from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter

        name = unique("console-logs")
        exporter = d.DefensiveLogExporter(ConsoleLogRecordExporter(out=io.StringIO()), name=name)
        assert exporter.force_flush() is True
        assert counts(name) == {}

    def test_processor_without_a_filter_is_enabled(self) -> None:
        """``enabled`` on a wrapped stock processor is True (it has no ``enabled`` before 1.45)."""
        name = unique("log-enabled")
        processor = d.DefensiveLogRecordProcessor(
            SimpleLogRecordProcessor(InMemoryLogRecordExporter()), name=name
        )
        assert processor.enabled(event_name="x") is True
        assert counts(name) == {}


class StrictShutdownExporter(MetricExporter):
    """An exporter whose shutdown takes no arguments (the stock reader passes ``timeout=``)."""

    def __init__(self) -> None:
        super().__init__()
        self.shut = threading.Event()

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        return MetricExportResult.SUCCESS

    def shutdown(self) -> None:  # type: ignore[override]
        self.shut.set()

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True


class TestMetricWrappers:
    def test_observable_callback_system_exit_contained_on_reader_thread(self) -> None:
        """SystemExit from an observable callback is counted; the reader keeps collecting."""
        name = unique("reader")
        inner = InMemoryMetricReader()
        reader = d.DefensiveMetricReader(inner, name=name)
        provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
        calls = itertools.count()

        def callback(options: Any) -> Any:
            if next(calls) == 0:
                raise SystemExit(1)
            return []

        provider.get_meter("m").create_observable_gauge("g", callbacks=[callback])
        provider.get_meter("m").create_counter("c").add(2)
        results: list[Any] = []
        thread = threading.Thread(
            target=lambda: results.append(inner.get_metrics_data()),
            name="OtelPeriodicExportingMetricReader-test",
        )
        thread.start()
        thread.join()
        assert results == [None]
        assert counts(name) == {"interrupted": 1}
        data = inner.get_metrics_data()
        names = {m.name for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics}
        # A wrapped provider gets exactly the application's metrics: no skip metric of ours.
        assert names == {"c"}

    def test_meter_provider_shutdown_never_raises(self) -> None:
        """The stock reader passes ``timeout=`` to an exporter that takes none: no bare Exception."""
        exporter = StrictShutdownExporter()
        reader = d.DefensiveMetricReader(
            PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
        )
        provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
        assert provider.force_flush() is True
        provider.shutdown()
        assert exporter.shut.is_set()

    def test_rejects_non_reader(self) -> None:
        """Wrapping something that is not a MetricReader is a clear TypeError."""
        with pytest.raises(TypeError, match="must be a MetricReader"):
            d.DefensiveMetricReader(object())  # type: ignore[arg-type]


class CountingMetricExporter(MetricExporter):
    """Sets ``second`` once two exports arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.exports = 0
        self.second = threading.Event()

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        self.exports += 1
        if self.exports >= 2:
            self.second.set()
        return MetricExportResult.SUCCESS

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        pass

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True


class TestPeriodicReaderSurvives:
    def test_system_exit_in_callback_does_not_kill_the_reader_thread(self) -> None:
        """The real periodic thread keeps exporting after a callback raised SystemExit."""
        name = unique("periodic")
        exporter = CountingMetricExporter()
        reader = d.DefensiveMetricReader(
            PeriodicExportingMetricReader(exporter, export_interval_millis=20), name=name
        )
        provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
        raised = threading.Event()

        def callback(options: Any) -> Any:
            if not raised.is_set():
                raised.set()
                raise SystemExit(1)
            return []

        provider.get_meter("m").create_observable_gauge("g", callbacks=[callback])
        provider.get_meter("m").create_counter("c").add(1)  # something to export every cycle
        try:
            assert exporter.second.wait(30), "the reader thread stopped exporting"
            assert counts(name) == {"interrupted": 1}
        finally:
            provider.shutdown()


class GatedExporter(SpanExporter):
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def export(self, spans: Any) -> SpanExportResult:
        self.entered.set()
        self.release.wait()
        return SpanExportResult.SUCCESS


class TestQueueFull:
    def test_spans_pushed_out_of_a_full_batch_queue_are_counted(self) -> None:
        """A full stock batch queue drops its oldest span: each such span counts as QUEUE_FULL."""
        name = unique("batch-full")
        exporter = GatedExporter()
        processor = d.DefensiveSpanProcessor(
            BatchSpanProcessor(
                exporter, max_queue_size=4, max_export_batch_size=4, schedule_delay_millis=60_000
            ),
            name=name,
        )
        tracer = tracer_with(processor)
        try:
            for _ in range(4):
                tracer.start_span("first").end()
            assert exporter.entered.wait(30)  # the worker holds the first batch
            for _ in range(4 + 3):
                tracer.start_span("more").end()
            assert counts(name) == {"queue_full": 3}
        finally:
            exporter.release.set()
            processor.shutdown()

    def test_every_span_is_exported_or_counted_while_the_worker_races(self) -> None:
        """Our batch processor: producers overfill a tiny queue, exported + counted == made."""
        name = unique("batch-race")
        exporter = InMemorySpanExporter()
        processor = d.DefensiveSpanProcessor(
            OwnBatchSpanProcessor(
                exporter, max_queue_size=8, max_export_batch_size=4, schedule_delay_millis=1
            ),
            name=name,
        )
        tracer = tracer_with(processor)
        per_thread, threads = 5_000, 3

        def produce() -> None:
            for _ in range(per_thread):
                tracer.start_span("s").end()

        workers = [threading.Thread(target=produce) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        try:
            assert processor.force_flush(60_000)
            dropped = counts(name).get("queue_full", 0)
            assert len(exporter.get_finished_spans()) + dropped == per_thread * threads
        finally:
            processor.shutdown()

    def test_log_records_pushed_out_are_counted(self) -> None:
        """The same holds for a stock batch log processor."""
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        class GatedLogs(LogRecordExporter):
            def __init__(self) -> None:
                self.entered = threading.Event()
                self.release = threading.Event()

            def export(self, batch: Any) -> LogRecordExportResult:
                self.entered.set()
                self.release.wait()
                return LogRecordExportResult.SUCCESS

            def shutdown(self) -> None:
                self.release.set()

            def force_flush(self, timeout_millis: int = 30000) -> bool:
                return True

        name = unique("log-batch-full")
        exporter = GatedLogs()
        processor = d.DefensiveLogRecordProcessor(
            BatchLogRecordProcessor(
                exporter, max_queue_size=2, max_export_batch_size=2, schedule_delay_millis=60_000
            ),
            name=name,
        )
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(processor)
        logger = provider.get_logger("x")
        try:
            for _ in range(2):
                logger.emit(body="first")
            assert exporter.entered.wait(30)
            for _ in range(2 + 5):
                logger.emit(body="more")
            assert counts(name) == {"queue_full": 5}
        finally:
            exporter.release.set()
            processor.shutdown()
