"""Canaries for every OpenTelemetry private name the package touches (``_otel/_internals.py``).

Each test exercises one accessor against the installed SDK, the newest (``make test``) and the
oldest supported one (``make test-compat``). When an SDK release moves or renames what an
accessor reads, the test fails with the SDK version, the touch and the line to change.
"""

from __future__ import annotations

import contextlib
import inspect
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry import context as otel_context
from opentelemetry import metrics as api_metrics
from opentelemetry.context.context import _RuntimeContext
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import (
    AlwaysOnExemplarFilter,
    Counter,
    ExemplarReservoir,
    Histogram,
    MeterProvider,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from foundation_telemetry._otel import _internals
from foundation_telemetry._otel._internals import SDK_VERSION

_SOURCE = inspect.getsource(_internals).splitlines()


def _line_of(name: str) -> int:
    """The line of *name*'s definition (or import) in ``_internals.py``."""
    for number, line in enumerate(_SOURCE, start=1):
        if line.startswith((f"def {name}(", f"class {name}(", f"{name} =", f"{name}: ")):
            return number
    for number, line in enumerate(_SOURCE, start=1):
        if line.startswith("from ") and line.endswith((f" {name}", f" as {name}")):
            return number
    raise LookupError(name)


@contextlib.contextmanager
def canary(accessor: str, touch: str) -> Iterator[None]:
    """Turn any failure inside into one naming the SDK version, the touch and the line."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - any failure is the touch breaking
        pytest.fail(
            f"opentelemetry-sdk {SDK_VERSION} no longer supports {touch}; "
            f"_otel/_internals.py:{_line_of(accessor)} ({accessor}) must change. "
            f"({type(error).__name__}: {error})",
            pytrace=True,
        )


class Recording(SpanExporter):
    def __init__(self) -> None:
        self.suppressed: list[bool] = []

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.suppressed.append(
            bool(otel_context.get_value(_internals.SUPPRESS_INSTRUMENTATION_KEY))
        )
        return SpanExportResult.SUCCESS


class MetricSink(MetricExporter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exported: list[Any] = []

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any) -> Any:
        self.exported.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        pass


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    found: dict[str, list[Any]] = {}
    if data is None:
        return found
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


class TestContextAndApi:
    def test_suppress_instrumentation_key(self) -> None:
        """The SDK's own exporters run with our suppress key set; instrumentation sets the same."""
        with canary("SUPPRESS_INSTRUMENTATION_KEY", "context._SUPPRESS_INSTRUMENTATION_KEY"):
            exporter = Recording()
            provider = TracerProvider(shutdown_on_exit=False)
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            provider.get_tracer("t").start_span("s").end()
            assert exporter.suppressed == [True]
            with suppress_instrumentation():
                assert otel_context.get_value(_internals.SUPPRESS_INSTRUMENTATION_KEY)

    def test_api_gauge(self) -> None:
        """The API's synchronous gauge class is what every meter's ``create_gauge`` returns."""
        with canary("APIGauge", "opentelemetry.metrics._Gauge"):
            provider = MeterProvider(shutdown_on_exit=False)
            gauge = provider.get_meter("t").create_gauge("g")
            assert isinstance(gauge, _internals.APIGauge)
            assert isinstance(api_metrics.NoOpMeter("t").create_gauge("g"), _internals.APIGauge)

    def test_base_configurator(self) -> None:
        """An ``opentelemetry_configurator`` subclass is configured through its ``_configure``."""
        calls: list[dict[str, Any]] = []

        class Configurator(_internals.BaseConfigurator):
            def _configure(self, **kwargs: Any) -> None:
                calls.append(kwargs)

        with canary("BaseConfigurator", "opentelemetry.sdk._configuration._BaseConfigurator"):
            Configurator().configure(flag=1)
            assert calls == [{"flag": 1}]

    def test_default_providers_are_recognised(self) -> None:
        """In a fresh process the API's placeholder providers are recognised as such."""
        code = (
            "from opentelemetry import _logs, metrics\n"
            "from opentelemetry.sdk.metrics import MeterProvider\n"
            "from foundation_telemetry._otel import _internals as i\n"
            "assert i.is_default_meter_provider(metrics.get_meter_provider())\n"
            "assert i.is_default_logger_provider(_logs.get_logger_provider())\n"
            "assert not i.is_default_meter_provider(MeterProvider(shutdown_on_exit=False))\n"
        )
        with canary("is_default_meter_provider", "metrics._internal._ProxyMeterProvider"):
            run = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=False
            )
            assert run.returncode == 0, run.stderr


