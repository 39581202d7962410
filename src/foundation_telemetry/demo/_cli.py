"""``foundation-telemetry demo [--duration S] [--workers N] [--endpoint URL] [--seed N] [--ui]``.

Runs the demo (see :mod:`foundation_telemetry.demo`) with a progress bar on stderr and prints the
report on stdout. Ctrl-C ends the run early and still prints the report. The exit status is 0
when the accounting identity holds, 1 when it does not, 2 for bad arguments or a missing
optional dependency, and 130 after Ctrl-C. With ``--ui`` the embedded sink serves its web viewer
(the address is printed first) and stays up after the report until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from typing import Any

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to *parser*."""
    parser.add_argument(
        "--duration",
        type=float,
        default=15.0,
        metavar="S",
        help="seconds of traffic (default 15; the run ends a little later if an alert is still firing)",
    )
    parser.add_argument(
        "--workers", type=int, default=4, metavar="N", help="concurrent order loops (default 4)"
    )
    parser.add_argument(
        "--endpoint",
        default=None,
        metavar="URL",
        help="export OTLP here instead of to an embedded sink (default: OTEL_EXPORTER_OTLP_ENDPOINT, "
        "else an embedded sink)",
    )
    parser.add_argument(
        "--seed", type=int, default=7, metavar="N", help="seed of the fault plan (default 7)"
    )
    parser.add_argument(
        "--ui",
        action="store_true",
        help="serve the sink's web viewer, print its address, and keep it up after the report "
        "until Ctrl-C",
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo; return the exit status."""
    try:
        from rich.console import Console

        from ..sink import Sink
        from ._report import render
        from ._run import DemoConfig, run_demo
    except ModuleNotFoundError as error:
        print(
            f"foundation-telemetry demo needs the demo extra ({error.name} is missing): "
            "pip install 'foundation-telemetry[demo]'",
            file=sys.stderr,
        )
        return 2
    if args.ui and args.endpoint:
        print(
            "foundation-telemetry demo: --ui shows the embedded sink; drop --endpoint",
            file=sys.stderr,
        )
        return 2
    sink = Sink(ui=True).start() if args.ui else None
    try:
        try:
            config = DemoConfig(
                duration=args.duration,
                workers=args.workers,
                endpoint=args.endpoint,
                seed=args.seed,
                sink=sink,
            )
        except ValueError as error:
            print(f"foundation-telemetry demo: {error}", file=sys.stderr)
            return 2
        console = Console()
        if sink is not None:
            console.print(f"Viewer: {sink.ui_url}  (open it now to watch the run live)")
        report = run_demo(config)
        render(report, console)
        if sink is not None and not report.interrupted:
            _keep_viewer_up(console, sink)
    finally:
        if sink is not None:
            sink.stop()
    if not report.identity_holds:
        return 1
    return 130 if report.interrupted else 0


def _keep_viewer_up(console: Any, sink: Any) -> None:
    console.print(f"Viewer still up at {sink.ui_url}; Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
