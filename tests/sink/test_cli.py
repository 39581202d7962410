"""``foundation-telemetry sink`` in a real subprocess: banner, live stream, query API, clean stop."""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from foundation_telemetry.sink import read_store

from .test_http import JSON_LOGS, JSON_METRICS, JSON_TRACES

TIMEOUT = 30


class Running:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "foundation_telemetry.cli", "sink", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pattern: str) -> re.Match[str]:
        """Read lines until one matches *pattern* (fails on exit or after TIMEOUT)."""
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} within {TIMEOUT}s; saw {seen}")
            if line is None:
                pytest.fail(f"the sink exited before printing {pattern!r}; saw {seen}")
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, str]:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=TIMEOUT)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Running]:
    running = Running("--grpc-port", "0", "--http-port", "0", "--db", str(tmp_path / "cli.db"))
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(timeout=TIMEOUT)


def _post(port: int, path: str, document: object) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(document).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return int(response.status)


class TestSinkCommand:
    def test_streams_what_arrives_and_stops_cleanly(self, cli: Running, tmp_path: Path) -> None:
        """Spans, events, logs and metrics are printed as they arrive; SIGINT exits 0 quietly."""
        banner = cli.expect(r"gRPC http://127\.0\.0\.1:(\d+)\s+HTTP http://127\.0\.0\.1:(\d+)")
        http_port = int(banner.group(2))
        assert _post(http_port, "/v1/traces", JSON_TRACES) == 200
        cli.expect(
            r"span .*json-svc checkout 1000\.00 ms ERROR trace=5b8efff798038103d269b633813fc60c"
        )
        assert _post(http_port, "/v1/logs", JSON_LOGS) == 200
        cli.expect(r"event .*json-svc INFO foundation\.retry\.attempt_start attempt=2")
        cli.expect(r"log .*json-svc 'plain log line'")
        assert _post(http_port, "/v1/metrics", JSON_METRICS) == 200
        cli.expect(r"metric .*requests 7 1 \(counter\) route='/a'")
        cli.expect(r"metric .*latency count=3 sum=12\.5 ms \(histogram\)")
        with urllib.request.urlopen(
            f"http://127.0.0.1:{http_port}/api/spans?name=checkout", timeout=TIMEOUT
        ) as response:
            assert json.load(response)["count"] == 1
        code, stderr = cli.stop()
        assert (code, stderr) == (0, "")
        assert [record.name for record in read_store(tmp_path / "cli.db", "span")] == ["checkout"]

    def test_sigterm_stops_with_a_summary(self, cli: Running) -> None:
        """SIGTERM ends the command with exit code 0 and a closing summary line."""
        cli.expect(r"Ctrl-C to stop")
        cli.process.send_signal(signal.SIGTERM)
        cli.expect(r"sink stopped: 0 requests")
        assert cli.process.wait(timeout=TIMEOUT) == 0

    def test_port_in_use_is_a_clear_error(self, cli: Running) -> None:
        """A second sink on a port that is taken exits 2 with the reason on stderr."""
        banner = cli.expect(r"gRPC http://127\.0\.0\.1:(\d+)")
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "foundation_telemetry.cli",
                "sink",
                "--grpc-port",
                banner.group(1),
                "--http-port",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert second.returncode == 2
        assert "could not listen" in second.stderr


_NO_PYTEST = """
import sys

class NoPytest:
    def find_spec(self, name, path=None, target=None):
        if name == "pytest" or name.startswith("_pytest"):
            raise ImportError("pytest is not installed")

sys.meta_path.insert(0, NoPytest())
from foundation_telemetry.sink import Sink
with Sink() as sink:
    print(sink.grpc_port > 0)
"""


def test_sink_runs_without_pytest_installed() -> None:
    """The sink (and so the command) works in an environment without pytest."""
    result = subprocess.run(
        [sys.executable, "-c", _NO_PYTEST],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "True"), result.stderr


@pytest.mark.parametrize("flag", ["--grpc-port", "--http-port"])
def test_a_busy_port_is_one_clear_line(flag):
    """A port already taken: exit status 2 and only our line on stderr (no gRPC C-core log)."""
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        other = "--http-port" if flag == "--grpc-port" else "--grpc-port"
        result = subprocess.run(
            [sys.executable, "-m", "foundation_telemetry.cli", "sink", flag, port, other, "0"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("foundation-telemetry sink: ")
    assert port in lines[0]
    assert "in use" in lines[0]
