"""The zero-code path: ``opentelemetry-instrument`` applies the instrumentors in a real process.

The child is an unmodified script that only uses tenacity and pybreaker; the stock
``opentelemetry-instrument`` runner loads our distro, configurator and instrumentor entry points,
and the child exports over OTLP/HTTP to an embedded sink in this test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from foundation_telemetry.sink import Sink

APP = textwrap.dedent(
    """
    import sys

    import pybreaker
    import sqlalchemy
    import tenacity

    from foundation_telemetry.instrumentation import (
        PyBreakerInstrumentor,
        SQLAlchemyPoolInstrumentor,
        TenacityInstrumentor,
    )

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 2:
            raise ConnectionError("first call fails")
        return "ok"

    assert tenacity.Retrying(name="zero-code")(flaky) == "ok"
    pybreaker.CircuitBreaker(name="zero-code").call(lambda: None)
    engine = sqlalchemy.create_engine(f"sqlite:///{sys.argv[1]}", pool_logging_name="zero-code")
    with engine.connect():
        pass
    print(
        "instrumented:",
        TenacityInstrumentor().is_instrumented_by_opentelemetry,
        PyBreakerInstrumentor().is_instrumented_by_opentelemetry,
        SQLAlchemyPoolInstrumentor().is_instrumented_by_opentelemetry,
    )
    """
)
INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")


def _zero_code_env(**extra_env: str) -> dict[str, str]:
    """This environment without OTEL_* settings, plus our distro and configurator."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "FOUNDATION_TELEMETRY_"))
    }
    env.update(
        OTEL_PYTHON_DISTRO="foundation_telemetry",
        OTEL_PYTHON_CONFIGURATOR="foundation_telemetry",
        **extra_env,
    )
    return env


