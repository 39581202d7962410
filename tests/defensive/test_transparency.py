"""Wrapping changes nothing the SDK does: the regressions ``make test-sdk-suite`` found, each pinned."""

from __future__ import annotations

import gc
import io
import logging
import os
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    InMemoryMetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import foundation_telemetry as ft
from _inner_pytest import run_inner_pytest
from foundation_telemetry import _state
from foundation_telemetry import defensive as d
from foundation_telemetry.defensive._policy import HELPER_THREAD_PREFIX

SRC = Path(__file__).resolve().parents[2] / "src"


class KeywordOnlyProcessor:
    """A duck-typed processor (no SpanProcessor base) whose on_start takes parent_context by keyword."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []

    def on_start(self, span: Any, *, parent_context: Any = None) -> None:
        self.started.append(span.name)

    def on_end(self, span: Any) -> None:
        self.ended.append(span.name)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def test_caplog_sees_sdk_warnings_after_configure(caplog: pytest.LogCaptureFixture) -> None:
    """configure() no longer stops the SDK's loggers propagating to the root logger."""
    telemetry = ft.configure(exporter="none", set_global=False)
    try:
        with caplog.at_level(logging.WARNING):
            logging.getLogger("opentelemetry.sdk.trace").warning("sdk says %s", "hi")
        assert "sdk says hi" in caplog.text
    finally:
        telemetry.shutdown()


def test_reader_given_to_two_providers_is_refused_like_the_sdk() -> None:
    """A reader wrapped twice for two providers is refused, as the SDK refuses the bare reader."""
    reader = InMemoryMetricReader()
    MeterProvider(metric_readers=[d.DefensiveMetricReader(reader)], shutdown_on_exit=False)
    with pytest.raises(Exception, match="registered already"):
        MeterProvider(metric_readers=[d.DefensiveMetricReader(reader)], shutdown_on_exit=False)


def test_keyword_only_duck_typed_processor_runs_on_start() -> None:
    """A processor without the SpanProcessor base and a keyword-only on_start is accepted and run."""
    inner = KeywordOnlyProcessor()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(d.DefensiveSpanProcessor(inner))  # type: ignore[arg-type]
    provider.get_tracer("t").start_span("work").end()
    assert inner.started == ["work"]
    assert inner.ended == ["work"]


def test_wrapper_forwards_attributes_and_isinstance() -> None:
    """The wrapper stands in for the wrapped processor: attributes and isinstance."""
    exporter = InMemorySpanExporter()
    inner = SimpleSpanProcessor(exporter)
    wrapper = d.DefensiveSpanProcessor(inner)
    assert wrapper.span_exporter is exporter
    assert isinstance(wrapper, SimpleSpanProcessor)
    assert isinstance(wrapper, d.DefensiveSpanProcessor)


def test_wrapped_exporter_equals_the_one_handed_in() -> None:
    """A processor given a wrapped exporter holds something equal to the exporter passed in."""
    exporter = InMemorySpanExporter()
    processor = BatchSpanProcessor(d.DefensiveSpanExporter(exporter))
    try:
        assert processor.span_exporter == exporter
        assert exporter == processor.span_exporter
        assert hash(processor.span_exporter) == hash(exporter)
        assert processor.span_exporter != InMemorySpanExporter()
    finally:
        processor.shutdown()


def test_two_wrappers_of_one_processor_stay_two_components() -> None:
    """Wrappers equal to one another still count as two components for the shutdown coordinator."""
    inner = SimpleSpanProcessor(InMemorySpanExporter())
    first, second = d.DefensiveSpanProcessor(inner), d.DefensiveSpanProcessor(inner)
    assert first == second
    registered = list(_state.shutdown.components)
    assert any(c is first for c in registered)
    assert any(c is second for c in registered)


def test_skip_metric_only_on_configured_pipeline_and_per_pipeline() -> None:
    """The skip metric is on configure()'s provider and counts that pipeline's skips only."""

    class Failing(InMemorySpanExporter):
        def export(self, spans: Any) -> Any:
            raise ConnectionError("down")

    outside = d.DefensiveSpanExporter(Failing(), name="outside-pipeline")
    reader = InMemoryMetricReader()
    telemetry = ft.configure(
        exporter="none",
        set_global=False,
        span_exporters=[Failing()],
        metric_readers=[reader],
    )
    try:
        span = telemetry.tracer_provider.get_tracer("t").start_span("lost")
        span.end()
        telemetry.force_flush()
        outside.export([span])  # type: ignore[list-item]
        data = reader.get_metrics_data()
        assert data is not None
        points = {
            (p.attributes["component"], p.attributes["reason"]): p.value
            for r in data.resource_metrics
            for s in r.scope_metrics
            for m in s.metrics
            if m.name == d.SKIPPED_METRIC
            for p in m.data.data_points
        }
        assert points == {("Failing", "backend_unavailable"): 1}
    finally:
        telemetry.shutdown()


