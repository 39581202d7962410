"""Interpreter exit time and span-end cost with the backend in trouble: ours vs the stock SDK.

Every figure comes from fresh processes, ours and stock interleaved in the same run. A child
does its work and returns without shutting anything down, so the exit path (atexit hooks,
processor shutdown, exporter retries) does the rest; the time from its last line to the process
being gone is the exit time.

* refused: OTLP to a closed loopback port (``configure()`` vs the stock batch pipeline). The
  figure is what the exit adds to the same process with nothing to export (``idle``, measured in
  the same run): target <= 0.3 s, the final flush is one attempt and the breaker skips the rest.
* never answers: OTLP to a server that accepts and stays silent. Target: adds <=
  ``shutdown_timeout`` + 0.2 s.
* slow exporter, ``configure(set_global=False, shutdown_timeout=...)``: the budget is honoured.
* 1 and 3 providers left with the SDK's ``shutdown_on_exit=True``, hardened: one deadline for all,
  against wrapping by hand and against stock.
* span end under a ``SimpleSpanProcessor`` with the collector down (after the first span): ours
  skips at once while the breaker is open; stock retries on the application's thread.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.defensive._runner import BlackHoleServer

from benchmarks._harness import ComponentMissing, GroupResult, Settings, Target, require
from benchmarks._procs import ROOT, closed_port

GROUP = "exit"
SPANS = 1000
KILL_AFTER_S = 60.0
# Over the budget, what interpreter finalization adds on a loaded 2-core machine.
FINALIZE_S = 0.3


def _run(module: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one child; return its exit time, exit code, stderr size and JSON lines."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
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
        msg = f"exit child {args} never produced: {err[-2000:]}"
        raise RuntimeError(msg)
    data: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith("{"):
            data.update(json.loads(line))
    return {
        "args": args,
        "exit_s": gone - float(produced[0].split()[1]),
        "returncode": proc.returncode,
        "killed": killed,
        "stderr_lines": len(err.splitlines()),
        **data,
    }


def _median(runs: list[dict[str, Any]], key: str = "exit_s") -> float:
    return statistics.median(float(r[key]) for r in runs)


def _interleaved(
    configs: tuple[str, ...], repeats: int, once: Callable[[str], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Run every config *repeats* times, alternating the order between rounds."""
    runs: dict[str, list[dict[str, Any]]] = {config: [] for config in configs}
    for repeat in range(repeats):
        for config in configs if repeat % 2 == 0 else tuple(reversed(configs)):
            runs[config].append(once(config))
    return runs


def _detail(runs: dict[str, list[dict[str, Any]]], extra: str) -> str:
    others = ", ".join(
        f"{config} {_median(config_runs):.2f} s"
        + (" (KILLED after 60 s)" if any(r["killed"] for r in config_runs) else "")
        for config, config_runs in runs.items()
        if config != "ours"
    )
    stderr = _median(runs["ours"], "stderr_lines")
    return f"{others}; stderr lines ours {stderr:.0f}; {extra}"


def _backend_rows(
    settings: Settings, env: dict[str, str], shutdown_timeout: float, result: GroupResult
) -> None:
    black_hole = BlackHoleServer()
    try:
        for backend in ("refused", "never answers"):
            for protocol in settings.exit_protocols:

                def once(config: str, backend: str = backend, protocol: str = protocol) -> Any:
                    port = closed_port() if backend == "refused" else black_hole.port
                    args = [
                        "exit",
                        config,
                        protocol,
                        f"http://127.0.0.1:{port}",
                        str(SPANS),
                        str(shutdown_timeout),
                    ]
                    return _run("benchmarks._otlp_child", args, env)

                runs = _interleaved(("stock", "ours", "idle"), settings.exit_repeats, once)
                result.extra[f"{backend}-{protocol}"] = runs
                baseline = _median(runs["idle"])
                added = _median(runs["ours"]) - baseline
                result.add(
                    Target(
                        GROUP,
                        f"exit time added, backend {backend}, {protocol}",
                        added,
                        0.3 if backend == "refused" else shutdown_timeout + 0.2,
                        unit="s",
                        detail=_detail(
                            runs,
                            f"ours {_median(runs['ours']):.2f} s; idle (same imports, nothing "
                            f"to export) is the baseline; shutdown_timeout={shutdown_timeout}",
                        ),
                    )
                )
    finally:
        black_hole.close()


