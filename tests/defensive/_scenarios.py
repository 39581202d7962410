"""Fault scenarios, run as a subprocess: ``python _scenarios.py MODE SCENARIO [ARG]``.

MODE is ``defensive`` (every component behind our wrappers, providers built with
``shutdown_on_exit=False``, the coordinator shuts down at exit) or ``stock`` (the same components
unwrapped on stock providers), so the same application can be measured both ways. The script
prints ``END <monotonic time>`` when the application's own work is done, ``RESULT <json>`` with
what it observed (escaped exceptions, delivered items, context state, worker threads) and, from
an ``atexit`` hook that runs after the coordinator, ``FINAL <json>`` with the skip counts. It
exits with code 3, the application's own.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
import time
from typing import Any

MODE, SCENARIO = sys.argv[1], sys.argv[2]
ARG = sys.argv[3] if len(sys.argv) > 3 else ""
DEFENSIVE = MODE == "defensive"
APP_EXIT_CODE = 3
SPANS = 5
LOGS = 4
SHUTDOWN_TIMEOUT = float(os.environ.get("SCENARIO_SHUTDOWN_TIMEOUT", "1.0"))

_final_extra: dict[str, Any] = {}


_PID = os.getpid()


def _final() -> None:
    """Print the skip ledger after the coordinator ran (registered first, so it runs last)."""
    if os.getpid() != _PID:  # a forked child reports through its pipe
        return
    payload: dict[str, Any] = dict(_final_extra)
    if DEFENSIVE:
        from foundation_telemetry.defensive import health

        payload["skips"] = [
            [component, reason, count]
            for component, reasons in health()["skipped"].items()
            for reason, count in reasons.items()
        ]
    sys.stdout.write("FINAL " + json.dumps(payload) + "\n")
    sys.stdout.flush()


atexit.register(_final)

from opentelemetry import context as otel_context  # noqa: E402
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler, LogRecordProcessor  # noqa: E402
from opentelemetry.sdk._logs.export import (  # noqa: E402
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import (  # noqa: E402
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

if DEFENSIVE:
    from foundation_telemetry import defensive as d

    d.set_shutdown_timeout(SHUTDOWN_TIMEOUT)


# --------------------------------------------------------------------------- fault makers


def _recurse(depth: int = 0) -> int:
    return _recurse(depth + 1) + 1


def _raise_runtime() -> None:
    raise RuntimeError("component failed")


def _raise_type() -> None:
    len(5)  # type: ignore[arg-type]  # a real TypeError


def _raise_closed() -> None:
    stream = open(os.devnull, "w")  # noqa: SIM115
    stream.close()
    stream.write("x")  # ValueError: I/O operation on closed file


def _raise_memory() -> None:
    bytearray(1 << 62)  # MemoryError: cannot allocate


def _raise_recursion() -> None:
    _recurse()


def _raise_import() -> None:
    raise ImportError("sys.meta_path is None, Python is likely shutting down")


def _raise_keyboard() -> None:
    raise KeyboardInterrupt


def _raise_exit() -> None:
    raise SystemExit(9)


FAULTS = {
    "RuntimeError": _raise_runtime,
    "TypeError": _raise_type,
    "ClosedStream": _raise_closed,
    "MemoryError": _raise_memory,
    "RecursionError": _raise_recursion,
    "ImportError": _raise_import,
    "KeyboardInterrupt": _raise_keyboard,
    "SystemExit": _raise_exit,
}


class FaultySpanProcessor(SpanProcessor):
    """Raises *fault* from *hook* only."""

    def __init__(self, hook: str, fault: Any) -> None:
        self.hook, self.fault = hook, fault

    def _maybe(self, hook: str) -> None:
        if hook == self.hook:
            self.fault()

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self._maybe("on_start")

    def _on_ending(self, span: Any) -> None:
        self._maybe("_on_ending")

    def on_end(self, span: Any) -> None:
        self._maybe("on_end")

    def shutdown(self) -> None:
        self._maybe("shutdown")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self._maybe("force_flush")
        return True


class FaultySpanExporter(SpanExporter):
    def __init__(self, hook: str, fault: Any) -> None:
        self.hook, self.fault = hook, fault

    def export(self, spans: Any) -> SpanExportResult:
        if self.hook == "export":
            self.fault()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self.hook == "shutdown":
            self.fault()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self.hook == "force_flush":
            self.fault()
        return True


class FaultyLogProcessor(LogRecordProcessor):
    def __init__(self, hook: str, fault: Any) -> None:
        self.hook, self.fault = hook, fault

    def on_emit(self, log_record: Any) -> None:
        if self.hook == "on_emit":
            self.fault()

    def shutdown(self) -> None:
        if self.hook == "shutdown":
            self.fault()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self.hook == "force_flush":
            self.fault()
        return True


class FaultyLogExporter(LogRecordExporter):
    def __init__(self, hook: str, fault: Any) -> None:
        self.hook, self.fault = hook, fault

    def export(self, batch: Any) -> LogRecordExportResult:
        if self.hook == "export":
            self.fault()
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        if self.hook == "shutdown":
            self.fault()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self.hook == "force_flush":
            self.fault()
        return True


class FaultyMetricExporter(MetricExporter):
    def __init__(self, hook: str, fault: Any) -> None:
        super().__init__()
        self.hook, self.fault = hook, fault

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        if self.hook == "export":
            self.fault()
        return MetricExportResult.SUCCESS

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        if self.hook == "shutdown":
            self.fault()

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        if self.hook == "force_flush":
            self.fault()
        return True


class FaultyReader(InMemoryMetricReader):
    def __init__(self, hook: str, fault: Any) -> None:
        super().__init__()
        self.hook, self.fault = hook, fault

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        if self.hook == "shutdown":
            self.fault()

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        if self.hook == "force_flush":
            self.fault()
        return True


class HangingSpanExporter(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        threading.Event().wait()  # hangs forever
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        threading.Event().wait()


class HangingLogExporter(LogRecordExporter):
    def export(self, batch: Any) -> LogRecordExportResult:
        threading.Event().wait()
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        threading.Event().wait()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        threading.Event().wait()
        return True


class HangingMetricExporter(MetricExporter):
    def __init__(self) -> None:
        super().__init__()

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        threading.Event().wait()

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        threading.Event().wait()

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        threading.Event().wait()
        return True


class FailingSpanExporter(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.FAILURE


class FailingLogExporter(LogRecordExporter):
    def export(self, batch: Any) -> LogRecordExportResult:
        return LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class FailingMetricExporter(MetricExporter):
    def __init__(self) -> None:
        super().__init__()

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        return MetricExportResult.FAILURE

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        pass

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True


# --------------------------------------------------------------------------- wiring


def sp(processor: Any, name: str | None = None) -> Any:
    return d.DefensiveSpanProcessor(processor, name=name) if DEFENSIVE else processor


def se(exporter: Any, name: str | None = None) -> Any:
    return d.DefensiveSpanExporter(exporter, name=name) if DEFENSIVE else exporter


def lp(processor: Any, name: str | None = None) -> Any:
    return d.DefensiveLogRecordProcessor(processor, name=name) if DEFENSIVE else processor


def le(exporter: Any, name: str | None = None) -> Any:
    return d.DefensiveLogExporter(exporter, name=name) if DEFENSIVE else exporter


def mr(reader: Any, name: str | None = None) -> Any:
    return d.DefensiveMetricReader(reader, name=name) if DEFENSIVE else reader


def me(exporter: Any, name: str | None = None) -> Any:
    return d.DefensiveMetricExporter(exporter, name=name) if DEFENSIVE else exporter


class Pipelines:
    """Three providers; each signal has a healthy in-memory pipeline beside the faulty ones."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.logs = InMemoryLogRecordExporter()
        self.metrics = InMemoryMetricReader()
        exit_hooks = not DEFENSIVE
        self.tracer_provider = TracerProvider(shutdown_on_exit=exit_hooks)
        self.logger_provider = LoggerProvider(shutdown_on_exit=exit_hooks)
        self.readers: list[Any] = [mr(self.metrics, "healthy-reader")]
        self.extra_meter_providers: list[Any] = []
        self.tracer_provider.add_span_processor(
            sp(SimpleSpanProcessor(se(self.spans, "healthy-span-exporter")), "healthy-spans")
        )
        self.logger_provider.add_log_record_processor(
            lp(SimpleLogRecordProcessor(le(self.logs, "healthy-log-exporter")), "healthy-logs")
        )
        handler_cls: Any = d.DefensiveLoggingHandler if DEFENSIVE else LoggingHandler
        self.handler = handler_cls(logger_provider=self.logger_provider)
        self.app_logger = logging.getLogger("app")
        self.app_logger.addHandler(self.handler)
        self.app_logger.propagate = False
        self.app_logger.setLevel(logging.INFO)

    def build_meter_provider(self) -> MeterProvider:
        self.meter_provider = MeterProvider(
            metric_readers=self.readers, shutdown_on_exit=not DEFENSIVE
        )
        return self.meter_provider

    def extra_meter_provider(self, readers: list[Any]) -> MeterProvider:
        provider = MeterProvider(metric_readers=readers, shutdown_on_exit=not DEFENSIVE)
        self.extra_meter_providers.append(provider)
        return provider

    def register_exit(self) -> None:
        if not DEFENSIVE:
            return

        class _Settings:
            shutdown_timeout = SHUTDOWN_TIMEOUT

        class _Telemetry:
            settings = _Settings()
            tracer_provider = self.tracer_provider
            meter_provider = self.meter_provider
            logger_provider = self.logger_provider
            is_shut_down = False

        self._telemetry = _Telemetry()
        d.register_for_exit(self._telemetry)