def _instrument(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run *script* (with *args*) under ``opentelemetry-instrument``; never raises."""
    return subprocess.run(
        [str(INSTRUMENT), sys.executable, str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _run(tmp_path: Path, endpoint: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = _zero_code_env(
        OTEL_SERVICE_NAME="zero-code-app",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        **extra_env,
    )
    return _instrument(script, env, str(tmp_path / "app.db"))


@pytest.fixture
def sink() -> Sink:
    with Sink() as running:
        yield running


class TestZeroCode:
    def test_opentelemetry_instrument_applies_the_instrumentors(self, tmp_path, sink):
        """The child reports itself instrumented and its retry/breaker events reach the sink."""
        result = _run(tmp_path, sink.http_endpoint)

        assert result.returncode == 0, result.stderr
        assert "instrumented: True True True" in result.stdout
        names = [
            event.name
            for event in sink.events()
            if event.resource.get("service.name") == "zero-code-app"
        ]
        assert names.count("foundation.retry.attempt_start") == 2
        assert "foundation.retry.backoff" in names
        assert "foundation.circuit_breaker.call_success" in names
        assert "foundation.connection.connection_acquired" in names
        spans = [span.name for span in sink.spans()]
        assert "retry zero-code" in spans

    def test_a_disabled_instrumentation_is_not_applied(self, tmp_path, sink):
        """OTEL_PYTHON_DISABLED_INSTRUMENTATIONS takes our entry-point names."""
        result = _run(
            tmp_path,
            sink.http_endpoint,
            OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="foundation_tenacity",
        )

        assert result.returncode == 0, result.stderr
        assert "instrumented: False True True" in result.stdout
        names = {event.name for event in sink.events()}
        assert "foundation.retry.attempt_start" not in names
        assert "foundation.circuit_breaker.call_success" in names

    def test_a_typo_is_one_line_and_turns_off_only_its_signal(self, tmp_path, sink):
        """OTEL_TRACES_EXPORTER=otpl: one stderr line, no traceback; events and instrumentors stay."""
        result = _run(tmp_path, sink.http_endpoint, OTEL_TRACES_EXPORTER="otpl")

        assert result.returncode == 0, result.stderr
        assert result.stderr.splitlines() == [
            "foundation-telemetry: OTEL_TRACES_EXPORTER must be one of 'otlp', 'console', "
            "'memory', 'none', got 'otpl'. Use 'otlp' for a Collector, 'console' to print, "
            "'memory' for tests, 'none' to turn the signal off. Traces turned off; metrics, "
            "logs and the instrumentation keep running."
        ]
        assert "instrumented: True True True" in result.stdout
        names = {event.name for event in sink.events()}
        assert "foundation.retry.attempt_start" in names
        assert sink.spans() == []

    def test_a_shared_mistake_turns_telemetry_off_in_one_line(self, tmp_path, sink):
        """A mistake every signal shares leaves telemetry off, still in one line, app running."""
        result = _run(tmp_path, "localhost")

        assert result.returncode == 0, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("foundation-telemetry: OTEL_EXPORTER_OTLP_ENDPOINT must be")
        assert lines[0].endswith("Telemetry is off; the instrumentation keeps running.")
        assert "instrumented: True True True" in result.stdout


LOGGING_APP = textwrap.dedent(
    """
    import logging

    logging.getLogger("flask.app").error("Exception on /checkout [POST]")
    """
)


class TestZeroCodeLogging:
    @pytest.mark.parametrize("enabled", ["true", "false"])
    def test_logging_auto_instrumentation_variable(self, tmp_path: Path, enabled: str) -> None:
        """OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true exports stdlib error logs."""
        script = tmp_path / "app.py"
        script.write_text(LOGGING_APP)
        env = _zero_code_env(
            OTEL_SERVICE_NAME="zero-code-logging",
            OTEL_TRACES_EXPORTER="none",
            OTEL_METRICS_EXPORTER="none",
            OTEL_LOGS_EXPORTER="console",
            OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=enabled,
        )
        result = _instrument(script, env)
        assert result.returncode == 0, result.stderr
        exported = '"body": "Exception on /checkout [POST]"' in result.stdout
        assert exported is (enabled == "true"), result.stdout


PROBE = textwrap.dedent(
    """
    from opentelemetry import trace

    import foundation_telemetry

    print("configured:", foundation_telemetry.current() is not None)
    print("provider:", type(trace.get_tracer_provider()).__name__)
    """
)


def _run_unselected(
    tmp_path: Path, *, other_configurator: bool
) -> subprocess.CompletedProcess[str]:
    """Run the probe under opentelemetry-instrument with none of our variables set."""
    env = _zero_code_env()
    del env["OTEL_PYTHON_DISTRO"], env["OTEL_PYTHON_CONFIGURATOR"]
    if other_configurator:
        # Another installed distribution's configurator: a dist-info on the path declares it.
        info = tmp_path / "other_configurator-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: other-configurator\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(
            "[opentelemetry_configurator]\nother = other_configurator:Configurator\n"
        )
        (tmp_path / "other_configurator.py").write_text(
            "class Configurator:\n"
            "    def configure(self, **kwargs):\n"
            "        print('other configurator ran')\n"
        )
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    return _instrument(script, env)


class TestNotSelected:
    def test_taken_first_without_our_variables_it_configures_nothing(self, tmp_path: Path) -> None:
        """Installed but not selected: no exporters, no global providers, nothing printed."""
        result = _run_unselected(tmp_path, other_configurator=False)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert "configured: False" in result.stdout
        assert "provider: ProxyTracerProvider" in result.stdout

    def test_the_configurator_that_would_have_run_runs_once(self, tmp_path: Path) -> None:
        """With another configurator installed, it runs exactly as if we were not installed."""
        result = _run_unselected(tmp_path, other_configurator=True)
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("other configurator ran") == 1
        assert "configured: False" in result.stdout


def test_naming_us_in_one_selector_selects_both(tmp_path: Path) -> None:
    """OTEL_PYTHON_DISTRO alone is not a silent no-op: our configurator runs too."""
    env = _zero_code_env(OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none")
    env["OTEL_LOGS_EXPORTER"] = "none"
    del env["OTEL_PYTHON_CONFIGURATOR"]
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    result = _instrument(script, env)
    assert result.returncode == 0, result.stderr
    assert "configured: True" in result.stdout
