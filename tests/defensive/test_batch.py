"""The batch processors configure() builds: every item exported or counted exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor as StockBatchSpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import foundation_telemetry
from foundation_telemetry import defensive as d
from foundation_telemetry._otel import _internals
from foundation_telemetry.defensive._batch import BatchLogRecordProcessor, BatchSpanProcessor

from .test_wrappers import counts, unique


class Gated(SpanExporter):
    """Blocks every export until released; remembers what it was given."""

    def __init__(self, result: SpanExportResult = SpanExportResult.SUCCESS) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.exported: list[str] = []
        self.result = result

    def export(self, spans: Any) -> SpanExportResult:
        self.entered.set()
        self.release.wait(30)
        self.exported.extend(span.name for span in spans)
        return self.result


def pipeline(processor: Any, name: str) -> tuple[Any, Any]:
    wrapper = d.DefensiveSpanProcessor(processor, name=name)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(wrapper)
    return wrapper, provider.get_tracer("t")


class TestQueue:
    def test_a_full_queue_refuses_and_counts_each_new_span(self) -> None:
        """With the worker stuck, spans beyond the queue size are refused and counted."""
        name = unique("own-full")
        exporter = Gated()
        processor = BatchSpanProcessor(
            exporter, max_queue_size=4, max_export_batch_size=4, schedule_delay_millis=60_000
        )
        wrapper, tracer = pipeline(processor, name)
        try:
            for _ in range(4):
                tracer.start_span("first").end()
            assert exporter.entered.wait(30)  # the worker holds the first batch
            for index in range(4 + 3):
                tracer.start_span(f"more-{index}").end()
            assert counts(name) == {"queue_full": 3}
            assert processor.queued == 4
        finally:
            exporter.release.set()
        assert wrapper.force_flush(30_000)
        assert exporter.exported == ["first"] * 4 + [f"more-{i}" for i in range(4)]
        wrapper.shutdown()

    def test_spans_after_shutdown_are_counted(self) -> None:
        """A span that reaches the processor after shutdown is counted SHUTDOWN, not queued."""
        name = unique("own-late")
        processor = BatchSpanProcessor(InMemorySpanExporter())
        processor.component_name = name
        processor.shutdown(5_000)
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        tracer_provider.add_span_processor(processor)
        tracer_provider.get_tracer("t").start_span("late").end()
        assert counts(name) == {"shutdown": 1}
        assert processor.queued == 0

    def test_worker_is_a_telemetry_thread(self) -> None:
        """The worker's name carries the prefix the interrupt policy treats as telemetry."""
        processor = BatchSpanProcessor(InMemorySpanExporter())
        try:
            assert processor._worker.name == "foundation-telemetry-batch-spans"
        finally:
            processor.shutdown(5_000)

    @pytest.mark.parametrize(
        ("arguments", "fragment"),
        [
            ({"max_queue_size": 0}, "`max_queue_size` must be a positive integer"),
            ({"max_export_batch_size": 0}, "`max_export_batch_size` must be a positive integer"),
            ({"schedule_delay_millis": 0}, "`schedule_delay_millis` must be a positive number"),
            (
                {"max_queue_size": 2, "max_export_batch_size": 3},
                "`max_export_batch_size` (3) must not exceed `max_queue_size` (2)",
            ),
        ],
    )
    def test_bad_settings_name_themselves(self, arguments: dict[str, Any], fragment: str) -> None:
        """A bad setting is a ValueError naming it."""
        with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
            BatchSpanProcessor(InMemorySpanExporter(), **arguments)


class TestLikeTheSdk:
    def test_unsampled_spans_are_not_exported(self) -> None:
        """As the SDK's batch processor, only sampled spans are queued; the rest are not lost."""
        name = unique("own-sampling")
        exporter = InMemorySpanExporter()
        processor = d.DefensiveSpanProcessor(
            BatchSpanProcessor(exporter, schedule_delay_millis=60_000), name=name
        )
        provider = TracerProvider(sampler=ALWAYS_OFF, shutdown_on_exit=False)
        provider.add_span_processor(processor)
        provider.get_tracer("t").start_span("dropped by the sampler").end()
        assert processor.force_flush(30_000)
        assert exporter.get_finished_spans() == ()
        assert counts(name) == {}
        processor.shutdown()

    def test_a_queued_log_record_is_a_snapshot(self) -> None:
        """A record changed by a later processor is exported as it was when it was emitted."""

        class Mutating(LogRecordProcessor):
            def on_emit(self, log_record: Any) -> None:
                log_record.log_record.body = "changed later"

            def shutdown(self) -> None:
                pass

            def force_flush(self, timeout_millis: int = 30_000) -> bool:
                return True

        exporter = InMemoryLogRecordExporter()
        batch = BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000)
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(batch)
        provider.add_log_record_processor(Mutating())
        provider.get_logger("t").emit(body="as emitted")
        assert batch.force_flush(30_000)
        assert [item.log_record.body for item in exporter.get_finished_logs()] == ["as emitted"]
        batch.shutdown()

    def test_unsampled_spans_do_not_count_against_a_full_stock_queue(self) -> None:
        """Wrapping a stock processor: an unsampled span finding the queue full is not counted."""
        name = unique("stock-unsampled")
        exporter = Gated()
        stock = StockBatchSpanProcessor(
            exporter, max_queue_size=2, max_export_batch_size=2, schedule_delay_millis=60_000
        )
        wrapper = d.DefensiveSpanProcessor(stock, name=name)
        sampled = TracerProvider(shutdown_on_exit=False)
        sampled.add_span_processor(wrapper)
        unsampled = TracerProvider(sampler=ALWAYS_OFF, shutdown_on_exit=False)
        unsampled.add_span_processor(wrapper)
        try:
            for _ in range(2):
                sampled.get_tracer("t").start_span("first").end()
            assert exporter.entered.wait(30)
            for _ in range(2):
                sampled.get_tracer("t").start_span("queued").end()
            unsampled.get_tracer("t").start_span("never queued").end()
            sampled.get_tracer("t").start_span("pushes one out").end()
            assert counts(name) == {"queue_full": 1}
        finally:
            exporter.release.set()
            wrapper.shutdown()


