"""configure(): pipelines, exporter choices, global rebinding, idempotence and bad input."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import foundation_telemetry as ft
from foundation_telemetry._otel._compat import InMemoryLogRecordExporter, SimpleLogRecordProcessor


def run_python(
    code: str, *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def metric_values(reader: InMemoryMetricReader) -> dict[str, list[float]]:
    data = reader.get_metrics_data()
    values: dict[str, list[float]] = {}
    if data is None:
        return values
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                values[metric.name] = [point.value for point in metric.data.data_points]  # type: ignore[union-attr]
    return values


class TestLocalPipelines:
    def test_extra_components_receive_all_three_signals(self):
        """Processors, readers and log processors passed in see spans, measurements and logs."""
        spans = InMemorySpanExporter()
        logs = InMemoryLogRecordExporter()
        reader = InMemoryMetricReader()
        telemetry = ft.configure(
            "svc",
            exporter="none",
            set_global=False,
            span_processors=[SimpleSpanProcessor(spans)],
            metric_readers=[reader],
            log_processors=[SimpleLogRecordProcessor(logs)],
        )
        try:
            with telemetry.tracer_provider.get_tracer("t").start_as_current_span("work"):
                telemetry.logger_provider.get_logger("l").emit(
                    event_name="thing.happened", body="hi"
                )
            telemetry.meter_provider.get_meter("m").create_counter("hits").add(3)
            assert [span.name for span in spans.get_finished_spans()] == ["work"]
            [log] = logs.get_finished_logs()
            assert log.log_record.event_name == "thing.happened"
            assert log.resource.attributes["service.name"] == "svc"
            assert metric_values(reader)["hits"] == [3]
        finally:
            assert telemetry.shutdown() is True

    def test_extra_exporters_sit_behind_batch_processors(self):
        """An exporter passed in receives its data after force_flush()."""
        spans = InMemorySpanExporter()
        telemetry = ft.configure(exporter="none", set_global=False, span_exporters=[spans])
        try:
            telemetry.tracer_provider.get_tracer("t").start_span("batched").end()
            assert telemetry.force_flush(timeout=5) is True
            assert [span.name for span in spans.get_finished_spans()] == ["batched"]
        finally:
            telemetry.shutdown()

    def test_set_global_false_leaves_globals_alone(self):
        """set_global=False builds providers without touching the OpenTelemetry globals."""
        before = trace.get_tracer_provider()
        telemetry = ft.configure(exporter="none", set_global=False)
        try:
            assert trace.get_tracer_provider() is before
            assert telemetry.is_global is False
        finally:
            telemetry.shutdown()

    def test_memory_exporter_exposes_a_recorder(self):
        """exporter='memory' attaches a Recorder that sees spans as they end."""
        telemetry = ft.configure("svc", exporter="memory", set_global=False)
        try:
            assert telemetry.recorder is not None
            with telemetry.tracer_provider.get_tracer("t").start_as_current_span(
                "checkout", attributes={"order.id": 42}
            ):
                pass
            [span] = telemetry.recorder.spans("checkout")
            assert span.attributes["order.id"] == 42
        finally:
            telemetry.shutdown()

    def test_memory_exporter_captures_measurements_without_any_reader(self):
        """exporter='memory' alone still lets the Recorder see each metric measurement."""
        telemetry = ft.configure(exporter="memory", set_global=False)
        try:
            assert telemetry.recorder is not None
            counter = telemetry.meter_provider.get_meter("m").create_counter("jobs")
            counter.add(2, {"queue": "a"})
            counter.add(3, {"queue": "a"})
            telemetry.recorder.wait_for_metric_threshold(
                "jobs", 5, aggregate="sum", timeout=5
            ).wait()
            assert [point.value for point in telemetry.recorder.metric_points("jobs")] == [2, 3]
        finally:
            telemetry.shutdown()

    def test_spans_from_any_tracer_carry_the_correlation_id(self):
        """Inside correlated(), a span from a plain OpenTelemetry tracer is stamped too."""
        telemetry = ft.configure(exporter="memory", set_global=False)
        try:
            assert telemetry.recorder is not None
            with ft.correlated("req-17"):
                telemetry.tracer_provider.get_tracer("plain").start_span("db.query").end()
            [span] = telemetry.recorder.spans("db.query")
            assert span.attributes["correlation_id"] == "req-17"
        finally:
            telemetry.shutdown()

    def test_debug_argument_overrides_the_environment_both_ways(self):
        """configure(debug=...) turns debug mode on, and off again over FOUNDATION_TELEMETRY_DEBUG."""
        from foundation_telemetry.defensive import debug_enabled, set_debug

        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("FOUNDATION_TELEMETRY_DEBUG", "1")
                ft.configure(exporter="none", set_global=False).shutdown()
                assert debug_enabled() is True
                ft.configure(exporter="none", set_global=False, debug=False).shutdown()
                assert debug_enabled() is False
        finally:
            set_debug(False)

    def test_shutdown_is_idempotent(self):
        """A second shutdown() is a no-op that still returns True."""
        telemetry = ft.configure(exporter="none", set_global=False)
        assert telemetry.shutdown() is True
        assert telemetry.shutdown() is True
        assert telemetry.is_shut_down

    def test_repr_names_service_and_state(self):
        """The repr says which service and whether it is still active."""
        telemetry = ft.configure("billing", exporter="none", set_global=False)
        assert repr(telemetry) == "Telemetry(service_name='billing', global=False, active)"
        telemetry.shutdown()
        assert repr(telemetry).endswith("shut down)")

    def test_bad_configuration_raises_before_building_anything(self):
        """An invalid setting is a ValueError naming it."""
        with pytest.raises(ValueError, match="`exporter` must be one of"):
            ft.configure(exporter="jaeger", set_global=False)


class TestGlobalRebinding:
    def test_second_configure_rebinds_module_level_tracers_and_instruments(self):
        """A tracer and a counter obtained before configure() follow every later configure()."""
        result = run_python(
            """
            from opentelemetry import metrics, trace
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
            import foundation_telemetry as ft

            tracer = trace.get_tracer("early")          # obtained at import, before configure()
            counter = metrics.get_meter("early").create_counter("jobs")

            def setup():
                spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
                t = ft.configure(exporter="none", span_processors=[SimpleSpanProcessor(spans)],
                                 metric_readers=[reader])
                return t, spans, reader

            first, spans1, reader1 = setup()
            tracer.start_span("one").end(); counter.add(1)
            second, spans2, reader2 = setup()
            tracer.start_span("two").end(); counter.add(5)
            assert [s.name for s in spans1.get_finished_spans()] == ["one"]
            assert [s.name for s in spans2.get_finished_spans()] == ["two"]
            points = reader2.get_metrics_data().resource_metrics[0].scope_metrics[0].metrics[0]
            assert [p.value for p in points.data.data_points] == [5]
            assert second.replaced is first and first.is_shut_down and not first.is_global
            assert ft.current() is second
            print("ok")
            """
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "ok"
        assert result.stderr == ""

    def test_foreign_global_provider_is_a_clear_error(self):
        """If other code set the global TracerProvider first, configure() says what to do."""
        result = run_python(
            """
            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            import foundation_telemetry as ft
            trace.set_tracer_provider(TracerProvider())
            try:
                ft.configure(exporter="none")
            except RuntimeError as error:
                print(error)
            ft.configure(exporter="none", set_global=False).shutdown()
            """
        )
        assert result.returncode == 0, result.stderr
        assert (
            "global TracerProvider (TracerProvider) was already set by other code" in result.stdout
        )
        assert "configure(set_global=False)" in result.stdout

    def test_module_level_shutdown_and_current(self):
        """ft.shutdown() shuts down the global Telemetry; with none configured it returns True."""
        result = run_python(
            """
            import foundation_telemetry as ft
            assert ft.current() is None and ft.shutdown() is True and ft.force_flush() is True
            t = ft.configure(exporter="none")
            assert ft.current() is t
            assert ft.shutdown() is True and t.is_shut_down
            print("ok")
            """
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "ok"


class TestExporterChoices:
    def test_console_exporter_prints_spans(self):
        """exporter='console' prints each finished span to stdout."""
        result = run_python(
            """
            import foundation_telemetry as ft
            t = ft.configure("console-svc", exporter="console", set_global=False)
            t.tracer_provider.get_tracer("t").start_span("printed-span").end()
            t.shutdown()
            """
        )
        assert result.returncode == 0, result.stderr
        assert '"name": "printed-span"' in result.stdout

    def test_sdk_disabled_exports_nothing(self):
        """OTEL_SDK_DISABLED=true yields working no-op providers that export nothing."""
        spans = InMemorySpanExporter()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OTEL_SDK_DISABLED", "true")
            telemetry = ft.configure(
                exporter="none", set_global=False, span_processors=[SimpleSpanProcessor(spans)]
            )
        try:
            assert telemetry.settings.disabled is True
            telemetry.tracer_provider.get_tracer("t").start_span("nothing").end()
            assert spans.get_finished_spans() == ()
        finally:
            telemetry.shutdown()


def test_metrics_module_global_is_untouched_by_local_configure():
    """A local configure() does not install anything as the global MeterProvider."""
    before = metrics.get_meter_provider()
    telemetry = ft.configure(exporter="none", set_global=False)
    telemetry.shutdown()
    assert metrics.get_meter_provider() is before


class TestLoggingBridge:
    def test_stdlib_logging_records_reach_the_log_pipeline_until_shutdown(self):
        """logging_bridge=True sends stdlib records through the pipeline; shutdown removes it."""
        import logging

        logs = InMemoryLogRecordExporter()
        telemetry = ft.configure(
            exporter="none",
            set_global=False,
            logging_bridge=True,
            log_processors=[SimpleLogRecordProcessor(logs)],
        )
        logging.getLogger("bridge.test").warning("disk %s is full", "sda")
        telemetry.shutdown()
        logging.getLogger("bridge.test").warning("after shutdown")
        bodies = [item.log_record.body for item in logs.get_finished_logs()]
        assert bodies == ["disk sda is full"]


class TestFixtureFollowsConfigure:
    def test_records_right_after_configure_in_a_test_are_captured(self, telemetry):
        """The fixture sees spans from providers configure() built inside the test, at once."""
        configured = ft.configure(exporter="none", set_global=False)
        try:
            configured.tracer_provider.get_tracer("t").start_span("right.after").end()
            assert [span.name for span in telemetry.spans("right.after")] == ["right.after"]
        finally:
            configured.shutdown()