class TestProcessors:
    def test_on_ending(self) -> None:
        """The SDK calls ``_on_ending`` on its processors, and the accessor reaches it."""
        seen: list[str] = []

        class Ending(SpanProcessor):
            def _on_ending(self, span: Any) -> None:
                seen.append(span.name)

        with canary("on_ending", "SpanProcessor._on_ending"):
            provider = TracerProvider(shutdown_on_exit=False)
            provider.add_span_processor(Ending())
            span = provider.get_tracer("t").start_span("ending")
            span.end()
            assert seen == ["ending"]  # the SDK called it
            _internals.on_ending(Ending(), span)  # type: ignore[arg-type]
            assert seen == ["ending", "ending"]  # and so did the accessor
            assert callable(SpanProcessor._on_ending)

    def test_passive_ending_hook(self) -> None:
        """The stock processors' ``_on_ending`` is ``pass``; a hook that does anything is not."""

        class Raises(SpanProcessor):
            def _on_ending(self, span: Any) -> None:
                raise RuntimeError(span)

        class ReturnsOne(SpanProcessor):
            def _on_ending(self, span: Any) -> None:
                """Documented, and not passive."""
                return 1  # type: ignore[return-value]

        class Documented(SpanProcessor):
            def _on_ending(self, span: Any) -> None:
                """Documented and passive."""

        with canary("passive_ending_hook", "SimpleSpanProcessor._on_ending"):
            for processor in (SimpleSpanProcessor(InMemorySpanExporter()), Documented()):
                hook = _internals.passive_ending_hook(processor)
                assert hook is not None
                assert hook.__self__ is processor  # type: ignore[attr-defined]
            batch = BatchSpanProcessor(InMemorySpanExporter())
            assert _internals.passive_ending_hook(batch) is not None
            batch.shutdown()
            for processor in (Raises(), ReturnsOne()):
                assert _internals.passive_ending_hook(processor) is None

    def test_exporter_of(self) -> None:
        """Each stock processor and the periodic reader hand back the exporter they were given."""
        spans, logs, metric_exporter = (
            InMemorySpanExporter(),
            InMemoryLogRecordExporter(),
            MetricSink(),
        )
        batch_spans, batch_logs = BatchSpanProcessor(spans), BatchLogRecordProcessor(logs)
        periodic = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=60_000)
        with canary("exporter_of", "SimpleLogRecordProcessor._exporter / BatchProcessor._exporter"):
            try:
                assert _internals.exporter_of(SimpleSpanProcessor(spans)) is spans
                assert _internals.exporter_of(batch_spans) is spans
                assert _internals.exporter_of(SimpleLogRecordProcessor(logs)) is logs
                assert _internals.exporter_of(batch_logs) is logs
                assert _internals.exporter_of(periodic) is metric_exporter
                assert _internals.exporter_of(object()) is None
            finally:
                batch_spans.shutdown()
                batch_logs.shutdown()
                periodic.shutdown()

    @pytest.mark.parametrize("kind", ["spans", "logs"])
    def test_stock_batch_queue_capacity_and_worker(self, kind: str) -> None:
        """A stock batch processor's queue length, capacity and worker thread can be read."""
        processor: Any
        if kind == "spans":
            processor = BatchSpanProcessor(
                InMemorySpanExporter(),
                max_queue_size=7,
                max_export_batch_size=7,
                schedule_delay_millis=60_000,
            )
            provider: Any = TracerProvider(shutdown_on_exit=False)
            provider.add_span_processor(processor)
            provider.get_tracer("t").start_span("queued").end()
        else:
            processor = BatchLogRecordProcessor(
                InMemoryLogRecordExporter(),
                max_queue_size=7,
                max_export_batch_size=7,
                schedule_delay_millis=60_000,
            )
            provider = LoggerProvider(shutdown_on_exit=False)
            provider.add_log_record_processor(processor)
            provider.get_logger("t").emit(body="queued")
        with canary("stock_batch_queue", "BatchProcessor._queue/_max_queue_size/_worker_thread"):
            assert _internals.stock_batch_capacity(processor) == 7
            assert _internals.stock_batch_queued(processor) == 1
            assert _internals.stock_batch_worker_alive(processor) is True
            processor.shutdown()
            assert _internals.stock_batch_worker_alive(processor) is False
            assert _internals.stock_batch_queue(SimpleSpanProcessor(InMemorySpanExporter())) is None

    def test_periodic_reader_thread(self) -> None:
        """A periodic reader's export thread is seen running, then stopped after shutdown."""
        reader = PeriodicExportingMetricReader(MetricSink(), export_interval_millis=60_000)
        provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
        with canary("periodic_reader_thread_alive", "PeriodicExportingMetricReader._daemon_thread"):
            assert _internals.periodic_reader_thread_alive(reader) is True
            provider.shutdown()
            assert _internals.periodic_reader_thread_alive(reader) is False


