"""Permanent OTLP/HTTP errors: one warning line with the fix, then a count in health().

A real process exports over real sockets to the embedded sink, at a wrong path (404) or without
its token (401); its real stderr is read. An outage (nothing listening) stays silent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from foundation_telemetry.sink import Sink

APP = textwrap.dedent(
    """
    import json
    import foundation_telemetry as ft
    from foundation_telemetry.defensive import health

    telemetry = ft.configure("svc", protocol="http/protobuf")
    tracer = telemetry.tracer_provider.get_tracer("app")
    for index in range(3):
        tracer.start_span(f"work.{index}").end()
        telemetry.force_flush(timeout=5)
    print(json.dumps(health().get("otlp_rejected")))
    print(json.dumps({str(k): v for k, v in health()["skipped"].items()}), flush=True)
    telemetry.shutdown()
    """
)


def run_app(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    app = tmp_path / "app.py"
    app.write_text(APP)
    environ = {
        **os.environ,
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2",
        **env,
    }
    environ.pop("FOUNDATION_TELEMETRY_DEBUG", None)
    return subprocess.run(
        [sys.executable, str(app)], env=environ, capture_output=True, text=True, timeout=60
    )


def our_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


class TestPermanentErrors:
    def test_wrong_path_is_one_warning_line_then_counted(self, tmp_path):
        """A 404 prints one WARNING naming endpoint, status and fix; all 3 exports are counted."""
        with Sink() as sink:
            wrong = sink.http_endpoint + "/v1/trace"
            result = run_app(tmp_path, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=wrong)
            assert sink.spans() == []
        assert result.returncode == 0, result.stderr
        assert our_lines(result.stderr) == [
            f"foundation-telemetry: WARNING: the OTLP endpoint {wrong} rejected traces with HTTP "
            "404 Not Found, so they are lost: nothing receives OTLP at this path: give "
            "configure(endpoint=) or OTEL_EXPORTER_OTLP_ENDPOINT the collector's base URL (such "
            "as 'http://localhost:4318'; the /v1/traces path is added), or set "
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to the full URL. Further rejections are counted "
            'silently in health()["otlp_rejected"].'
        ]
        rejected, skipped = map(json.loads, result.stdout.splitlines())
        assert rejected == {wrong: {"signal": "traces", "rejected": {"404": 3}}}
        # Counted as rejected, not as an outage: the backend-down breaker stays closed.
        assert skipped == {"OTLPSpanExporter": {"rejected": 3}}

    def test_missing_token_says_to_pass_headers(self, tmp_path):
        """A 401 names the headers setting."""
        with Sink(token="s3cret") as sink:
            result = run_app(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=sink.http_endpoint)
            endpoint = sink.http_endpoint + "/v1/traces"
        lines = our_lines(result.stderr)
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(
            f"foundation-telemetry: WARNING: the OTLP endpoint {endpoint} rejected traces with "
            "HTTP 401 Unauthorized, so they are lost: the endpoint needs credentials: pass them "
            "with `headers` (OTEL_EXPORTER_OTLP_HEADERS)."
        )
        assert json.loads(result.stdout.splitlines()[0])[endpoint]["rejected"] == {"401": 3}

    def test_an_outage_stays_silent(self, tmp_path):
        """Nothing listening is an outage, not a mistake: no line, nothing in otlp_rejected."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = run_app(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
        assert result.returncode == 0, result.stderr
        assert our_lines(result.stderr) == []
        assert json.loads(result.stdout.splitlines()[0]) is None
