"""Per-span instruction counts under callgrind, stock vs ours, over OTLP/HTTP and OTLP/gRPC.

``make bench-instructions`` (``python -m benchmarks.instructions [--spans 512 2560] [--jobs 2]``).
Instruction counts do not depend on the machine's load, so these ratios hold on a busy machine.
Each configuration runs in a fresh process (``benchmarks._instructions_child``) under
``valgrind --tool=callgrind --separate-threads=yes --dump-before=getppid`` at N=512 and N=2560
spans, exporting to the embedded sink in this process. Per span:

- whole process: every thread of every dump, (total(2560) - total(512)) / 2048, which cancels
  start-up, imports and per-flush costs;
- app thread: the main thread between the two ``getppid`` markers (the span loop), same difference;
- export side: whole process - app thread (batch worker, encoder, transport threads).

Targets (issue 19): export side <= 0.35x stock, whole process <= 0.70x, app thread <= 1.01x.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import _callgrind as callgrind
from foundation_telemetry.sink import Sink

TARGETS = {"export": 0.35, "whole": 0.70, "app": 1.01}


def _run(config: str, protocol: str, endpoint: str, spans: int, out: Path) -> dict[str, int]:
    """Run one child under callgrind; return its whole-process and loop instruction counts."""
    counts = callgrind.measure(
        "benchmarks._instructions_child",
        (config, protocol, endpoint, str(spans)),
        out / f"{config}-{protocol}-{spans}",
    )
    return {"whole": counts.whole, "app": counts.loop}


def _per_span(
    low: dict[str, int], high: dict[str, int], spans: tuple[int, int]
) -> dict[str, float]:
    span_count = spans[1] - spans[0]
    whole = (high["whole"] - low["whole"]) / span_count
    app = (high["app"] - low["app"]) / span_count
    return {"whole": whole, "app": app, "export": whole - app}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("--spans", nargs=2, type=int, default=(512, 2560), metavar=("LOW", "HIGH"))
    parser.add_argument("--jobs", type=int, default=2, help="callgrind processes at a time")
    parser.add_argument(
        "--protocols", nargs="+", default=("http", "grpc"), choices=("http", "grpc")
    )
    parser.add_argument("--keep", type=Path, help="keep the callgrind files in this folder")
    args = parser.parse_args(argv)
    reason = callgrind.missing()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    low, high = args.spans
    out = Path(tempfile.mkdtemp(prefix="ft-callgrind-")) if args.keep is None else args.keep
    out.mkdir(parents=True, exist_ok=True)
    runs = [(c, p, n) for p in args.protocols for c in ("stock", "ours") for n in (low, high)]
    with Sink(max_items=1000) as sink, ThreadPoolExecutor(args.jobs) as pool:
        endpoints = {"grpc": sink.grpc_endpoint, "http": sink.http_endpoint}
        futures = {
            run: pool.submit(_run, run[0], run[1], endpoints[run[1]], run[2], out) for run in runs
        }
        counts = {run: future.result() for run, future in futures.items()}
    if args.keep is None:
        shutil.rmtree(out)
    results: dict[str, dict[str, dict[str, float]]] = {}
    print(f"instructions per span, (N={high} - N={low}) / {high - low}, callgrind")
    print(f"{'protocol':8} {'measure':8} {'stock':>10} {'ours':>10} {'ratio':>7} {'target':>7}")
    for protocol in args.protocols:
        per = {
            c: _per_span(counts[(c, protocol, low)], counts[(c, protocol, high)], (low, high))
            for c in ("stock", "ours")
        }
        results[protocol] = per
        for measure in ("whole", "export", "app"):
            ratio = per["ours"][measure] / per["stock"][measure]
            verdict = "PASS" if ratio <= TARGETS[measure] else "FAIL"
            print(
                f"{protocol:8} {measure:8} {per['stock'][measure] / 1000:9.1f}k {per['ours'][measure] / 1000:9.1f}k "
                f"{ratio:6.3f}x {TARGETS[measure]:6.2f}x {verdict}"
            )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