class TestProviders:
    def test_components_of_providers(self) -> None:
        """The processors and readers added to each provider can be listed."""
        span_processor = SimpleSpanProcessor(InMemorySpanExporter())
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        tracer_provider.add_span_processor(span_processor)
        log_processor = SimpleLogRecordProcessor(InMemoryLogRecordExporter())
        logger_provider = LoggerProvider(shutdown_on_exit=False)
        logger_provider.add_log_record_processor(log_processor)
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
        with canary("span_processors_of", "TracerProvider._active_span_processor._span_processors"):
            assert _internals.span_processors_of(tracer_provider) == (span_processor,)
        with canary("log_record_processors_of", "LoggerProvider._multi_log_record_processor"):
            assert _internals.log_record_processors_of(logger_provider) == (log_processor,)
        with canary("metric_readers_of", "MeterProvider._measurement_consumer._reader_storages"):
            assert _internals.metric_readers_of(meter_provider) == (reader,)


class TestRewiringProviders:
    """The touches ``harden()`` uses to put wrappers into providers a user built."""

    def test_replace_exporter(self) -> None:
        """Each stock processor and the periodic reader export through a replaced exporter."""
        spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
        components: list[Any] = [
            SimpleSpanProcessor(InMemorySpanExporter()),
            BatchSpanProcessor(InMemorySpanExporter()),
            SimpleLogRecordProcessor(InMemoryLogRecordExporter()),
            BatchLogRecordProcessor(InMemoryLogRecordExporter()),
            PeriodicExportingMetricReader(MetricSink(), export_interval_millis=60_000),
        ]
        replacements: list[Any] = [spans, spans, logs, logs, MetricSink()]
        with canary(
            "replace_exporter", "SimpleLogRecordProcessor._exporter / BatchProcessor._exporter"
        ):
            try:
                for component, replacement in zip(components, replacements, strict=True):
                    assert _internals.replace_exporter(component, replacement)
                    assert _internals.exporter_of(component) is replacement
                assert not _internals.replace_exporter(object(), spans)
            finally:
                for component in components[1:]:
                    if not isinstance(component, SimpleLogRecordProcessor):
                        component.shutdown()

    def test_set_processors(self) -> None:
        """A provider's span and log record processors can be replaced as a whole."""
        tracer_provider = TracerProvider(shutdown_on_exit=False)
        tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        spans = InMemorySpanExporter()
        span_processor = SimpleSpanProcessor(spans)
        logger_provider = LoggerProvider(shutdown_on_exit=False)
        logs = InMemoryLogRecordExporter()
        log_processor = SimpleLogRecordProcessor(logs)
        with canary("set_span_processors", "SynchronousMultiSpanProcessor._span_processors"):
            _internals.set_span_processors(tracer_provider, (span_processor,))
            tracer_provider.get_tracer("t").start_span("x").end()
            assert len(spans.get_finished_spans()) == 1
        with canary("set_log_record_processors", "MultiLogRecordProcessor._log_record_processors"):
            _internals.set_log_record_processors(logger_provider, (log_processor,))
            logger_provider.get_logger("t").emit(body="x")
            assert len(logs.get_finished_logs()) == 1

    def test_swap_metric_reader(self) -> None:
        """A registered reader's place (and aggregated data) goes to a reader wrapping it."""
        inner = InMemoryMetricReader()
        provider = MeterProvider(metric_readers=[inner], shutdown_on_exit=False)
        counter = provider.get_meter("m").create_counter("c")
        counter.add(2)
        wrapper = Delegating(inner)
        with canary("swap_metric_reader", "MeterProvider._metric_readers / _reader_storages"):
            _internals.swap_metric_reader(provider, inner, wrapper)
            counter.add(1)
            assert _internals.metric_readers_of(provider) == (wrapper,)
            assert [point.value for point in _points(inner)["c"]] == [3]
            assert provider.shutdown() is None

    def test_remove_exit_hook(self) -> None:
        """The atexit hook of each provider built with shutdown_on_exit=True can be removed."""
        providers = (TracerProvider(), MeterProvider(), LoggerProvider())
        with canary("remove_exit_hook", "_atexit_handler / LoggerProvider._at_exit_handler"):
            assert [_internals.remove_exit_hook(p) for p in providers] == [True, True, True]
            assert [_internals.remove_exit_hook(p) for p in providers] == [False, False, False]

    @pytest.mark.parametrize("protocol", ["grpc", "http"])
    def test_end_exporter_retries(self, protocol: str) -> None:
        """An OTLP exporter's back-off event can be set without shutting it down."""
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            exporter: Any = OTLPSpanExporter(endpoint="http://127.0.0.1:1", insecure=True)
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter as HTTPSpanExporter,
            )

            exporter = HTTPSpanExporter(endpoint="http://127.0.0.1:1/v1/traces")
        with canary("end_exporter_retries", "OTLP exporter back-off event"):
            try:
                assert _internals.end_exporter_retries(exporter)
                assert not _internals.end_exporter_retries(InMemorySpanExporter())
            finally:
                exporter.shutdown()


