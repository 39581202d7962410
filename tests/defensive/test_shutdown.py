"""The shutdown coordinator: parallel, one deadline, idempotent, aborts exporters, drops after."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from foundation_telemetry import defensive as d
from foundation_telemetry.defensive import _shutdown
from foundation_telemetry.defensive._batch import BatchSpanProcessor as OwnBatchSpanProcessor
from foundation_telemetry.defensive._bounded import Deadline

from .test_wrappers import counts, unique


class Gate:
    """Blocks a hook until released; records that the hook was entered."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def block(self) -> None:
        self.entered.set()
        self.release.wait()


class GatedSpanExporter(SpanExporter):
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.gate.block()


class GatedLogExporter(LogRecordExporter):
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def export(self, batch: Any) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        self.gate.block()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class GatedMetricExporter(MetricExporter):
    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        return MetricExportResult.SUCCESS

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        self.gate.block()

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True


def three_signals(gates: list[Gate]) -> tuple[TracerProvider, MeterProvider, LoggerProvider]:
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    tracer_provider.add_span_processor(
        d.DefensiveSpanProcessor(BatchSpanProcessor(GatedSpanExporter(gates[0])))
    )
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(
        d.DefensiveLogRecordProcessor(BatchLogRecordProcessor(GatedLogExporter(gates[1])))
    )
    reader = PeriodicExportingMetricReader(
        GatedMetricExporter(gates[2]), export_interval_millis=60_000
    )
    meter_provider = MeterProvider(
        metric_readers=[d.DefensiveMetricReader(reader)], shutdown_on_exit=False
    )
    return tracer_provider, meter_provider, logger_provider


