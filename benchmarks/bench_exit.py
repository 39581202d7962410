"""Interpreter exit time with the OTLP backend down: ours vs the stock SDK, fresh processes.

The child produces spans against a closed loopback port and returns without shutting anything
down, so the exit path (atexit hooks, batch processor shutdown, exporter retries) does the work.
The time from "spans produced" to the process being gone is the exit time. Target: ours <=
``shutdown_timeout`` + 0.5 s; the stock time is reported beside it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks._harness import ComponentMissing, GroupResult, Settings, Target, require
from benchmarks._procs import ROOT, closed_port

GROUP = "exit"
SPANS = 1000
KILL_AFTER_S = 60.0


def _exit_once(
    config: str, protocol: str, shutdown_timeout: float, env: dict[str, str]
) -> dict[str, Any]:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks._otlp_child",
            "exit",
            config,
            protocol,
            endpoint,
            str(SPANS),
            str(shutdown_timeout),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = False
    try:
        out, err = proc.communicate(timeout=KILL_AFTER_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        killed = True
    gone = time.time()
    produced = [line for line in out.splitlines() if line.startswith("produced ")]
    if not produced:
        msg = f"{config}/{protocol} exit child never produced its spans: {err[-2000:]}"
        raise RuntimeError(msg)
    return {
        "config": config,
        "protocol": protocol,
        "exit_s": gone - float(produced[0].split()[1]),
        "returncode": proc.returncode,
        "killed": killed,
        "stderr_lines": len(err.splitlines()),
    }


def run(settings: Settings) -> GroupResult:
    """Measure exit time with the backend down for each transport."""
    result = GroupResult(GROUP)
    names = [f"exit time, backend down, {p}" for p in settings.exit_protocols]
    try:
        require("foundation_telemetry", "configure")
    except ComponentMissing as exc:
        result.skip(names, str(exc))
        return result
    shutdown_timeout = 3.0
    env = dict(os.environ)
    env.pop("OTEL_SDK_DISABLED", None)
    if settings.mode == "tiny":  # proves the scripts work; a short export timeout keeps it fast
        shutdown_timeout = 1.0
        env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    runs: list[dict[str, Any]] = []
    for protocol in settings.exit_protocols:
        for repeat in range(settings.exit_repeats):
            for config in ("stock", "ours") if repeat % 2 == 0 else ("ours", "stock"):
                runs.append(_exit_once(config, protocol, shutdown_timeout, env))
    result.extra["runs"] = runs
    for name, protocol in zip(names, settings.exit_protocols, strict=True):

        def median(config: str, key: str, protocol: str = protocol) -> float:
            return statistics.median(
                float(r[key]) for r in runs if r["config"] == config and r["protocol"] == protocol
            )

        ours_killed = any(r["killed"] for r in runs if r["config"] == "ours")
        result.add(
            Target(
                GROUP,
                name,
                median("ours", "exit_s"),
                shutdown_timeout + 0.5,
                unit="s",
                detail=(
                    f"stock {median('stock', 'exit_s'):.2f} s; stderr lines ours "
                    f"{median('ours', 'stderr_lines'):.0f}, stock {median('stock', 'stderr_lines'):.0f}"
                    f"; shutdown_timeout={shutdown_timeout}"
                    + ("; ours was KILLED after 60 s" if ours_killed else "")
                ),
            )
        )
    return result