class Delegating(_internals.ProviderAwareReader):
    """A reader that registers an inner reader through the accessors, as the wrapper does."""

    def __init__(self, inner: MetricReader) -> None:
        super().__init__()
        self.inner = inner
        _internals.copy_reader_preferences(inner, self)
        self.callbacks: list[object] = []
        self.providers: list[object] = []

    def collect_callback_set(self, func: Any) -> None:
        self.callbacks.append(func)
        _internals.hand_collect_callback(self.inner, None if func is None else self._collect_for)

    def _collect_for(self, reader: Any, timeout_millis: float = 10_000) -> Any:
        return self.callbacks[-1](self, timeout_millis=timeout_millis)  # type: ignore[operator]

    def meter_provider_set(self, meter_provider: Any) -> None:
        self.providers.append(meter_provider)
        _internals.hand_meter_provider(self.inner, meter_provider)

    def _receive_metrics(
        self, metrics_data: Any, timeout_millis: float = 10_000, **kw: Any
    ) -> None:
        _internals.receive_metrics(self.inner, metrics_data, timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kw: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis)


class TestReaders:
    def test_reader_hooks(self) -> None:
        """A provider hands a reader its collect callback and itself; both reach an inner reader."""
        inner = InMemoryMetricReader(preferred_temporality={Counter: AggregationTemporality.DELTA})
        outer = Delegating(inner)
        with canary(
            "ProviderAwareReader", "MetricReader._set_collect_callback/_set_meter_provider"
        ):
            assert _internals.reader_is_registered(outer) is False
            provider = MeterProvider(metric_readers=[outer], shutdown_on_exit=False)
            assert _internals.reader_is_registered(outer) is True
            assert _internals.reader_is_registered(inner) is True
            assert outer.providers == [provider]
            assert callable(outer.callbacks[0])
            provider.get_meter("t").create_counter("hooked").add(2)
            [point] = _points(inner)["hooked"]
            assert point.value == 2
        with canary("copy_reader_preferences", "MetricReader._instrument_class_temporality"):
            provider.get_meter("t").create_counter("hooked").add(3)
            [point] = _points(inner)["hooked"]
            assert point.value == 3  # delta: the inner reader's preference reached the storage
            expected = "cardinality_limits" in inspect.signature(MetricReader.__init__).parameters
            assert expected is _internals.READER_CARDINALITY_LIMITS
        provider.shutdown()

    def test_periodic_reader_exporter(self) -> None:
        """A periodic reader's exporter can be read and replaced; exports then go to the new one."""
        first, second = MetricSink(), MetricSink()
        reader = PeriodicExportingMetricReader(first, export_interval_millis=60_000)
        with canary("periodic_reader_exporter", "PeriodicExportingMetricReader._exporter"):
            assert _internals.periodic_reader_exporter(reader) is first
            _internals.replace_periodic_reader_exporter(reader, second)
            provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
            provider.get_meter("t").create_counter("c").add(1)
            reader.force_flush()
            assert second.exported
            assert not first.exported
            provider.shutdown()

    def test_exporter_preferences(self) -> None:
        """An exporter's preferred temporality and aggregation can be read back."""
        exporter = MetricSink(preferred_temporality={Counter: AggregationTemporality.DELTA})
        with canary("exporter_preferences", "MetricExporter._preferred_temporality/_aggregation"):
            temporality, aggregation = _internals.exporter_preferences(exporter)
            assert temporality is not None
            assert temporality[Counter] is AggregationTemporality.DELTA
            assert aggregation in (None, {})  # none was asked for

    def test_reset_reader_storage(self) -> None:
        """Replacing a reader's storage forgets what it aggregated (the fork reset)."""
        outer = Delegating(InMemoryMetricReader())
        provider = MeterProvider(metric_readers=[outer], shutdown_on_exit=False)
        provider.get_meter("t").create_counter("kept").add(5)
        with canary("reset_reader_storage", "MeasurementConsumer.add_metric_reader (SDK 1.43)"):
            _internals.reset_reader_storage(outer.callbacks[0], outer)  # type: ignore[arg-type]
            assert "kept" not in _points(outer.inner)  # type: ignore[arg-type]
            provider.get_meter("t").create_counter("kept").add(1)
            [point] = _points(outer.inner)["kept"]  # type: ignore[arg-type]
            assert point.value == 1
        provider.shutdown()


