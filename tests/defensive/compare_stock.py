"""Side-by-side: the fault scenarios on the stock SDK and behind the defensive layer.

Run from the repository root: ``python -m tests.defensive.compare_stock [--timeout 45]``. For
each scenario it prints exit time (from the application's last line to process exit), stderr
lines, exceptions that escaped into application code, and the exit code, for both modes. Stock
runs that do not exit within ``--timeout`` seconds are killed and reported as such. This is a
measurement script, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from ._runner import BlackHoleServer, closed_port, run_scenario

SHUTDOWN_TIMEOUT = 1.0


def _scenarios(black_hole_port: int) -> list[tuple[str, str, str]]:
    rows = [
        ("matrix", category, f"every hook raises {category}")
        for category in (
            "RuntimeError",
            "TypeError",
            "ClosedStream",
            "MemoryError",
            "RecursionError",
            "ImportError",
            "KeyboardInterrupt",
            "SystemExit",
        )
    ]
    rows += [
        ("hang", "", "exporters hang (3 signals)"),
        ("failure", "", "exporters return FAILURE"),
    ]
    for protocol in ("grpc", "http"):
        rows.append(
            ("otlp", f"{protocol},http://127.0.0.1:{closed_port()}", f"OTLP/{protocol} closed port")
        )
        rows.append(
            (
                "otlp",
                f"{protocol},http://127.0.0.1:{black_hole_port}",
                f"OTLP/{protocol} never answers",
            )
        )
    for protocol in ("grpc", "http"):
        rows.append(
            (
                "configure",
                f"{protocol},http://127.0.0.1:{closed_port()}",
                f"configure() vs SDK auto-config, OTLP/{protocol} closed port",
            )
        )
    rows += [
        ("fork", "", "fork with batch + periodic"),
        ("del", "", "__del__ at teardown"),
        ("stress", "", "8 threads, faults, shutdown mid-stream"),
    ]
    return rows


def _measure(mode: str, scenario: str, arg: str, timeout: float) -> str:
    try:
        outcome = run_scenario(
            mode, scenario, arg, shutdown_timeout=SHUTDOWN_TIMEOUT, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"killed after {timeout:.0f} s (no exit)"
    escapes = len(outcome.result.get("escapes", [])) if outcome.result else "?"
    extra = ""
    if scenario == "fork" and outcome.result:
        extra = f", child requests={outcome.result['child']['delivered']['requests']}"
    if scenario == "stress" and outcome.result:
        extra = f", shutdown_ok={outcome.result.get('shutdown_ok')}"
    return (
        f"exit {outcome.exit_seconds:5.2f} s, stderr {len(outcome.stderr_lines):3d} lines, "
        f"escapes {escapes}, rc {outcome.returncode}{extra}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=45.0, help="kill a run after this")
    args = parser.parse_args(argv)
    server = BlackHoleServer()
    try:
        print(f"shutdown_timeout={SHUTDOWN_TIMEOUT} s; exit time = last app line -> process exit")
        for scenario, arg, label in _scenarios(server.port):
            stock = _measure("stock", scenario, arg, args.timeout)
            ours = _measure("defensive", scenario, arg, args.timeout)
            print(f"{label}\n  stock:     {stock}\n  defensive: {ours}", flush=True)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
