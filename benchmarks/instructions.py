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

Then the peer table (``--no-peers`` skips it): instructions per span a test pays to capture it,
in the loop of ``benchmarks._capture_child`` (N spans with 5 attributes + 1 event, all
retained): a provider with no processor (the floor), stock ``SimpleSpanProcessor`` +
``InMemorySpanExporter``, the Recorder, and logfire's ``capfire`` configuration. logfire runs
from a venv of its own, ``build/peer-venv`` (``pip install -e .[peer]``, made on first use),
so that its pytest plugin never loads in the dev venv.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import _callgrind as callgrind
from benchmarks._procs import ROOT
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


PEER_VENV = ROOT / "build" / "peer-venv"
PEER_VARIANTS = ("floor", "stock", "ours", "logfire")


def _peer_python() -> str:
    """The peer venv's interpreter, made on first use; ``RuntimeError`` saying why not."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"making {PEER_VENV.relative_to(ROOT)} (pip install -e .[peer]) ...", flush=True)
        steps = (
            [sys.executable, "-m", "venv", str(PEER_VENV)],
            [str(python), "-m", "pip", "install", "-q", "-e", f"{ROOT}[peer]"],
        )
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                shutil.rmtree(PEER_VENV, ignore_errors=True)
                msg = f"could not make the peer venv ({' '.join(step[-3:])}): {done.stderr[-500:]}"
                raise RuntimeError(msg)
    return str(python)


def _peers(spans: int, jobs: int, out: Path) -> dict[str, float] | None:
    """Print and return instructions per captured span for each peer variant (None: skipped)."""
    try:
        python = _peer_python()
    except RuntimeError as exc:
        print(f"SKIP peers: {exc}")
        return None
    with ThreadPoolExecutor(jobs) as pool:
        futures = {
            variant: pool.submit(
                callgrind.measure,
                "benchmarks._capture_child",
                (variant, str(spans)),
                out / f"peer-{variant}",
                python,
            )
            for variant in PEER_VARIANTS
        }
        per_span = {variant: f.result().loop / spans for variant, f in futures.items()}
    floor, stock = per_span["floor"], per_span["stock"]
    print(f"\ncapturing a span in a test (5 attributes + 1 event, {spans} retained), callgrind")
    print(f"{'variant':10} {'per span':>10} {'vs stock':>9} {'capture':>10} {'vs stock':>9}")
    for variant, count in per_span.items():
        capture = count - floor
        capture_ratio = f"{capture / (stock - floor):8.2f}x" if variant != "floor" else ""
        print(
            f"{variant:10} {count / 1000:9.1f}k {count / stock:8.3f}x {capture / 1000:9.1f}k "
            f"{capture_ratio:>9}"
        )
    return per_span


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
    parser.add_argument("--no-peers", action="store_true", help="skip the peer table (logfire)")
    parser.add_argument("--peer-spans", type=int, default=2000, metavar="N")
    args = parser.parse_args(argv)
    if not 0 < args.spans[0] < args.spans[1]:
        parser.error(f"--spans needs 0 < LOW < HIGH, got {args.spans[0]} {args.spans[1]}")
    if args.peer_spans < 1:
        parser.error(f"--peer-spans must be at least 1, got {args.peer_spans}")
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
    peers = None if args.no_peers else _peers(args.peer_spans, args.jobs, out)
    if args.keep is None:
        shutil.rmtree(out)
    print(json.dumps({"per_span": results, "peers": peers}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
