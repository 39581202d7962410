"""emit(): log-based events with standard fields, coercion of bad input, threads and tasks."""

from __future__ import annotations

import asyncio
import enum
import math
import os
import socket
import subprocess
import sys
import threading

import pytest
from opentelemetry.sdk.metrics import MeterProvider

from foundation_telemetry._config import _globals
from foundation_telemetry._otel._compat import (
    InMemoryLogRecordExporter,
    LoggerProvider,
    SimpleLogRecordProcessor,
)
from foundation_telemetry.correlation import correlated
from foundation_telemetry.defensive import SkipReason, skipped
from foundation_telemetry.events import emit, span
from foundation_telemetry.events._attributes import MAX_SEQUENCE_LENGTH, MAX_STRING_LENGTH
from foundation_telemetry.handlers import attach


def _invalid_inputs() -> int:
    return skipped("events", SkipReason.INVALID_INPUT)


class Color(enum.Enum):
    RED = "red"


class TestEmit:
    def test_event_name_measurements_and_metadata_become_attributes(self, pipeline):
        """The event carries its name, measurements and metadata as attributes."""
        emit("foundation.retry.backoff", {"delay": 0.5}, **{"retry.name": "fetch", "attempt": 2})
        (record,) = pipeline.events("foundation.retry.backoff")
        assert record.attributes["delay"] == 0.5
        assert record.attributes["retry.name"] == "fetch"
        assert record.attributes["attempt"] == 2

    def test_standard_fields(self, pipeline):
        """Timestamp, host name and process id are stamped on every event."""
        emit("app.ping")
        (record,) = pipeline.events("app.ping")
        assert record.timestamp > 0
        assert record.attributes["host.name"] == socket.gethostname()
        assert record.attributes["process.pid"] == os.getpid()
        assert "correlation_id" not in record.attributes

    def test_correlation_id_when_set(self, pipeline):
        """Inside correlated() the event carries the correlation id."""
        with correlated("req-42"):
            emit("app.ping")
        emit("app.after")
        assert pipeline.events("app.ping")[0].attributes["correlation_id"] == "req-42"
        assert "correlation_id" not in pipeline.events("app.after")[0].attributes

    def test_trace_context_of_current_span(self, pipeline):
        """An event emitted inside a span carries that span's trace and span id."""
        tracer = pipeline.tracer_provider.get_tracer("t")
        with tracer.start_as_current_span("outer") as span:
            emit("app.inside")
        (record,) = pipeline.events("app.inside")
        context = span.get_span_context()
        assert (record.trace_id, record.span_id) == (context.trace_id, context.span_id)

    def test_tuple_name_is_joined(self, pipeline):
        """A tuple of parts is joined with dots, like :telemetry's event lists."""
        emit(("foundation", "service", "started"))
        assert pipeline.event_names() == ["foundation.service.started"]

    def test_non_string_name_is_coerced_and_counted(self, pipeline):
        """A name that is not a string goes out as str(name) and is counted."""
        before = _invalid_inputs()
        emit(42)  # type: ignore[arg-type]
        assert pipeline.event_names() == ["42"]
        assert _invalid_inputs() == before + 1

    def test_empty_name_is_replaced_and_counted(self, pipeline):
        """An empty name becomes foundation.invalid_name and is counted."""
        before = _invalid_inputs()
        emit("")
        assert pipeline.event_names() == ["foundation.invalid_name"]
        assert _invalid_inputs() == before + 1

    def test_nan_inf_and_none_are_dropped_rest_goes_out(self, pipeline):
        """Values OpenTelemetry cannot carry are dropped per attribute and counted."""
        before = _invalid_inputs()
        emit("app.bad", {"nan": math.nan, "inf": math.inf, "ok": 1.5}, missing=None, kept="yes")
        (record,) = pipeline.events("app.bad")
        assert "nan" not in record.attributes
        assert "inf" not in record.attributes
        assert "missing" not in record.attributes
        assert record.attributes["ok"] == 1.5
        assert record.attributes["kept"] == "yes"
        assert _invalid_inputs() == before + 3

    def test_huge_values_are_coerced(self, pipeline):
        """Huge ints become strings; huge strings and sequences are truncated; all counted."""
        before = _invalid_inputs()
        emit(
            "app.huge",
            {"big": 10**30},
            text="x" * (MAX_STRING_LENGTH + 10),
            items=list(range(MAX_SEQUENCE_LENGTH + 5)),
        )
        attributes = pipeline.events("app.huge")[0].attributes
        assert attributes["big"] == str(10**30)
        assert len(attributes["text"]) == MAX_STRING_LENGTH
        assert len(attributes["items"]) == MAX_SEQUENCE_LENGTH
        assert _invalid_inputs() == before + 3

    def test_objects_are_coerced_without_loss_when_natural(self, pipeline):
        """Enums and homogeneous sequences are converted without counting a skip."""
        before = _invalid_inputs()
        emit("app.natural", color=Color.RED, tags=["a", "b"], flags=(True, False))
        attributes = pipeline.events("app.natural")[0].attributes
        assert attributes["color"] == "red"
        assert tuple(attributes["tags"]) == ("a", "b")
        assert tuple(attributes["flags"]) == (True, False)
        assert _invalid_inputs() == before

    def test_unprintable_object_is_dropped(self, pipeline):
        """A value whose str() raises is dropped; the event still goes out."""

        class Unprintable:
            def __str__(self) -> str:
                raise RuntimeError("no")

        emit("app.obj", thing=Unprintable(), fine=1)
        attributes = pipeline.events("app.obj")[0].attributes
        assert "thing" not in attributes
        assert attributes["fine"] == 1

    def test_mixed_sequence_becomes_strings(self, pipeline):
        """A mixed-type sequence is carried as strings and counted."""
        before = _invalid_inputs()
        emit("app.mixed", values=[1, "a", 2.5])
        assert tuple(pipeline.events("app.mixed")[0].attributes["values"]) == ("1", "a", "2.5")
        assert _invalid_inputs() == before + 1

    def test_non_string_measurement_key_is_coerced(self, pipeline):
        """A measurement keyed by a non-string is carried under str(key)."""
        emit("app.keys", {1: 2.0})  # type: ignore[dict-item]
        assert pipeline.events("app.keys")[0].attributes["1"] == 2.0

    def test_handlers_get_raw_inputs(self, pipeline):
        """Handlers receive measurements and metadata as the caller passed them."""
        seen = []
        marker = object()
        attach("raw", "app.raw", lambda *args: seen.append(args))
        emit("app.raw", {"n": 1}, obj=marker)
        assert seen == [("app.raw", {"n": 1}, {"obj": marker}, None)]

    def test_broken_pipeline_never_raises(self, pipeline):
        """A processor that raises inside the logger is counted, and handlers still run."""

        class Exploding:
            def on_emit(self, log_record):
                raise RuntimeError("processor down")

            def shutdown(self):
                pass

            def force_flush(self, timeout_millis=30000):
                return True

        pipeline.logger_provider.add_log_record_processor(Exploding())  # type: ignore[arg-type]
        seen = []
        attach("still", "app.x", lambda *args: seen.append(args[0]))
        before = skipped("events", SkipReason.UNEXPECTED)
        emit("app.x")
        assert seen == ["app.x"]
        assert skipped("events", SkipReason.UNEXPECTED) == before + 1

    def test_emit_from_threads(self, telemetry):
        """Events emitted concurrently from threads all arrive, each with its own attributes."""
        start = threading.Barrier(4)

        def worker(index: int) -> None:
            start.wait()
            for step in range(25):
                emit("app.thread", worker=index, step=step)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        with telemetry.assert_telemetry_event("app.thread", count=100, timeout=30) as seen:
            for thread in threads:
                thread.start()
        pairs = {(r.attributes["worker"], r.attributes["step"]) for r in seen.records}
        assert pairs == {(w, s) for w in range(4) for s in range(25)}
        assert {r.thread for r in seen.records} == {t.name for t in threads}
        for thread in threads:
            thread.join(10)

    async def test_emit_from_tasks_keeps_each_tasks_context(self, telemetry):
        """Tasks emitting concurrently stamp their own correlation id and span."""
        both_started = asyncio.Event()
        started = 0

        async def task(name: str) -> int:
            nonlocal started
            with correlated(name), span(name) as current:
                started += 1
                if started == 2:
                    both_started.set()
                await both_started.wait()
                emit("app.task", task=name)
                return current.get_span_context().span_id

        ids = await asyncio.gather(task("a"), task("b"))
        (first,) = telemetry.events("app.task", correlation_id="a")
        (second,) = telemetry.events("app.task", correlation_id="b")
        assert (first.attributes["task"], second.attributes["task"]) == ("a", "b")
        assert (first.span_id, second.span_id) == tuple(ids)

    def test_no_pipeline_is_harmless(self):
        """Without a configured pipeline emit() does nothing and counts no failure."""
        before = skipped("events", SkipReason.UNEXPECTED)
        emit("app.nowhere", value=1)
        assert skipped("events", SkipReason.UNEXPECTED) == before