class TestMeasurementHook:
    def test_every_measurement_reaches_the_sink_and_nothing_is_exported(self) -> None:
        """The hook View sees each instrument once per reader and every measurement, exporting nothing."""
        instruments: list[str] = []
        seen: list[tuple[str, float, object]] = []
        lock = threading.Lock()

        def sink_for(instrument: Any) -> Any:
            instruments.append(instrument.name)

            def sink(measurement: Any) -> None:
                with lock:
                    seen.append((measurement.instrument.name, measurement.value, measurement))

            return sink

        reader = InMemoryMetricReader()
        provider = MeterProvider(
            metric_readers=[reader],
            views=[View(instrument_name="*"), _internals.measurement_hook_view(sink_for)],
            shutdown_on_exit=False,
        )
        meter = provider.get_meter("t")
        with canary("measurement_hook_view", "Aggregation._create_aggregation(instrument, ...)"):
            meter.create_counter("hook.counter").add(2, {"k": "a"})
            meter.create_counter("hook.counter").add(3, {"k": "b"})
            meter.create_histogram("hook.histogram").record(0.5)
            meter.create_observable_gauge(
                "hook.gauge", callbacks=[lambda options: [api_metrics.Observation(7)]]
            )
            points = _points(reader)  # collects: the observable gauge is measured now
            assert [(name, value) for name, value, _ in seen] == [
                ("hook.counter", 2),
                ("hook.counter", 3),
                ("hook.histogram", 0.5),
                ("hook.gauge", 7),
            ]
            assert isinstance(seen[0][2], _internals.Measurement)
            assert sorted(set(instruments)) == ["hook.counter", "hook.gauge", "hook.histogram"]
            # Only the plain catch-all stream is exported, with its usual aggregation.
            assert sorted(points) == ["hook.counter", "hook.gauge", "hook.histogram"]
            assert sorted(p.value for p in points["hook.counter"]) == [2, 3]
        provider.shutdown()

    def test_reader_reservoirs_are_bound_per_instrument(self) -> None:
        """A bound reader's aggregations ask for each instrument's reservoir factory, keeping its preference."""
        bound: list[str] = []
        offered: list[tuple[str, float]] = []

        class Spy(ExemplarReservoir):
            def __init__(self, name: str) -> None:
                self.name = name

            def offer(
                self, value: float, time_unix_nano: int, attributes: Any, context: Any
            ) -> None:
                offered.append((self.name, value))

            def collect(self, point_attributes: Any) -> list[Any]:
                return []

        def bind(instrument: Any, factory: Any) -> Any:
            bound.append(instrument.name)
            assert callable(factory)
            return lambda aggregation_type: lambda **kwargs: Spy(instrument.name)

        reader = InMemoryMetricReader(
            preferred_aggregation={Histogram: ExponentialBucketHistogramAggregation()}
        )
        with canary("bind_reader_reservoirs", "MetricReader._instrument_class_aggregation"):
            _internals.bind_reader_reservoirs(reader, bind)
            provider = MeterProvider(
                metric_readers=[reader],
                exemplar_filter=AlwaysOnExemplarFilter(),
                shutdown_on_exit=False,
            )
            meter = provider.get_meter("t")
            meter.create_counter("bound.counter").add(4)
            meter.create_histogram("bound.histogram").record(0.5)
            assert offered == [("bound.counter", 4), ("bound.histogram", 0.5)]
            assert set(bound) == {"bound.counter", "bound.histogram"}
            data = reader.get_metrics_data()
            assert data is not None
            [histogram] = [
                metric.data
                for scope in data.resource_metrics[0].scope_metrics
                for metric in scope.metrics
                if metric.name == "bound.histogram"
            ]
            assert isinstance(histogram, ExponentialHistogram)  # the reader's preference holds
        provider.shutdown()

    def test_sdk_instrument_protocol(self) -> None:
        """SDK instruments satisfy the SDK's instrument protocol the sinks are typed with."""
        counter = MeterProvider(shutdown_on_exit=False).get_meter("t").create_counter("c")
        with canary("SDKInstrument", "sdk.metrics._internal.instrument._Instrument"):
            assert isinstance(counter, _internals.SDKInstrument)