escapes: list[str] = []


def attempt(label: str, fn: Any) -> Any:
    """Run one application call; record (and stop) any exception that escaped into it."""
    try:
        return fn()
    except BaseException as error:  # noqa: BLE001 - that is what we measure
        escapes.append(f"{label}:{type(error).__name__}")
        return None


def emit_all(p: Pipelines, tag: str, spans: int = SPANS, logs: int = LOGS) -> None:
    tracer = p.tracer_provider.get_tracer("app")
    for i in range(spans):

        def one(i: int = i) -> None:
            with tracer.start_as_current_span(f"{tag}-span-{i}"):
                pass

        attempt("span", one)
    for i in range(logs):
        attempt("log", lambda i=i: p.app_logger.warning("%s log %d", tag, i))
    counter = p.meter_provider.get_meter("app").create_counter("app.requests")
    attempt("counter", lambda: counter.add(1))


def requests_of(reader: InMemoryMetricReader) -> float:
    """The ``app.requests`` total *reader* collects (0 when collecting fails)."""
    data = attempt("collect", reader.get_metrics_data)
    requests = 0
    if data is not None:
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == "app.requests":
                        requests = sum(point.value for point in metric.data.data_points)
    return requests


def delivered(p: Pipelines) -> dict[str, Any]:
    return {
        "spans": len(p.spans.get_finished_spans()),
        "logs": len(p.logs.get_finished_logs()),
        "requests": requests_of(p.metrics),
    }