class TestProviders:
    def test_follows_rebinding(self, pipeline):
        """After the globals are rebound (a second configure()), events go to the new providers."""
        emit("app.first")
        exporter = InMemoryLogRecordExporter()
        second = LoggerProvider()
        second.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        _globals.rebind(pipeline.tracer_provider, MeterProvider(), second)
        emit("app.second")
        assert pipeline.event_names() == ["app.first"]
        assert [i.log_record.event_name for i in exporter.get_finished_logs()] == ["app.second"]

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
    def test_forked_child_stamps_its_own_pid(self, pipeline):
        """In a forked child, process.pid is the child's pid."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            try:
                emit("app.in_child")
                record = pipeline.events("app.in_child")[0]
                os.write(write_end, f"{record.attributes['process.pid']} {os.getpid()}".encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            reported, actual = pipe.read().split()
        os.waitpid(pid, 0)
        assert reported == actual == str(pid)


_FOREIGN_GLOBAL = """
from opentelemetry import _logs
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from foundation_telemetry import emit
exporter = InMemoryLogRecordExporter()
provider = LoggerProvider()
provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
_logs.set_logger_provider(provider)
emit("app.foreign", answer=42)
(item,) = exporter.get_finished_logs()
print(item.log_record.event_name, item.log_record.attributes["answer"])
"""

_CONFIGURED = """
import foundation_telemetry as ft
telemetry = ft.configure("svc", exporter="memory")
ft.emit("app.configured", answer=42)
(event,) = telemetry.recorder.events("app.configured")
print(event.name, event.attributes["answer"])
telemetry.shutdown()
"""


class TestGlobalProviders:
    @pytest.mark.parametrize(
        ("script", "expected"),
        [(_FOREIGN_GLOBAL, "app.foreign 42"), (_CONFIGURED, "app.configured 42")],
        ids=["foreign-sdk-global", "configure"],
    )
    def test_events_reach_the_global_provider(self, script, expected):
        """emit() reaches a plain SDK global set by the application, and configure()'s pipeline."""
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == expected
        assert done.stderr == ""
