"""Wrapped processors of ours serve their per-item hooks directly while open, and give them back.

Our batch processors and the correlation processor contain their own failures, so their
wrappers add no frame per span or record; once a coordinated shutdown starts, the wrapper's own
hooks drop and count late items again, as for any processor.
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import baggage, context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from foundation_telemetry import defensive as d
from foundation_telemetry.correlation import CorrelationSpanProcessor, continued, correlated
from foundation_telemetry.defensive._batch import BatchLogRecordProcessor, BatchSpanProcessor

from .test_wrappers import counts, unique


def traced(*processors: Any) -> tuple[TracerProvider, Any]:
    provider = TracerProvider(shutdown_on_exit=False)
    for processor in processors:
        provider.add_span_processor(processor)
    return provider, provider.get_tracer("t")


class TestWhileOpen:
    def test_our_processors_hooks_are_called_without_the_wrapper(self) -> None:
        """The wrapper's hooks are the inner processor's own bound methods."""
        batch = BatchSpanProcessor(InMemorySpanExporter())
        wrapper = d.DefensiveSpanProcessor(batch)
        try:
            assert wrapper.on_end == batch.on_end
            assert wrapper.on_start == batch.on_start
            correlation = d.DefensiveSpanProcessor(CorrelationSpanProcessor())
            assert correlation.on_start.__self__ is correlation.wrapped
        finally:
            wrapper.shutdown()

    def test_a_foreign_processor_keeps_the_wrapper_between(self) -> None:
        """Any other processor is still called through the wrapper's guard (it may raise)."""
        name = unique("foreign-failure")
        inner = SimpleSpanProcessor(InMemorySpanExporter())
        wrapper = d.DefensiveSpanProcessor(inner, name=name)
        assert wrapper.on_end != inner.on_end
        assert wrapper.on_start != inner.on_start

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("foreign processor broke")

        _, tracer = traced(wrapper)
        # Patched after wrapping, as a test would: the guard still looks the hook up per call.
        inner.on_start = broken  # type: ignore[method-assign]
        inner.on_end = broken  # type: ignore[method-assign]
        tracer.start_span("work").end()  # must not raise into the application
        assert sum(counts(name).values()) == 2

    def test_a_stock_processors_passive_ending_hook_is_its_own(self) -> None:
        """``_on_ending`` of a stock processor is ``pass``: the SDK calls it with no guard between."""
        inner = SimpleSpanProcessor(InMemorySpanExporter())
        wrapper = d.DefensiveSpanProcessor(inner)
        assert wrapper._on_ending == inner._on_ending
        _, tracer = traced(wrapper)
        tracer.start_span("work").end()
        assert [span.name for span in inner.span_exporter.get_finished_spans()] == ["work"]

    def test_an_ending_hook_that_does_something_keeps_the_guard(self) -> None:
        """A processor whose ``_on_ending`` can fail is still contained and counted."""
        name = unique("ending-failure")

        class Ending(SimpleSpanProcessor):
            def _on_ending(self, span: Any) -> None:
                raise RuntimeError("ending broke")

        exporter = InMemorySpanExporter()
        wrapper = d.DefensiveSpanProcessor(Ending(exporter), name=name)
        _, tracer = traced(wrapper)
        tracer.start_span("work").end()  # must not raise into the application
        assert counts(name) == {"unexpected": 1}
        assert [span.name for span in exporter.get_finished_spans()] == ["work"]

    def test_the_counts_go_under_the_wrappers_name(self) -> None:
        """A failing on_end of our batch processor is contained and counted as the wrapper."""
        name = unique("direct-failure")
        batch = BatchSpanProcessor(InMemorySpanExporter())
        wrapper = d.DefensiveSpanProcessor(batch, name=name)
        _, tracer = traced(wrapper)

        def broken(item: Any) -> None:
            raise RuntimeError("queue broke")

        batch._emit = broken  # type: ignore[method-assign]
        try:
            tracer.start_span("work").end()  # must not raise into the application
            assert sum(counts(name).values()) == 1
        finally:
            wrapper.shutdown()

    def test_a_failing_correlation_lookup_is_contained(self) -> None:
        """A span whose attributes cannot be set still starts; the failure is counted."""
        name = unique("direct-correlation")
        wrapper = d.DefensiveSpanProcessor(CorrelationSpanProcessor(), name=name)

        class Frozen:
            name = "frozen"

            def set_attribute(self, key: str, value: Any) -> None:
                raise RuntimeError("read-only span")

        with correlated("c-1"):
            wrapper.on_start(Frozen())  # type: ignore[arg-type]
        assert sum(counts(name).values()) == 1

    def test_log_records_go_straight_to_our_batch_processor(self) -> None:
        """on_emit of a wrapped batch log processor is the processor's own."""
        exporter = InMemoryLogRecordExporter()
        batch = BatchLogRecordProcessor(exporter)
        wrapper = d.DefensiveLogRecordProcessor(batch)
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(wrapper)
        try:
            assert wrapper.on_emit == batch.on_emit
        finally:
            provider.shutdown()