def report(p: Pipelines | None, **extra: Any) -> None:
    suppress_key = otel_context._SUPPRESS_INSTRUMENTATION_KEY
    workers = sorted(
        t.name
        for t in threading.enumerate()
        if t.name.startswith("OtelBatch") or "Periodic" in t.name
    )
    result: dict[str, Any] = {
        "escapes": escapes,
        "context_suppressed": bool(otel_context.get_value(suppress_key)),
        "workers": workers,
        **extra,
    }
    if p is not None:
        result["delivered"] = delivered(p)
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.write(f"END {time.monotonic()}\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- scenarios

SPAN_PROCESSOR_HOOKS = ("on_start", "_on_ending", "on_end", "force_flush", "shutdown")
EXPORTER_HOOKS = ("export", "force_flush", "shutdown")
LOG_PROCESSOR_HOOKS = ("on_emit", "force_flush", "shutdown")
READER_HOOKS = ("force_flush", "shutdown")


def scenario_matrix(category: str) -> None:
    """Every hook of every component raises *category*; healthy pipelines run beside them."""
    fault = FAULTS[category]
    p = Pipelines()
    span_exporters = []
    for hook in SPAN_PROCESSOR_HOOKS:
        p.tracer_provider.add_span_processor(
            sp(FaultySpanProcessor(hook, fault), f"span-processor.{hook}")
        )
    for hook in EXPORTER_HOOKS:
        exporter = se(FaultySpanExporter(hook, fault), f"span-exporter.{hook}")
        span_exporters.append(exporter)
        p.tracer_provider.add_span_processor(sp(SimpleSpanProcessor(exporter), f"simple.{hook}"))
    batch_exporter = se(FaultySpanExporter("export", fault), "batch-span-exporter.export")
    p.tracer_provider.add_span_processor(
        sp(BatchSpanProcessor(batch_exporter, schedule_delay_millis=50), "batch-spans")
    )
    log_exporters = []
    for hook in LOG_PROCESSOR_HOOKS:
        p.logger_provider.add_log_record_processor(
            lp(FaultyLogProcessor(hook, fault), f"log-processor.{hook}")
        )
    for hook in EXPORTER_HOOKS:
        exporter = le(FaultyLogExporter(hook, fault), f"log-exporter.{hook}")
        log_exporters.append(exporter)
        p.logger_provider.add_log_record_processor(
            lp(SimpleLogRecordProcessor(exporter), f"simple-log.{hook}")
        )
    for hook in READER_HOOKS:
        p.readers.append(mr(FaultyReader(hook, fault), f"reader.{hook}"))
    for hook in EXPORTER_HOOKS:
        exporter = me(FaultyMetricExporter(hook, fault), f"metric-exporter.{hook}")
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
        p.readers.append(mr(reader, f"periodic.{hook}"))
    p.build_meter_provider()
    # Observable callbacks run on their own provider: they affect every reader of a provider.
    callback_reader = InMemoryMetricReader()
    callback_provider = p.extra_meter_provider([mr(callback_reader, "callback-reader")])

    def failing_callback(options: Any) -> Any:
        fault()
        return []

    callback_provider.get_meter("app").create_observable_gauge(
        "app.broken", callbacks=[failing_callback]
    )
    p.register_exit()

    emit_all(p, "matrix")
    attempt("collect_callbacks", callback_reader.get_metrics_data)
    for exporter in span_exporters + log_exporters:
        attempt("exporter.force_flush", exporter.force_flush)
    attempt("tracer_provider.force_flush", p.tracer_provider.force_flush)
    attempt("logger_provider.force_flush", p.logger_provider.force_flush)
    attempt("meter_provider.force_flush", p.meter_provider.force_flush)
    report(p)


def scenario_hang(_: str) -> None:
    """Exporters that never return, in batch processors and a periodic reader, all signals."""
    p = Pipelines()
    p.tracer_provider.add_span_processor(
        sp(BatchSpanProcessor(se(HangingSpanExporter(), "hanging-spans"), schedule_delay_millis=20))
    )
    p.logger_provider.add_log_record_processor(
        lp(
            BatchLogRecordProcessor(
                le(HangingLogExporter(), "hanging-logs"), schedule_delay_millis=20
            )
        )
    )
    p.readers.append(
        mr(
            PeriodicExportingMetricReader(
                me(HangingMetricExporter(), "hanging-metrics"), export_interval_millis=60_000
            )
        )
    )
    p.build_meter_provider()
    p.register_exit()
    emit_all(p, "hang")
    report(p)


def scenario_failure(_: str) -> None:
    """Exporters that return FAILURE (the stock SDK ignores the result)."""
    p = Pipelines()
    p.tracer_provider.add_span_processor(
        sp(SimpleSpanProcessor(se(FailingSpanExporter(), "failing-spans")))
    )
    p.logger_provider.add_log_record_processor(
        lp(SimpleLogRecordProcessor(le(FailingLogExporter(), "failing-logs")))
    )
    failing_reader = PeriodicExportingMetricReader(
        me(FailingMetricExporter(), "failing-metrics"), export_interval_millis=60_000
    )
    p.readers.append(mr(failing_reader))
    p.build_meter_provider()
    p.register_exit()
    emit_all(p, "failure")
    attempt("meter_provider.force_flush", p.meter_provider.force_flush)
    report(p, available=d.available() if DEFENSIVE else None)


def scenario_otlp(arg: str) -> None:
    """Real OTLP exporters (gRPC or HTTP) to an endpoint that is closed or never answers."""
    protocol, endpoint = arg.split(",", 1)
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporters = (
            OTLPSpanExporter(endpoint=endpoint, insecure=True),
            OTLPLogExporter(endpoint=endpoint, insecure=True),
            OTLPMetricExporter(endpoint=endpoint, insecure=True),
        )
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import (
            OTLPLogExporter as HTTPLogExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HTTPMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HTTPSpanExporter,
        )

        exporters = (
            HTTPSpanExporter(endpoint=f"{endpoint}/v1/traces"),
            HTTPLogExporter(endpoint=f"{endpoint}/v1/logs"),
            HTTPMetricExporter(endpoint=f"{endpoint}/v1/metrics"),
        )
    p = Pipelines()
    p.tracer_provider.add_span_processor(
        sp(BatchSpanProcessor(se(exporters[0]), schedule_delay_millis=20))
    )
    p.logger_provider.add_log_record_processor(
        lp(BatchLogRecordProcessor(le(exporters[1]), schedule_delay_millis=20))
    )
    p.readers.append(
        mr(PeriodicExportingMetricReader(me(exporters[2]), export_interval_millis=60_000))
    )
    p.build_meter_provider()
    p.register_exit()
    emit_all(p, "otlp")
    report(p)


def scenario_fork(_: str) -> None:
    """Fork with live batch processors and a periodic reader; the child exports its own data."""
    p = Pipelines()
    child_spans = InMemorySpanExporter()
    p.tracer_provider.add_span_processor(
        sp(BatchSpanProcessor(se(child_spans, "batch-memory"), schedule_delay_millis=20))
    )
    recording = RecordingMetricExporter()
    p.readers.append(
        mr(PeriodicExportingMetricReader(me(recording), export_interval_millis=60_000))
    )
    p.build_meter_provider()
    p.register_exit()
    emit_all(p, "parent")
    attempt("parent.flush", p.tracer_provider.force_flush)
    parent_batch = len(child_spans.get_finished_spans())
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        child_spans.clear()
        p.spans.clear()
        emit_all(p, "child", spans=2, logs=0)
        attempt("child.flush", p.tracer_provider.force_flush)
        attempt("child.metrics_flush", p.meter_provider.force_flush)
        info = {
            "batch_spans": len(child_spans.get_finished_spans()),
            "delivered": delivered(p),
            "periodic_requests": recording.requests,
            "escapes": escapes,
            "workers": sorted(t.name for t in threading.enumerate() if t.name.startswith("Otel")),
        }
        os.write(write_fd, json.dumps(info).encode())
        os.close(write_fd)
        sys.exit(0)  # a normal exit: the child runs its own (inherited) exit sequence
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    child = json.loads(b"".join(chunks) or b"{}")
    report(p, child=child, child_status=status, parent_batch=parent_batch)


class RecordingMetricExporter(MetricExporter):
    """Remembers the last exported value of ``app.requests``."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: float | None = None

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        for resource in metrics_data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == "app.requests":
                        self.requests = sum(point.value for point in metric.data.data_points)
        return MetricExportResult.SUCCESS

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        pass

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True


class Leaky:
    """Emits telemetry from ``__del__``, which runs during interpreter teardown."""

    def __init__(self, p: Pipelines) -> None:
        self.logger = p.app_logger
        self.tracer = p.tracer_provider.get_tracer("app")

    def __del__(self) -> None:
        self.logger.warning("collected at teardown")
        with self.tracer.start_as_current_span("teardown"):
            pass


def scenario_del(_: str) -> None:
    """Telemetry from ``__del__`` at interpreter teardown (module globals are being cleared)."""
    p = Pipelines()
    p.logger_provider.add_log_record_processor(
        lp(BatchLogRecordProcessor(le(InMemoryLogRecordExporter()), schedule_delay_millis=20))
    )
    p.build_meter_provider()
    p.register_exit()
    emit_all(p, "del")
    global _leaky
    _leaky = Leaky(p)
    _leaky.self_cycle = _leaky  # collected only at teardown
    report(p)


class RandomFaultProcessor(SpanProcessor):
    """Raises a random exception from on_end for about a quarter of the spans; counts itself."""

    def __init__(self) -> None:
        import random

        self._random = random.Random(7)
        self._lock = threading.Lock()
        self.calls = 0
        self.raised = 0

    def on_end(self, span: Any) -> None:
        with self._lock:
            self.calls += 1
            fail = self._random.random() < 0.25
            if fail:
                self.raised += 1
        if fail:
            raise (RuntimeError, TypeError, ValueError, OSError)[self.calls % 4]("random fault")


class CountingProcessor(SpanProcessor):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen = 0

    def on_end(self, span: Any) -> None:
        with self._lock:
            self.seen += 1


def scenario_stress(_: str) -> None:
    """8 threads emit spans, events and metrics while components fail and shutdown starts."""
    p = Pipelines()
    faulty = RandomFaultProcessor()
    counting = CountingProcessor()
    p.tracer_provider.add_span_processor(sp(faulty, "random-fault"))
    p.tracer_provider.add_span_processor(sp(counting, "counting"))
    p.tracer_provider.add_span_processor(
        sp(
            BatchSpanProcessor(
                se(FaultySpanExporter("export", _raise_runtime), "stress-batch-exporter"),
                schedule_delay_millis=5,
            )
        )
    )
    p.build_meter_provider()
    p.register_exit()
    tracer = p.tracer_provider.get_tracer("stress")
    counter = p.meter_provider.get_meter("stress").create_counter("stress.ops")
    per_thread = 300
    started = threading.Barrier(9)
    halfway = threading.Event()
    resumed = threading.Event()
    thread_escapes: list[str] = []
    emitted = [0] * 8

    def work(index: int) -> None:
        started.wait()
        for i in range(per_thread):
            try:
                with tracer.start_as_current_span("stress"):
                    counter.add(1)
                p.app_logger.warning("event %d", i)
            except BaseException as error:  # noqa: BLE001 - measured
                thread_escapes.append(type(error).__name__)
            emitted[index] += 1
            if index == 0 and i == per_thread // 2:
                halfway.set()
                resumed.wait()  # the rest of this thread's spans come after the shutdown

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    started.wait()
    halfway.wait()
    if DEFENSIVE:
        ok = d.shutdown_all(
            p.tracer_provider, p.meter_provider, p.logger_provider, SHUTDOWN_TIMEOUT
        )
    else:
        ok = attempt(
            "shutdown",
            lambda: (
                p.tracer_provider.shutdown(),
                p.meter_provider.shutdown(),
                p.logger_provider.shutdown(),
            ),
        )
    resumed.set()
    for thread in threads:
        thread.join()
    escapes.extend(thread_escapes)
    report(
        None,
        spans=sum(emitted),
        faulty_calls=faulty.calls,
        faulty_raised=faulty.raised,
        counting_seen=counting.seen,
        shutdown_ok=ok,
    )


def scenario_configure(arg: str) -> None:
    """The product path: ``configure()`` with OTLP to an unreachable collector, all signals."""
    from opentelemetry import metrics, trace

    import foundation_telemetry

    protocol, endpoint = arg.split(",", 1)
    if not DEFENSIVE:  # the stock equivalent: the SDK's own auto-configuration path
        from opentelemetry.sdk._configuration import _initialize_components

        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
        os.environ["OTEL_EXPORTER_OTLP_PROTOCOL"] = (
            "grpc" if protocol == "grpc" else "http/protobuf"
        )
        os.environ["OTEL_TRACES_EXPORTER"] = "otlp"
        os.environ["OTEL_METRICS_EXPORTER"] = "otlp"
        os.environ["OTEL_LOGS_EXPORTER"] = "otlp"
        os.environ["OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"] = "true"
        _initialize_components()
    else:
        foundation_telemetry.configure(
            "scenario",
            exporter="otlp",
            endpoint=endpoint,
            protocol="grpc" if protocol == "grpc" else "http/protobuf",
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            logging_bridge=True,
        )
    tracer = trace.get_tracer("app")
    counter = metrics.get_meter("app").create_counter("app.requests")
    logger = logging.getLogger("app.configure")
    for i in range(SPANS):
        attempt("span", lambda i=i: tracer.start_span(f"configure-{i}").end())
        attempt("counter", lambda: counter.add(1))
        attempt("log", lambda i=i: logger.warning("configured log %d", i))
    report(None)


def _otlp_span_exporter(protocol: str, endpoint: str) -> Any:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, insecure=True)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HTTPSpanExporter,
    )

    return HTTPSpanExporter(endpoint=f"{endpoint}/v1/traces")


def scenario_simple_down(arg: str) -> None:
    """A ``SimpleSpanProcessor`` around OTLP to a down collector, passed to ``configure()``."""
    protocol, endpoint = arg.split(",", 1)
    processor = SimpleSpanProcessor(_otlp_span_exporter(protocol, endpoint))
    if DEFENSIVE:
        import foundation_telemetry

        timeout = os.environ.get("SCENARIO_EXPORT_TIMEOUT")
        telemetry = foundation_telemetry.configure(
            "scenario",
            exporter="none",
            set_global=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            span_processors=[processor],
            **({"export_timeout": float(timeout)} if timeout else {}),
        )
        provider: Any = telemetry.tracer_provider
    else:
        provider = TracerProvider()
        provider.add_span_processor(processor)
    tracer = provider.get_tracer("app")
    costs = []
    for i in range(SPANS):
        started = time.perf_counter()
        attempt("span", lambda i=i: tracer.start_span(f"simple-{i}").end())
        costs.append(time.perf_counter() - started)
    report(None, span_end_seconds=costs)


def scenario_exit_budget(arg: str) -> None:
    """``configure(shutdown_timeout=...)`` with a hanging exporter, global or not (ARG)."""
    import foundation_telemetry

    # A process default far above the Telemetry's own budget: the exit must use the latter.
    d.set_shutdown_timeout(float(os.environ.get("SCENARIO_DEFAULT_TIMEOUT", "30")))
    telemetry = foundation_telemetry.configure(
        "scenario",
        exporter="none",
        set_global=arg == "global",
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        span_exporters=[HangingSpanExporter()],
    )
    _final_extra["telemetry"] = id(telemetry)
    global _kept
    _kept = telemetry
    tracer = telemetry.tracer_provider.get_tracer("app")
    for i in range(SPANS):
        attempt("span", lambda i=i: tracer.start_span(f"budget-{i}").end())
    report(None)


def _hand_built(hooks: bool) -> tuple[Any, Any, Any]:
    """Three providers with the SDK's own exit hooks (``shutdown_on_exit`` default)."""
    return (
        TracerProvider(shutdown_on_exit=hooks),
        MeterProvider(shutdown_on_exit=hooks),
        LoggerProvider(shutdown_on_exit=hooks),
    )


def scenario_providers(arg: str) -> None:
    """N tracer providers left with ``shutdown_on_exit=True``, hanging exporters, then exit.

    ARG is ``N,hand`` (each wrapped by hand) or ``N,harden`` (each passed to ``harden()``).
    """
    count, how = arg.split(",")
    keep = []
    for n in range(int(count)):
        provider = TracerProvider()  # shutdown_on_exit=True, the SDK's default
        if how == "harden":
            import foundation_telemetry

            provider.add_span_processor(
                BatchSpanProcessor(HangingSpanExporter(), schedule_delay_millis=20)
            )
            foundation_telemetry.harden(tracer_provider=provider, shutdown_timeout=SHUTDOWN_TIMEOUT)
        else:
            provider.add_span_processor(
                sp(BatchSpanProcessor(se(HangingSpanExporter()), schedule_delay_millis=20))
            )
        tracer = provider.get_tracer("app")
        attempt("span", lambda n=n, tracer=tracer: tracer.start_span(f"provider-{n}").end())
        keep.append(provider)
    _final_extra["providers"] = len(keep)
    global _kept
    _kept = keep
    report(None)


_kept: Any = None


def scenario_harden(_: str) -> None:
    """Stock providers built by hand, every component kind failing, then ``harden()``."""
    import foundation_telemetry

    fault = _raise_runtime
    tracer_provider = TracerProvider()
    logger_provider = LoggerProvider()
    spans, logs, metrics_reader = (
        InMemorySpanExporter(),
        InMemoryLogRecordExporter(),
        InMemoryMetricReader(),
    )
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    for hook in SPAN_PROCESSOR_HOOKS:
        tracer_provider.add_span_processor(FaultySpanProcessor(hook, fault))
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    for hook in EXPORTER_HOOKS:
        logger_provider.add_log_record_processor(
            SimpleLogRecordProcessor(FaultyLogExporter(hook, fault))
        )
    readers: list[Any] = [metrics_reader, FaultyReader("force_flush", fault)]
    readers.append(
        PeriodicExportingMetricReader(
            FaultyMetricExporter("export", fault), export_interval_millis=60_000
        )
    )
    meter_provider = MeterProvider(metric_readers=readers)
    telemetry = foundation_telemetry.harden(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    # Added after harden(): wrapped too.
    for hook in EXPORTER_HOOKS:
        tracer_provider.add_span_processor(SimpleSpanProcessor(FaultySpanExporter(hook, fault)))
    for hook in LOG_PROCESSOR_HOOKS:
        logger_provider.add_log_record_processor(FaultyLogProcessor(hook, fault))
    handler = d.DefensiveLoggingHandler(logger_provider=logger_provider)
    app_logger = logging.getLogger("app.harden")
    app_logger.addHandler(handler)
    app_logger.propagate = False
    tracer = tracer_provider.get_tracer("app")
    for i in range(SPANS):
        attempt("span", lambda i=i: tracer.start_span(f"harden-{i}").end())
    for i in range(LOGS):
        attempt("log", lambda i=i: app_logger.warning("harden log %d", i))
    counter = meter_provider.get_meter("app").create_counter("app.requests")
    attempt("counter", lambda: counter.add(1))
    attempt("meter_provider.force_flush", meter_provider.force_flush)
    requests = requests_of(metrics_reader)
    global _kept
    late = LateProviderTracer(tracer_provider, app_logger)
    late.self_cycle = late  # collected only at teardown
    _kept = (telemetry, late)
    report(
        None,
        delivered={
            "spans": len(spans.get_finished_spans()),
            "logs": len(logs.get_finished_logs()),
            "requests": requests,
        },
    )


class LateProviderTracer:
    """Asks *provider* for a tracer for the first time in ``__del__``, at teardown."""

    def __init__(self, provider: Any, logger: logging.Logger) -> None:
        self.provider, self.logger = provider, logger
        self.self_cycle: Any = None

    def __del__(self) -> None:
        self.logger.warning("collected at teardown")
        with self.provider.get_tracer("teardown").start_as_current_span("late"):
            pass


class LateTracer:
    """Asks the *global* tracer provider for a tracer for the first time in ``__del__``."""

    def __init__(self) -> None:
        from opentelemetry import trace

        self.get_tracer = trace.get_tracer  # module globals may be gone at teardown
        self.self_cycle: Any = None

    def __del__(self) -> None:
        with self.get_tracer("teardown").start_as_current_span("late"):
            pass


def scenario_proxy_del(_: str) -> None:
    """A tracer from our global proxies first obtained and used in ``__del__`` at teardown."""
    import foundation_telemetry

    foundation_telemetry.configure("scenario", exporter="none", shutdown_timeout=SHUTDOWN_TIMEOUT)
    global _late
    _late = LateTracer()
    _late.self_cycle = _late  # collected only at teardown
    report(None)


_late: Any = None


class StuckAtExitExporter(SpanExporter):
    """Hangs in ``export``; says so on stdout, so the parent can interrupt the exit."""

    def export(self, spans: Any) -> SpanExportResult:
        sys.stdout.write("STUCK\n")
        sys.stdout.flush()
        threading.Event().wait()
        return SpanExportResult.SUCCESS


def scenario_interrupt_exit(_: str) -> None:
    """Spans wait in a batch processor whose final export hangs; the parent sends SIGINT then."""
    p = Pipelines()
    p.tracer_provider.add_span_processor(
        sp(
            BatchSpanProcessor(se(StuckAtExitExporter(), "stuck"), schedule_delay_millis=60_000),
            "stuck-batch",
        )
    )
    p.build_meter_provider()
    p.register_exit()
    emit_all(p, "interrupt")
    report(p)


def scenario_after_shutdown(_: str) -> None:
    """Three wrapped processors on one provider; a span ends after shutdown: counted once."""
    p = Pipelines()
    for n in range(2):
        p.tracer_provider.add_span_processor(sp(CountingProcessor(), f"extra-{n}"))
    p.build_meter_provider()
    p.register_exit()
    tracer = p.tracer_provider.get_tracer("app")
    span = tracer.start_span("late")
    d.shutdown_all(p.tracer_provider, p.meter_provider, p.logger_provider, SHUTDOWN_TIMEOUT)
    attempt("span", span.end)
    attempt("span", lambda: tracer.start_span("after").end())
    report(None)


def main() -> None:
    logging.getLogger("app")  # nothing else configures logging: stock noise goes to lastResort
    globals()[f"scenario_{SCENARIO}"](ARG)
    sys.exit(APP_EXIT_CODE)


if __name__ == "__main__":
    main()
