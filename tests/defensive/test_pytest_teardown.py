"""A pytest run that uses telemetry during fixture teardown and at exit, read from outside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from ._runner import SRC

INNER_TEST = textwrap.dedent(
    """
    import atexit
    import json
    import logging
    import sys

    import pytest
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    from foundation_telemetry import defensive as d

    # Console exporters bound to the *captured* stdout: writing after capture closed is the
    # classic "I/O operation on closed file" at the end of a pytest run.
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    tracer_provider.add_span_processor(
        d.DefensiveSpanProcessor(
            SimpleSpanProcessor(d.DefensiveSpanExporter(ConsoleSpanExporter(out=sys.stdout)))
        )
    )
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(
        d.DefensiveLogRecordProcessor(
            SimpleLogRecordProcessor(d.DefensiveLogExporter(ConsoleLogRecordExporter(out=sys.stdout)))
        )
    )
    app_logger = logging.getLogger("inner.app")
    app_logger.addHandler(d.DefensiveLoggingHandler(logger_provider=logger_provider))
    tracer = tracer_provider.get_tracer("inner")


    def at_exit():
        with tracer.start_as_current_span("at-exit"):
            app_logger.warning("logged at exit")
        counts = {
            f"{component}/{reason}": count
            for component, reasons in d.health()["skipped"].items()
            for reason, count in reasons.items()
        }
        sys.__stdout__.write("SKIPS " + json.dumps(counts) + "\\n")


    atexit.register(at_exit)


    @pytest.fixture(scope="session")
    def session_resource():
        yield
        with tracer.start_as_current_span("session-teardown"):
            app_logger.warning("session teardown")


    @pytest.fixture
    def resource(session_resource):
        yield
        with tracer.start_as_current_span("teardown"):
            app_logger.warning("test teardown")


    def test_uses_telemetry(resource):
        with tracer.start_as_current_span("in-test"):
            app_logger.warning("in test")
    """
)


class TestPytestTeardown:
    def test_telemetry_during_teardown_and_exit_is_quiet(self, tmp_path: Path) -> None:
        """Teardown and exit telemetry with captured-stream exporters: no traceback, rc 0."""
        (tmp_path / "test_inner.py").write_text(INNER_TEST)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        env.pop("FOUNDATION_TELEMETRY_DEBUG", None)
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "foundation_telemetry.defensive._pytest",
                str(tmp_path / "test_inner.py"),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert completed.stderr == "", completed.stderr
        assert "closed file" not in completed.stdout
        assert "Traceback" not in completed.stdout
        assert "1 passed" in completed.stdout
        skips_line = next(
            line for line in completed.stdout.splitlines() if line.startswith("SKIPS ")
        )
        skips = json.loads(skips_line.removeprefix("SKIPS "))
        # The session-finish hook shut everything down: the exit-time span and log are dropped
        # and counted, never written to the closed capture stream.
        assert skips.get("SimpleSpanProcessor/shutdown") == 1
        assert skips.get("SimpleLogRecordProcessor/shutdown") == 1