def test_otel_python_context_from_conftest_is_honoured(tmp_path: Path) -> None:
    """The plugin imports no OpenTelemetry at load, so a conftest's OTEL_PYTHON_CONTEXT wins."""
    log = tmp_path / "otel.log"
    (tmp_path / "conftest.py").write_text(
        "import logging, os\n"
        "os.environ['OTEL_PYTHON_CONTEXT'] = 'no_such_context'\n"
        f"logging.getLogger('opentelemetry').addHandler(logging.FileHandler({str(log)!r}))\n"
    )
    (tmp_path / "test_inner.py").write_text(
        "import sys\n"
        "def test_load_time_imports():\n"
        "    assert not [m for m in sys.modules if m.startswith('opentelemetry')]\n"
        "    assert 'foundation_telemetry' not in sys.modules\n"
        "def test_context_choice(telemetry, caplog):\n"
        "    pass\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(SRC)
    completed = run_inner_pytest(tmp_path, "test_inner.py", env=env)
    output = completed.stdout + completed.stderr
    assert "2 passed" in output, output
    # OpenTelemetry read the conftest's choice (and refused the unknown name) on first use.
    assert "no_such_context" in log.read_text(), output


def test_wrapped_reader_and_exporter_are_collected_after_shutdown() -> None:
    """Nothing of ours keeps a shut-down provider's reader or exporter alive."""

    def create_and_shut_down() -> tuple[weakref.ref[Any], ...]:
        exporter = ConsoleMetricExporter(out=io.StringIO())
        reader = PeriodicExportingMetricReader(d.DefensiveMetricExporter(exporter))
        wrapper = d.DefensiveMetricReader(reader)
        provider = MeterProvider(metric_readers=[wrapper], shutdown_on_exit=False)
        provider.shutdown()
        return (
            weakref.ref(exporter),
            weakref.ref(reader),
            weakref.ref(wrapper),
            weakref.ref(provider),
        )

    refs = create_and_shut_down()
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None, None]


def test_late_flush_returns_after_the_inner_flush_was_called() -> None:
    """A flush past its deadline returns False only once the processor's own flush was called.

    The SDK's multi-processor tests count the calls right after ``force_flush`` returns. On a
    loaded machine the wrapper's helper thread may get no time before the deadline; a trace hook
    holds the helper thread back (up to 0.3 s) to make that happen here every time.
    """
    release, starving = threading.Event(), threading.Event()
    calls: list[int] = []

    class SlowFlush(SimpleSpanProcessor):
        def force_flush(self, timeout_millis: int = 30000) -> bool:
            calls.append(timeout_millis)
            release.wait(5)
            return True

    def hold_back_helpers(frame: Any, event: str, arg: Any) -> None:
        if threading.current_thread().name.startswith(HELPER_THREAD_PREFIX):
            starving.wait(0.3)
        sys.settrace(None)

    wrapper = d.DefensiveSpanProcessor(SlowFlush(InMemorySpanExporter()))
    threading.settrace(hold_back_helpers)
    try:
        assert wrapper.force_flush(0) is False
        assert len(calls) == 1
    finally:
        threading.settrace(None)  # type: ignore[arg-type]
        starving.set()
        release.set()


@pytest.mark.parametrize("timeout_millis", [1, 20, 50])
def test_late_flush_outlasts_the_multi_processors_deadline(timeout_millis: int) -> None:
    """A late processor makes the SDK skip the processors after it, as without the wrapper.

    The multi-processor hands each processor its remaining time floored to whole milliseconds
    and flushes the next one unless its own deadline has passed; a wrapper that gave up exactly
    at the time it was handed returned before that deadline (``make test-sdk-suite`` found it in
    ``test_force_flush_late_by_timeout``).
    """
    from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor

    release = threading.Event()
    flushed: list[str] = []

    class Flush(SimpleSpanProcessor):
        def __init__(self, name: str, *, blocks: bool) -> None:
            super().__init__(InMemorySpanExporter())
            self.name, self.blocks = name, blocks

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            flushed.append(self.name)
            if self.blocks:
                release.wait(5)
            return True

    multi = SynchronousMultiSpanProcessor()
    multi.add_span_processor(d.DefensiveSpanProcessor(Flush("late", blocks=True)))
    multi.add_span_processor(d.DefensiveSpanProcessor(Flush("next", blocks=False)))
    try:
        assert multi.force_flush(timeout_millis) is False
        assert flushed == ["late"]
    finally:
        release.set()