class TestAfterShutdown:
    def test_late_spans_after_a_coordinated_shutdown_are_dropped_and_counted(self) -> None:
        """Once our coordinator shut it down, the wrapper's hooks are back and count late spans."""
        name = unique("direct-late")
        exporter = InMemorySpanExporter()
        wrapper = d.DefensiveSpanProcessor(BatchSpanProcessor(exporter), name=name)
        provider, tracer = traced(wrapper)
        tracer.start_span("before").end()
        assert d.shutdown_all(provider, None, None, timeout=10) is True
        assert wrapper.on_end.__self__ is wrapper
        tracer.start_span("late").end()
        assert [span.name for span in exporter.get_finished_spans()] == ["before"]
        assert counts(name) == {"shutdown": 1}

    def test_the_sdks_own_shutdown_still_forwards(self) -> None:
        """After provider.shutdown() late spans reach the processor, as without a wrapper."""
        name = unique("direct-sdk-late")
        batch = BatchSpanProcessor(InMemorySpanExporter())
        wrapper = d.DefensiveSpanProcessor(batch, name=name)
        provider, tracer = traced(wrapper)
        provider.shutdown()
        tracer.start_span("late").end()
        assert counts(name) == {"shutdown": 1}  # our processor's own count, under the name


class TestCorrelationLookup:
    @pytest.fixture
    def recorded(self) -> Any:
        exporter = InMemorySpanExporter()
        provider, tracer = traced(CorrelationSpanProcessor(), SimpleSpanProcessor(exporter))
        yield tracer, exporter
        provider.shutdown()

    def test_no_baggage_stamps_nothing(self, recorded: Any) -> None:
        tracer, exporter = recorded
        tracer.start_span("plain").end()
        assert "correlation_id" not in exporter.get_finished_spans()[0].attributes

    def test_other_baggage_without_an_id_stamps_nothing(self, recorded: Any) -> None:
        tracer, exporter = recorded
        token = context.attach(baggage.set_baggage("tenant", "acme"))
        try:
            tracer.start_span("tenant-only").end()
        finally:
            context.detach(token)
        assert "correlation_id" not in exporter.get_finished_spans()[0].attributes

    def test_an_id_from_upstream_baggage_is_stamped(self, recorded: Any) -> None:
        """An id that arrived in a request's headers (never set here) is still found."""
        tracer, exporter = recorded
        with continued({"baggage": "correlation_id=upstream-9"}):
            tracer.start_span("handler").end()
        assert exporter.get_finished_spans()[0].attributes["correlation_id"] == "upstream-9"

    def test_an_explicit_parent_context_is_used(self, recorded: Any) -> None:
        """A span started with ``context=`` takes the id from that context, not the current."""
        tracer, exporter = recorded
        upstream = baggage.set_baggage("correlation_id", "given")
        tracer.start_span("child", context=upstream).end()
        assert exporter.get_finished_spans()[0].attributes["correlation_id"] == "given"
