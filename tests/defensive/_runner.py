"""Run one fault scenario (``_scenarios.py``) in a fresh interpreter and read what happened."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import foundation_telemetry

SCENARIOS = Path(__file__).with_name("_scenarios.py")
SRC = Path(foundation_telemetry.__file__).resolve().parent.parent


@dataclass
class Outcome:
    """What one scenario run showed from outside: exit code, stderr, exit time, its reports."""

    returncode: int
    stderr: str
    exit_seconds: float
    result: dict[str, Any] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def skips(self, component: str | None = None) -> dict[tuple[str, str], int]:
        """Skip counts keyed by (component, reason), optionally for one component."""
        counts = {(c, r): n for c, r, n in self.final.get("skips", [])}
        if component is None:
            return counts
        return {key: n for key, n in counts.items() if key[0] == component}


def run_scenario(
    mode: str,
    scenario: str,
    arg: str = "",
    *,
    shutdown_timeout: float = 1.0,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
    interrupt_on: str | None = None,
) -> Outcome:
    """Run ``_scenarios.py MODE SCENARIO ARG`` and return its outcome.

    With *interrupt_on*, the process gets a real SIGINT (Ctrl-C) as soon as it prints that line.
    """
    inherited = {k: v for k, v in os.environ.items() if k != "FOUNDATION_TELEMETRY_DEBUG"}
    environment = {
        **inherited,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "SCENARIO_SHUTDOWN_TIMEOUT": str(shutdown_timeout),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [sys.executable, str(SCENARIOS), mode, scenario, arg]
    if interrupt_on is None:
        completed = subprocess.run(
            command, capture_output=True, text=True, env=environment, timeout=timeout, check=False
        )
        returncode, stdout, stderr = completed.returncode, completed.stdout, completed.stderr
    else:
        returncode, stdout, stderr = _run_interrupting(command, environment, interrupt_on, timeout)
    finished = time.monotonic()
    outcome = Outcome(returncode, stderr, float("nan"))
    for line in stdout.splitlines():
        kind, _, payload = line.partition(" ")
        if kind == "RESULT":
            outcome.result = json.loads(payload)
        elif kind == "FINAL":
            outcome.final = json.loads(payload)
        elif kind == "END":
            outcome.exit_seconds = finished - float(payload)
    return outcome


def _run_interrupting(
    command: list[str], env: dict[str, str], marker: str, timeout: float
) -> tuple[int, str, str]:
    """Run *command*; send SIGINT when it prints *marker*; return (code, stdout, stderr)."""
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        )
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        lines = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.strip() == marker:
                    process.send_signal(signal.SIGINT)
            returncode = process.wait()
        finally:
            killer.cancel()
        stderr.seek(0)
        return returncode, "".join(lines), stderr.read()


class BlackHoleServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.port = self._socket.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        self._stopped.set()
        self._socket.close()
        for connection in self._held:
            connection.close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """Return a 127.0.0.1 port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