def _slow_rows(settings: Settings, env: dict[str, str], result: GroupResult) -> None:
    tiny = settings.mode == "tiny"  # proves the scripts work in a few seconds
    shutdown_timeout = 0.5 if tiny else 1.0
    slow_s = 0.8 if tiny else 5.0

    def child(config: str, providers: int) -> dict[str, Any]:
        args = ["slow", config, str(providers), str(shutdown_timeout), str(slow_s)]
        return _run("benchmarks._exit_child", args, env)

    runs = _interleaved(
        ("stock", "ours"),
        settings.exit_repeats,
        lambda c: child("configure" if c == "ours" else "stock", 1),
    )
    result.extra["slow-configure-local"] = runs
    result.add(
        Target(
            GROUP,
            "exit time, slow exporter, configure(set_global=False)",
            _median(runs["ours"]),
            shutdown_timeout + 0.2 + FINALIZE_S,
            unit="s",
            detail=_detail(
                runs, f"shutdown_timeout={shutdown_timeout}, exporter takes {slow_s} s per export"
            ),
        )
    )
    for providers in (1, 3):

        def hardened(config: str, providers: int = providers) -> dict[str, Any]:
            return child("harden" if config == "ours" else config, providers)

        runs = _interleaved(("stock", "hand", "ours"), settings.exit_repeats, hardened)
        result.extra[f"slow-providers-{providers}"] = runs
        result.add(
            Target(
                GROUP,
                f"exit time, {providers} provider(s) with shutdown_on_exit=True, harden()",
                _median(runs["ours"]),
                shutdown_timeout + 0.2 + FINALIZE_S,
                unit="s",
                detail=_detail(
                    runs, f"shutdown_timeout={shutdown_timeout}, exporter takes {slow_s} s"
                ),
            )
        )


def _span_end_rows(settings: Settings, env: dict[str, str], result: GroupResult) -> None:
    # Stock spans take seconds each: a few. Ours take microseconds once the breaker is open.
    spans = {"stock": 3 if settings.mode == "full" else 2, "ours": 200}
    stock_env = dict(env)
    if settings.mode != "full":  # keeps the stock runs short; the full run uses the default
        stock_env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"

    def once(config: str) -> dict[str, Any]:
        endpoint = f"http://127.0.0.1:{closed_port()}"
        args = ["simple", config, "grpc", endpoint, str(spans[config])]
        return _run("benchmarks._exit_child", args, stock_env if config == "stock" else env)

    runs = _interleaved(("stock", "ours"), settings.exit_repeats, once)
    result.extra["span-end-simple"] = runs

    def after_first(config: str) -> float:
        return statistics.median(float(c) for r in runs[config] for c in r["span_end_s"][1:])

    first = statistics.median(r["span_end_s"][0] for r in runs["ours"])
    stock_timeout = stock_env.get("OTEL_EXPORTER_OTLP_TIMEOUT", "10 (default)")
    result.add(
        Target(
            GROUP,
            "span end, collector down, SimpleSpanProcessor (after the first span)",
            after_first("ours") * 1e6,
            1000.0,
            unit="us",
            detail=(
                f"stock {after_first('stock'):.2f} s per span "
                f"(OTEL_EXPORTER_OTLP_TIMEOUT={stock_timeout}); ours first span "
                f"{first:.2f} s (export_timeout=0.5), then the breaker skips"
            ),
        )
    )


def run(settings: Settings) -> GroupResult:
    """Measure exit times and span-end cost with the backend down, slow or silent."""
    result = GroupResult(GROUP)
    try:
        require("foundation_telemetry", "harden")
    except ComponentMissing as exc:
        result.skip(["exit time"], str(exc))
        return result
    shutdown_timeout = 3.0
    env = dict(os.environ)
    env.pop("OTEL_SDK_DISABLED", None)
    if settings.mode == "tiny":  # proves the scripts work; a short export timeout keeps it fast
        shutdown_timeout = 1.0
        env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    _backend_rows(settings, env, shutdown_timeout, result)
    _slow_rows(settings, env, result)
    _span_end_rows(settings, env, result)
    return result
