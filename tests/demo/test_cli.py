"""``foundation-telemetry demo`` run for real in a subprocess: the report and its books.

The demo exports over OTLP/HTTP to its embedded sink (or, in one test, to a sink of this test
process via ``--endpoint``); the report must show the breaker opening and closing, an alert
firing and resolving, a retried trace, latencies, and an accounting identity that balances.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading

import pytest

from foundation_telemetry.sink import Sink

ACCOUNTING = re.compile(r"(\w+): produced (\d+) = received (\d+) \+ dropped (\d+): (.+)")


COMMAND = [sys.executable, "-m", "foundation_telemetry.cli", "demo"]


def _env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "FOUNDATION_TELEMETRY_"))
    }
    env["COLUMNS"] = "200"  # keep report lines whole for the checks below
    return env


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], env=_env(), capture_output=True, text=True, timeout=180, check=False
    )


def _event_counts(report: str) -> dict[str, tuple[str, str]]:
    counts = {}
    for line in report.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) == 3 and cells[0].startswith(("foundation.", "demo.")):
            counts[cells[0]] = (cells[1], cells[2])
    return counts


@pytest.fixture(scope="module")
def embedded_run() -> subprocess.CompletedProcess[str]:
    return _demo("--duration", "3")


class TestEmbeddedSinkRun:
    def test_the_demo_exits_cleanly_with_a_balanced_report(self, embedded_run):
        """Exit status 0 and the identity line: produced = received + dropped for both signals."""
        assert embedded_run.returncode == 0, embedded_run.stderr
        report = embedded_run.stdout
        assert "Accounting identity holds." in report
        books = {m[1]: tuple(int(n) for n in m.groups()[1:4]) for m in ACCOUNTING.finditer(report)}
        assert set(books) == {"traces", "logs"}
        for produced, received, dropped in books.values():
            assert produced > 0
            assert produced == received + dropped

    def test_the_breaker_opens_and_closes_and_the_alert_fires_and_resolves(self, embedded_run):
        """The seeded outage trips the breaker; recovery closes it; the alert follows."""
        report = embedded_run.stdout
        transitions = re.search(r"Circuit breaker transitions: (.+)", report)
        assert transitions is not None
        chain = transitions[1].split(" (and ")[0]
        assert chain.startswith(("closed -> open", "closed -> (open -> half-open)"))
        # Usually half-open -> closed; a trial call still in flight can close it from open.
        assert chain.endswith("-> closed")
        alerts = re.search(r"Alerts: fired (\d+), resolved (\d+)", report)
        assert alerts is not None
        assert int(alerts[1]) >= 1
        assert int(alerts[2]) >= 1

    def test_events_by_name_were_received_as_produced(self, embedded_run):
        """Every standard event the demo produced arrived at the sink, count for count."""
        counts = _event_counts(embedded_run.stdout)
        for name in (
            "foundation.retry.backoff",
            "foundation.retry.exhausted",
            "foundation.circuit_breaker.rejected",
            "foundation.circuit_breaker.state_change",
            "foundation.connection.connection_acquired",
            "foundation.service.started",
            "foundation.service.stopped",
            "foundation.alert.fired",
            "foundation.alert.resolved",
        ):
            assert name in counts, name
            produced, received = counts[name]
            assert produced == received
            assert int(produced) > 0

    def test_the_report_shows_a_retried_trace_and_latency_percentiles(self, embedded_run):
        """The sample trace has the order span with a retried payment; p50 <= p99."""
        report = embedded_run.stdout
        assert "Sample trace" in report
        assert re.search(r"demo\.order\.process [\d.]+ ms", report)
        assert re.search(r"retry payments\.charge [\d.]+ ms (ERROR )?retry\.attempts=[2-9]", report)
        assert "foundation.retry.backoff" in report.split("Sample trace", 1)[1]
        latency = re.search(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms \((\d+) orders\)", report)
        assert latency is not None
        assert 0 < float(latency[1]) <= float(latency[2])
        assert int(latency[3]) > 0
        wait = re.search(
            r"Pool wait \(TelemetryService\): p50 [\d.]+ ms, p99 [\d.]+ ms \((\d+) checkouts\)",
            report,
        )
        assert wait is not None
        assert int(wait[1]) > 0

    def test_progress_goes_to_stderr_and_the_report_to_stdout(self, embedded_run):
        """stdout holds the report only; stderr holds no traceback."""
        assert embedded_run.stdout.lstrip().startswith("─")
        assert "Traceback" not in embedded_run.stderr


class TestOptions:
    def test_an_external_endpoint_receives_the_export(self, tmp_path):
        """With --endpoint the demo exports there (no embedded sink) and says the books are open."""
        with Sink() as sink:
            result = _demo("--duration", "2", "--workers", "2", "--endpoint", sink.http_endpoint)
            spans = sink.spans()
            events = {event.name for event in sink.events()}

        assert result.returncode == 0, result.stderr
        assert "external OTLP endpoint" in result.stdout
        assert "received n/a" in result.stdout
        assert {span.resource.get("service.name") for span in spans} == {"foundation-demo"}
        assert "demo.order.process" in {span.name for span in spans}
        assert "foundation.retry.attempt_start" in events

    def test_with_the_backend_down_every_item_is_counted_as_dropped(self):
        """Nothing listens at the endpoint: what was produced is all counted, none silently lost."""
        with socket.socket() as reserved:
            reserved.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
            port = reserved.getsockname()[1]
            result = _demo("--duration", "2", "--endpoint", f"http://127.0.0.1:{port}")

        assert result.returncode == 0, result.stderr
        books = re.findall(r"(\w+): produced (\d+) = received n/a \+ dropped (\d+)", result.stdout)
        assert {signal for signal, _, _ in books} == {"traces", "logs"}
        for _, produced, dropped in books:
            assert int(produced) > 0
            assert produced == dropped
        assert "Traceback" not in result.stderr

    def test_ctrl_c_ends_the_run_early_and_still_reports(self):
        """SIGINT once orders flow: the demo stops its workers, closes its books and exits 130."""
        with Sink() as sink:
            orders_flowing = threading.Event()

            def watch(records) -> None:
                if any(record.name == "demo.order.process.start" for record in records):
                    orders_flowing.set()

            sink.subscribe(watch)
            demo = subprocess.Popen(
                [*COMMAND, "--duration", "120", "--endpoint", sink.http_endpoint],
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                assert orders_flowing.wait(timeout=120), "the demo never exported an order"
                demo.send_signal(signal.SIGINT)
                stdout, stderr = demo.communicate(timeout=120)
            finally:
                if demo.poll() is None:
                    demo.kill()
                    demo.communicate()

        assert demo.returncode == 130, stderr
        assert "interrupted before the end of the plan" in stdout
        assert "Orders by outcome" in stdout
        assert "Traceback" not in stderr

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--duration", "0"), "duration"),
            (("--duration", "-3"), "duration"),
            (("--workers", "0"), "workers"),
        ],
    )
    def test_bad_options_exit_with_status_2(self, args, message):
        """Out-of-range options are refused before anything starts."""
        result = _demo(*args)

        assert result.returncode == 2
        assert message in result.stderr
        assert result.stdout == ""


def test_ui_keeps_the_viewer_up_after_the_report_until_ctrl_c():
    """--ui prints the viewer's address first, serves the run, and stops on Ctrl-C with 0."""
    import json
    import urllib.request

    process = subprocess.Popen(
        [*COMMAND, "--duration", "1", "--ui"],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = re.search(r"Viewer: (http://127\.0\.0\.1:\d+/ui/)", first)
        assert url, first
        for line in process.stdout:  # the report, then the line saying the viewer stays up
            if "Viewer still up at" in line:
                break
        else:
            pytest.fail(f"the demo ended without keeping the viewer up: {process.stderr.read()}")
        with urllib.request.urlopen(url.group(1), timeout=30) as page:
            assert page.status == 200
        api = url.group(1).replace("/ui/", "/api/spans?limit=1")
        with urllib.request.urlopen(api, timeout=30) as response:
            assert json.loads(response.read())["count"] >= 1
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
