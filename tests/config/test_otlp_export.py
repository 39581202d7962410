"""configure(exporter="otlp") over both protocols, and the zero-code path, into the embedded sink."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import foundation_telemetry as ft
from foundation_telemetry.sink import Sink


@pytest.fixture
def sink():
    with Sink() as running:
        yield running


def endpoint_for(sink: Sink, protocol: str) -> str:
    return sink.grpc_endpoint if protocol == "grpc" else sink.http_endpoint


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
class TestOtlpExport:
    def test_spans_metrics_and_events_arrive_with_the_resource(self, sink, protocol):
        """Spans, metrics and log-based events reach the sink with the configured resource."""
        telemetry = ft.configure(
            "otlp-svc",
            exporter="otlp",
            protocol=protocol,
            endpoint=endpoint_for(sink, protocol),
            resource_attributes={"deployment.environment": "test"},
            set_global=False,
        )
        try:
            with (
                sink.expect_span("order.process", attributes={"order.id": 7}) as seen_span,
                sink.assert_telemetry_event("order.accepted") as seen_event,
            ):
                tracer = telemetry.tracer_provider.get_tracer("test")
                with tracer.start_as_current_span("order.process", attributes={"order.id": 7}):
                    telemetry.logger_provider.get_logger("test").emit(
                        event_name="order.accepted", attributes={"order.id": 7}
                    )
                telemetry.meter_provider.get_meter("test").create_counter("orders").add(2)
                assert telemetry.force_flush(timeout=10) is True
            assert seen_span.record.resource["service.name"] == "otlp-svc"
            assert seen_span.record.resource["deployment.environment"] == "test"
            assert seen_event.record.attributes["order.id"] == 7
            assert seen_event.record.trace_id == seen_span.record.trace_id
            sink.wait_for_metric_threshold("orders", 2, aggregate="last", timeout=10).wait()
        finally:
            telemetry.shutdown()

    def test_headers_are_sent(self, protocol):
        """Configured headers reach the collector (here: the sink's bearer token)."""
        with Sink(token="s3cret") as guarded:
            telemetry = ft.configure(
                exporter="otlp",
                protocol=protocol,
                endpoint=endpoint_for(guarded, protocol),
                headers={"authorization": "Bearer s3cret"},
                set_global=False,
            )
            try:
                with guarded.expect_span("authorized"):
                    telemetry.tracer_provider.get_tracer("t").start_span("authorized").end()
                    telemetry.force_flush(timeout=10)
            finally:
                telemetry.shutdown()


class TestZeroCode:
    def test_opentelemetry_instrument_configures_through_us(self, sink, tmp_path: Path):
        """opentelemetry-instrument with our distro and configurator exports spans over OTLP."""
        app = tmp_path / "app.py"
        app.write_text(
            textwrap.dedent(
                """
                from opentelemetry import trace
                import foundation_telemetry as ft

                with trace.get_tracer("app").start_as_current_span("zero-code-span"):
                    pass
                print(type(ft.current()).__name__)
                """
            )
        )
        instrument = Path(sys.executable).with_name("opentelemetry-instrument")
        env = {
            **os.environ,
            "OTEL_PYTHON_DISTRO": "foundation_telemetry",
            "OTEL_PYTHON_CONFIGURATOR": "foundation_telemetry",
            "OTEL_SERVICE_NAME": "zero-code-app",
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink.http_endpoint,
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
        }
        with sink.expect_span("zero-code-span", timeout=30) as seen:
            result = subprocess.run(
                [str(instrument), sys.executable, str(app)],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                check=False,
            )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "Telemetry"
        assert result.stderr == ""
        assert seen.record.resource["service.name"] == "zero-code-app"