class TestExport:
    def test_failures_of_a_plain_exporter_are_counted_per_span(self) -> None:
        """Without a defensive exporter in between, FAILURE results are counted by the processor."""
        name = unique("own-failing")
        exporter = Gated(SpanExportResult.FAILURE)
        exporter.release.set()
        wrapper, tracer = pipeline(BatchSpanProcessor(exporter, schedule_delay_millis=60_000), name)
        for _ in range(3):
            tracer.start_span("s").end()
        assert wrapper.force_flush(30_000)
        assert counts(name) == {"backend_unavailable": 3}
        wrapper.shutdown()

    def test_a_defensive_exporter_counts_its_own_failures(self) -> None:
        """Behind a defensive exporter, each failed span is counted once, by the exporter."""
        name, exporter_name = unique("own-guarded"), unique("own-guarded-exporter")
        inner = Gated(SpanExportResult.FAILURE)
        inner.release.set()
        exporter = d.DefensiveSpanExporter(inner, name=exporter_name)
        wrapper, tracer = pipeline(BatchSpanProcessor(exporter, schedule_delay_millis=60_000), name)
        for _ in range(3):
            tracer.start_span("s").end()
        assert wrapper.force_flush(30_000)
        assert counts(name) == {}
        assert counts(exporter_name) == {"backend_unavailable": 3}
        wrapper.shutdown()

    def test_log_records_are_batched_too(self) -> None:
        """The log processor exports every record on flush and counts nothing."""
        name = unique("own-logs")
        exporter = InMemoryLogRecordExporter()
        wrapper = d.DefensiveLogRecordProcessor(
            BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000), name=name
        )
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(wrapper)
        for index in range(5):
            provider.get_logger("t").emit(body=f"record {index}")
        assert wrapper.force_flush(30_000)
        assert [item.log_record.body for item in exporter.get_finished_logs()] == [
            f"record {index}" for index in range(5)
        ]
        assert counts(name) == {}
        wrapper.shutdown()


class TestShutdown:
    def test_its_own_bounded_shutdown_counts_what_it_abandons(self) -> None:
        """Unwrapped, a shutdown whose export hangs counts the stuck batch and the queue once."""
        name = unique("own-abandon")
        exporter = Gated()
        processor = BatchSpanProcessor(
            exporter, max_export_batch_size=2, schedule_delay_millis=60_000
        )
        processor.component_name = name
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(processor)
        tracer = provider.get_tracer("t")
        try:
            for _ in range(2):
                tracer.start_span("stuck").end()
            assert exporter.entered.wait(30)
            for _ in range(3):
                tracer.start_span("queued").end()
            processor.shutdown(timeout_millis=100)
            assert counts(name) == {"timeout": 5}
            assert processor.abandon() == 0  # handed over once
        finally:
            exporter.release.set()
        processor._worker.join(30)
        assert exporter.exported == ["stuck", "stuck"]  # nothing more after the abandonment
        assert counts(name) == {"timeout": 5}

    def test_configure_builds_it_with_the_bsp_settings(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """configure() puts our processor behind its OTLP exporter, sized by OTEL_BSP_*."""
        monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
        monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16")
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
        telemetry = foundation_telemetry.configure(
            "batch-settings", set_global=False, endpoint="http://127.0.0.1:9"
        )
        try:
            batches = [
                wrapper.wrapped
                for wrapper in _internals.span_processors_of(telemetry.tracer_provider)
                if isinstance(wrapper, d.DefensiveSpanProcessor)
                and isinstance(wrapper.wrapped, BatchSpanProcessor)
            ]
            assert len(batches) == 1
            [batch] = batches
            assert (batch._max_queue, batch._max_batch, batch._delay) == (64, 16, 0.25)
        finally:
            telemetry.shutdown(timeout=1.0)


_FORK_CHILD = textwrap.dedent(
    """
    import json, os, sys, threading
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from foundation_telemetry import defensive as d
    from foundation_telemetry.defensive._batch import BatchSpanProcessor

    exporter = InMemorySpanExporter()
    processor = d.DefensiveSpanProcessor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("fork")
    for _ in range(3):
        tracer.start_span("parent").end()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        for _ in range(2):
            tracer.start_span("child").end()
        flushed = processor.force_flush(10_000)
        names = [span.name for span in exporter.get_finished_spans()]
        workers = [t.name for t in threading.enumerate() if t.name.startswith("foundation-telemetry-batch")]
        os.write(write_fd, json.dumps({"flushed": flushed, "names": names, "workers": workers}).encode())
        os._exit(0)
    os.close(write_fd)
    child = json.loads(os.read(read_fd, 65536))
    os.waitpid(pid, 0)
    processor.force_flush(10_000)
    parent = [span.name for span in exporter.get_finished_spans()]
    print(json.dumps({"child": child, "parent": parent}))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_forked_child_exports_only_its_own_spans() -> None:
    """After fork the child starts with an empty queue and a new worker; the parent keeps its own."""
    run = subprocess.run(
        [sys.executable, "-c", _FORK_CHILD], capture_output=True, text=True, check=False, timeout=60
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["child"] == {
        "flushed": True,
        "names": ["child", "child"],
        "workers": ["foundation-telemetry-batch-spans"],
    }
    assert result["parent"] == ["parent"] * 3