class TestOtlpEncoding:
    def test_plain_attributes(self) -> None:
        """``BoundedAttributes`` keeps its entries, in order, in the ``_dict`` the accessor reads."""
        from opentelemetry.attributes import BoundedAttributes

        with canary("plain_attributes", "BoundedAttributes._dict"):
            bounded = BoundedAttributes(maxlen=2, attributes={"a": 1, "b": "x", "c": True})
            plain = _internals.plain_attributes(bounded)
            assert type(plain) is not BoundedAttributes
            assert list(plain.items()) == list(bounded.items())
            assert _internals.plain_attributes({"k": 1}) == {"k": 1}

    def test_span_fields(self) -> None:
        """A finished span's private fields hold what its public properties return."""
        from opentelemetry.sdk.trace import SpanLimits
        from opentelemetry.trace import Link

        with canary("span_fields", "ReadableSpan._attributes / _events / _links, BoundedList._dq"):
            limits = SpanLimits(max_attributes=2, max_events=1, max_links=1)
            provider = TracerProvider(shutdown_on_exit=False, span_limits=limits)
            tracer = provider.get_tracer("t")
            other = tracer.start_span("other")
            links = [Link(other.get_span_context()), Link(other.get_span_context(), {"k": 1})]
            span = tracer.start_span("s", attributes={"a": 1, "b": [1, 2]}, links=links)
            span.set_attribute("c", "z")
            span.add_event("one")
            span.add_event("two")
            span.end()
            attributes, events, found_links, *dropped = _internals.span_fields(span)
            assert list(attributes.items()) == list(span.attributes.items())
            assert tuple(events) == span.events
            assert tuple(found_links) == span.links
            assert dropped == [span.dropped_attributes, span.dropped_events, span.dropped_links]
            assert dropped == [1, 1, 1]

    def test_compact_span(self) -> None:
        """The flat tuple holds what a finished span's public properties return."""
        from opentelemetry.trace import Link, use_span

        with canary(
            "compact_span",
            "ReadableSpan._name/_context/_parent/_attributes/_events/_links/_kind/_status/"
            "_start_time/_end_time/_resource/_instrumentation_scope, BoundedList._dq/.dropped",
        ):
            provider = TracerProvider(shutdown_on_exit=False)
            tracer = provider.get_tracer("t")
            parent = tracer.start_span("parent")
            link = Link(parent.get_span_context(), {"k": 1})
            with use_span(parent, end_on_exit=True):
                span = tracer.start_span("s", attributes={"a": 1}, links=[link])
            span.add_event("one", {"e": 2})
            span.end()
            fields = _internals.compact_span(span)
            assert fields == (
                span.name,
                span.context,
                span.parent,
                dict(span.attributes or {}),
                span.events,
                span.links,
                span.kind,
                span.status,
                span.start_time,
                span.end_time,
                span.resource,
                span.instrumentation_scope,
                (span.dropped_attributes, span.dropped_events, span.dropped_links),
            )
            assert type(fields[3]) is dict

    @pytest.mark.parametrize("signal", ["traces", "logs"])
    def test_encoded_http_exporter(self, signal: str) -> None:
        """The stock HTTP exporter serialises what its module's ``encode_*`` returns."""
        import importlib

        module = importlib.import_module(
            "opentelemetry.exporter.otlp.proto.http."
            + ("trace_exporter" if signal == "traces" else "_log_exporter")
        )
        name = "encode_spans" if signal == "traces" else "encode_logs"
        with canary("encoded_http_exporter", f"the HTTP exporter module's global {name}"):
            exporter = _internals.encoded_http_exporter(
                signal, lambda batch: b"", endpoint="http://127.0.0.1:9/v1/x"
            )
            dispatcher = getattr(module, name)
            assert dispatcher.__wrapped__.__module__.startswith(
                "opentelemetry.exporter.otlp.proto.common"
            )
            assert name in inspect.getsource(type(exporter).__mro__[1].export)
            exporter.shutdown()

    @pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
    def test_encoded_grpc_exporter(self, signal: str) -> None:
        """The gRPC mixin builds its stub and request through the two hooks the subclass overrides."""
        with canary("encoded_grpc_exporter", "OTLPExporterMixin._translate_data / _client"):
            exporter = _internals.encoded_grpc_exporter(
                signal, lambda batch: b"request", endpoint="127.0.0.1:9", insecure=True
            )
            assert type(exporter._client).__name__ == "_EncodedStub"
            assert exporter._translate_data([]) == b"request"
            source = inspect.getsource(type(exporter).__mro__[1]._export)
            assert "self._client.Export(" in source
            assert "self._translate_data(" in source
            exporter.shutdown()


