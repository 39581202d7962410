"""The benchmark runner behind ``make bench`` and ``make bench-quick``.

Runs every target group (one ``bench_*`` module each), prints the interleaved tables and one
PASS/FAIL/SKIP/INFO line per target, and writes all figures as JSON to ``benchmarks/results/``.
A missed target is reported, not raised: the exit status is 0 unless a benchmark itself crashed.

Usage: ``python -m benchmarks.run [--quick | --tiny] [--only GROUP ...] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks._harness import GroupResult, Settings

GROUPS = {
    "spans": "benchmarks.bench_spans",
    "wake": "benchmarks.bench_wake",
    "memory": "benchmarks.bench_memory",
    "metrics": "benchmarks.bench_metrics",
    "events": "benchmarks.bench_events",
    "service": "benchmarks.bench_service",
    "otlp": "benchmarks.bench_otlp",
    "exit": "benchmarks.bench_exit",
    "sleep_vs_events": "benchmarks.bench_sleep_vs_events",
    "scaling": "benchmarks.bench_scaling",
}

RESULTS = Path(__file__).resolve().parent / "results"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Interleaved benchmarks: every target as a ratio against the stock SDK.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", const="quick", dest="mode")
    mode.add_argument(
        "--tiny",
        action="store_const",
        const="tiny",
        dest="mode",
        help="a few rounds and tiny counts: proves the scripts work, figures mean nothing",
    )
    parser.add_argument("--only", nargs="+", choices=sorted(GROUPS), metavar="GROUP")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    args.mode = args.mode or "full"
    return args


def _environment() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for dist in (
        "opentelemetry-sdk",
        "opentelemetry-exporter-otlp-proto-grpc",
        "grpcio",
        "protobuf",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "commit": commit,
        "versions": versions,
    }


def _run_group(name: str, settings: Settings) -> tuple[GroupResult | None, str | None]:
    try:
        module = importlib.import_module(GROUPS[name])
        group: GroupResult = module.run(settings)
    except Exception:  # noqa: BLE001 - one crashed group must not hide the others' results
        return None, traceback.format_exc()
    return group, None


def main(argv: list[str] | None = None) -> int:
    """Run the selected groups; 0 unless a benchmark crashed (missed targets still exit 0)."""
    args = _parse(argv)
    settings = Settings.for_mode(args.mode)
    env = _environment()
    print(
        f"foundation-telemetry benchmarks, mode={settings.mode}, rounds={settings.rounds}, "
        f"python {env['python']}, sdk {env['versions']['opentelemetry-sdk']}, "
        f"loadavg {' '.join(f'{x:.2f}' for x in env['loadavg'])}",
        flush=True,
    )
    groups: list[GroupResult] = []
    errors: dict[str, str] = {}
    started = time.monotonic()
    for name in args.only or list(GROUPS):
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"\n== {name} (loadavg {load})", flush=True)
        t0 = time.monotonic()
        group, error = _run_group(name, settings)
        if group is None:
            errors[name] = error or ""
            print(f"ERROR [{name}] the benchmark crashed:\n{error}", flush=True)
            continue
        group.extra["loadavg_before"] = load
        groups.append(group)
        for table in group.tables:
            print(table.render())
        for text in group.text:
            print(text)
        for target in group.targets:
            print(target.line())
        print(f"  ({time.monotonic() - t0:.1f} s)", flush=True)

    targets = [t for g in groups for t in g.targets]
    print("\n== summary")
    for target in targets:
        print(target.line())
    for name in errors:
        print(f"ERROR [{name}] crashed (traceback above)")
    counts = {s: sum(t.status == s for t in targets) for s in ("PASS", "FAIL", "SKIP", "INFO")}
    print(
        f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped, "
        f"{len(errors)} crashed in {time.monotonic() - started:.0f} s"
    )

    env["loadavg_after"] = os.getloadavg()
    payload = {
        "mode": settings.mode,
        "environment": env,
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "targets": [t.as_json() for t in targets],
        "groups": {
            g.group: {"tables": [t.as_json() for t in g.tables], "extra": g.extra} for g in groups
        },
        "errors": errors,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"bench-{settings.mode}-{stamp}.json"
    text = json.dumps(payload, indent=1, default=str)
    path.write_text(text)
    (args.out / f"latest-{settings.mode}.json").write_text(text)
    print(f"results: {path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