class TestShutdownAll:
    def test_signals_shut_down_in_parallel(self) -> None:
        """All three signals start shutting down at once: each blocked exporter was entered."""
        gates = [Gate(), Gate(), Gate()]
        providers = three_signals(gates)
        try:
            assert d.shutdown_all(*providers, timeout=0.3) is False
            # Sequential shutdown would stay stuck in the first exporter forever.
            assert all(gate.entered.wait(30) for gate in gates)
        finally:
            for gate in gates:
                gate.release.set()

    def test_clean_shutdown_and_idempotence(self) -> None:
        """A healthy pipeline shuts down cleanly, a second call is a no-op, emits are counted."""
        name = unique("coordinated")
        memory = InMemorySpanExporter()
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        tracer_provider.add_span_processor(
            d.DefensiveSpanProcessor(SimpleSpanProcessor(memory), name=name)
        )
        tracer = tracer_provider.get_tracer("t")
        tracer.start_span("before").end()
        assert d.shutdown_all(tracer_provider, None, None, timeout=5) is True
        assert d.shutdown_all(tracer_provider, None, None, timeout=5) is True
        tracer.start_span("after").end()
        assert [span.name for span in memory.get_finished_spans()] == ["before"]
        assert counts(name) == {"shutdown": 1}

    def test_spent_budget_aborts_exporters(self) -> None:
        """As the budget runs out, open exporter wrappers are shut down (ends back-off)."""
        gate = Gate()
        released_by_shutdown = threading.Event()

        class BackingOff(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                gate.block()
                return SpanExportResult.FAILURE

            def shutdown(self) -> None:
                released_by_shutdown.set()
                gate.release.set()

        name = unique("backing-off")
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        processor = d.DefensiveSpanProcessor(
            BatchSpanProcessor(
                d.DefensiveSpanExporter(BackingOff(), name=name), schedule_delay_millis=1
            ),
            name=unique("backing-off-batch"),
        )
        tracer_provider.add_span_processor(processor)
        tracer_provider.get_tracer("t").start_span("x").end()
        assert gate.entered.wait(30)
        d.shutdown_all(tracer_provider, None, None, timeout=0.5)
        # Aborting just before the deadline ends the back-off (the export returns).
        assert released_by_shutdown.wait(30)
        assert processor.start_shutdown().wait(Deadline(30))
        lost = sum(counts(name).values()) + sum(counts(processor.component_name).values())
        assert lost == 1

    def test_flush_all_in_parallel(self) -> None:
        """flush_all flushes every wrapped component and reports success."""
        memory = InMemorySpanExporter()
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        tracer_provider.add_span_processor(
            d.DefensiveSpanProcessor(BatchSpanProcessor(memory, schedule_delay_millis=60_000))
        )
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(
            metric_readers=[d.DefensiveMetricReader(reader)], shutdown_on_exit=False
        )
        tracer_provider.get_tracer("t").start_span("x").end()
        assert d.flush_all(tracer_provider, meter_provider, None, timeout=10) is True
        assert [span.name for span in memory.get_finished_spans()] == ["x"]
        d.shutdown_all(tracer_provider, meter_provider, None, timeout=5)

    def test_never_raises_on_foreign_objects(self) -> None:
        """Objects that are not providers are tolerated: nothing raises."""
        assert isinstance(d.shutdown_all(object(), None, None, timeout=0.1), bool)
        assert isinstance(d.flush_all(object(), None, None, timeout=0.1), bool)


class HungMetricExporter(MetricExporter):
    """Its export blocks on *gate*: the reader's final collection never finishes by itself."""

    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        self.gate.block()
        return MetricExportResult.SUCCESS

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        pass

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True


class QuickToGiveUpReader(PeriodicExportingMetricReader):
    """The stock reader, giving up on its stuck thread long before the wrapper's budget ends.

    The stock ``shutdown()`` joins its thread with a timeout and returns anyway; under load that
    return can land just inside the wrapper's own deadline. Here it always does.
    """

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        super().shutdown(timeout_millis=1)


def hung_reader(
    gate: Gate, name: str, kind: type[PeriodicExportingMetricReader] = QuickToGiveUpReader
) -> tuple[MeterProvider, d.DefensiveMetricReader]:
    """A wrapped reader whose next export waits for *gate* (the first one comes at once)."""
    reader = d.DefensiveMetricReader(
        kind(HungMetricExporter(gate), export_interval_millis=1), name=name
    )
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    provider.get_meter("m").create_counter("c").add(1)
    return provider, reader


class TestAbandonedExport:
    def test_reader_shutdown_returning_with_its_thread_stuck_is_counted(self) -> None:
        """A reader whose shutdown returned but left its thread stuck in export counts a timeout."""
        gate = Gate()
        name = unique("gives-up-reader")
        _, reader = hung_reader(gate, name)
        try:
            assert gate.entered.wait(30)
            reader.shutdown(timeout_millis=10_000)
            assert counts(name).get("timeout", 0) >= 1, counts(name)
        finally:
            gate.release.set()

    def test_coordinated_shutdown_counts_it_too(self) -> None:
        """shutdown_all reports the same reader as not finished and counts its lost export."""
        gate = Gate()
        name = unique("gives-up-reader")
        provider, _ = hung_reader(gate, name)
        try:
            assert gate.entered.wait(30)
            assert d.shutdown_all(None, provider, None, timeout=10) is False
            assert counts(name).get("timeout", 0) >= 1, counts(name)
        finally:
            gate.release.set()

    def test_finished_final_collection_is_not_counted(self) -> None:
        """When nothing is stuck, the stock reader's shutdown counts nothing."""
        gate = Gate()
        gate.release.set()
        name = unique("stock-reader")
        _, reader = hung_reader(gate, name, PeriodicExportingMetricReader)
        assert gate.entered.wait(30)
        reader.shutdown(timeout_millis=10_000)
        assert counts(name) == {}


class TestAbandonedBatchProcessor:
    @staticmethod
    def _stuck_pipeline(batch_class: Any) -> tuple[Any, Any, Gate, str, str]:
        """Two spans stuck in an export, five queued behind them; shutdown gives up at once."""
        gate = Gate()

        class StuckThenFailing(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                gate.block()
                return SpanExportResult.FAILURE

        processor_name, exporter_name = unique("abandoned-batch"), unique("abandoned-exporter")
        batch = batch_class(
            d.DefensiveSpanExporter(StuckThenFailing(), name=exporter_name),
            max_export_batch_size=2,
            schedule_delay_millis=60_000,
        )
        processor = d.DefensiveSpanProcessor(batch, name=processor_name)
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        tracer_provider.add_span_processor(processor)
        tracer = tracer_provider.get_tracer("t")
        try:
            for _ in range(2):  # a full batch wakes the worker, which gets stuck exporting it
                tracer.start_span("stuck").end()
            assert gate.entered.wait(30)
            for _ in range(5):
                tracer.start_span("queued").end()
            assert d.shutdown_all(tracer_provider, None, None, timeout=0.3) is False
        finally:
            gate.release.set()
        return batch, processor, gate, processor_name, exporter_name

    def test_items_counted_at_the_deadline_are_not_exported_afterwards(self) -> None:
        """Ours: spans counted when shutdown gave up are neither exported nor counted again."""
        batch, _, _, processor_name, exporter_name = self._stuck_pipeline(OwnBatchSpanProcessor)
        batch._worker.join(30)
        assert not batch._worker.is_alive()
        assert counts(processor_name) == {"timeout": 7}
        assert counts(exporter_name) == {}

    def test_stock_batch_processor_is_counted_at_the_deadline(self) -> None:
        """A stock batch processor: what it holds at the deadline is counted (read, not rebuilt)."""
        batch, _, _, processor_name, _ = self._stuck_pipeline(BatchSpanProcessor)
        assert counts(processor_name) == {"timeout": 7}
        batch._batch_processor._worker_thread.join(30)  # released: the stock worker finishes


class TestShutdownTimeout:
    @pytest.mark.parametrize("bad", [0, -1, "3", True, float("nan")])
    def test_rejects_bad_values(self, bad: object) -> None:
        """A non-positive or non-numeric budget is a clear ValueError."""
        before = _shutdown.default_timeout()
        with pytest.raises(ValueError, match="positive number of seconds"):
            d.set_shutdown_timeout(bad)  # type: ignore[arg-type]
        assert _shutdown.default_timeout() == before


class TestReconfiguration:
    def test_shutting_down_old_pipelines_keeps_new_ones_available(self) -> None:
        """Shutting down a replaced pipeline after building a new one leaves telemetry available."""
        old = TracerProvider(shutdown_on_exit=False)
        old.add_span_processor(
            d.DefensiveSpanProcessor(SimpleSpanProcessor(InMemorySpanExporter()))
        )
        new = TracerProvider(shutdown_on_exit=False)
        new.add_span_processor(
            d.DefensiveSpanProcessor(SimpleSpanProcessor(InMemorySpanExporter()))
        )
        assert d.shutdown_all(old, None, None, timeout=5) is True
        assert d.health()["shutdown"] is False
        assert d.shutdown_all(new, None, None, timeout=5) is True