class TestCurrentContextGetter:
    def test_default_runtime_gives_the_context_variables_own_getter(self) -> None:
        """With the contextvars runtime the getter is the ContextVar's ``get`` (no Python frame)."""
        getter = _internals.current_context_getter()
        assert getter is not otel_context.get_current
        token = otel_context.attach(otel_context.set_value("k", "v"))
        try:
            assert getter() is otel_context.get_current()
        finally:
            otel_context.detach(token)

    def test_another_runtime_context_is_asked_through_the_api(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A runtime picked with OTEL_PYTHON_CONTEXT is honoured: the API's get_current is used."""

        class OtherRuntime(_RuntimeContext):
            def attach(self, context: Any) -> object:
                return None

            def get_current(self) -> Any:
                return otel_context.Context()

            def detach(self, token: object) -> None:
                return None

        monkeypatch.setattr(otel_context, "_RUNTIME_CONTEXT", OtherRuntime())
        assert _internals.current_context_getter() is otel_context.get_current


class TestSpanEventParts:
    def _ended(self, **resource: Any) -> Any:
        from opentelemetry.sdk.resources import Resource

        provider = TracerProvider(resource=Resource.create(resource))
        exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("parts.scope", "1.0")
        with tracer.start_as_current_span("carrier") as span:
            span.add_event("one", {"k": 1}, timestamp=5)
            span.add_event("two")
        (ended,) = exporter.get_finished_spans()
        return ended

    def test_reads_what_the_public_properties_return(self) -> None:
        """Ids, resource attributes, scope name and each event as the SDK's properties read."""
        span = self._ended(service="parts")
        trace_id, span_id, resource, scope, events = _internals.span_event_parts(
            _internals.compact_span(span)
        )
        assert (trace_id, span_id) == (span.context.trace_id, span.context.span_id)
        assert resource == span.resource.attributes
        assert scope == span.instrumentation_scope.name == "parts.scope"
        assert events == [
            (event.name, dict(event.attributes or {}), event.timestamp, 0) for event in span.events
        ]
        assert events[0][:2] == ("one", {"k": 1})
        assert type(events[0][1]) is dict  # a copy: the record never shares the SDK's mapping

    def test_other_event_and_context_types_read_through_their_properties(self) -> None:
        """An event, context, resource or scope that is not the SDK's own is read publicly."""
        from types import SimpleNamespace

        span = self._ended()
        fields = list(_internals.compact_span(span))
        fields[1] = SimpleNamespace(trace_id=7, span_id=8)
        fields[4] = (SimpleNamespace(name="foreign", attributes={"a": 1}, timestamp=9),)
        fields[10] = SimpleNamespace(attributes={"r": 1})
        fields[11] = SimpleNamespace(name="other.scope")
        assert _internals.span_event_parts(tuple(fields)) == (
            7,
            8,
            {"r": 1},
            "other.scope",
            [("foreign", {"a": 1}, 9, 0)],
        )
