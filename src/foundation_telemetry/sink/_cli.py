"""``foundation-telemetry sink``: run the embedded OTLP sink and watch what arrives.

Starts a `Sink` on the given ports (4317 for gRPC and 4318 for HTTP by default, like a
Collector), prints where it listens, then prints one readable line per span, event, log record
and metric point as they arrive (with rich), until Ctrl-C or SIGTERM. The HTTP port also serves
the JSON query API (``/api/spans``, ``/api/events``, ``/api/metrics``). Printing happens on the
main thread from a bounded queue, so a flood of telemetry never slows the receivers down; lines
that do not fit are counted and reported instead.
"""

from __future__ import annotations

import argparse
import datetime
import queue
import signal
import sys
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any

from ..recording._records import EventRecord, MetricPoint, RecordKind, SpanRecord
from ._decode import Record
from ._sink import Sink

__all__ = ["add_arguments", "run"]

_QUEUE_LIMIT = 10_000
_MAX_ATTRIBUTES = 6


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--grpc-port",
        type=int,
        default=4317,
        help="OTLP/gRPC port, 0 for any (default: %(default)s)",
    )
    parser.add_argument(
        "--http-port",
        type=int,
        default=4318,
        help="OTLP/HTTP and query API port, 0 for any (default: %(default)s)",
    )
    parser.add_argument("--db", metavar="PATH", help="also keep every record in this SQLite file")
    parser.add_argument("--token", help="require 'authorization: Bearer TOKEN' on both transports")
    parser.add_argument(
        "--max-items",
        type=int,
        default=100_000,
        help="records kept in memory for the query API (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the banner, not each record"
    )
    parser.add_argument(
        "--ui", action="store_true", help="serve the web viewer on the HTTP port (/ui/)"
    )


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run(args: argparse.Namespace) -> int:
    """Run the sink until interrupted; returns the exit code."""
    try:
        from rich.console import Console
    except ImportError:
        print(
            "foundation-telemetry sink needs rich: pip install 'foundation-telemetry[sink]'",
            file=sys.stderr,
        )
        return 2
    console = Console(soft_wrap=True, highlight=False)
    try:
        sink = Sink(
            args.host,
            args.grpc_port,
            args.http_port,
            max_items=args.max_items,
            token=args.token,
            store=args.db,
            ui=args.ui,
        ).start()
    except (ValueError, OSError) as error:
        print(f"foundation-telemetry sink: {error}", file=sys.stderr)
        return 2
    lines: queue.Queue[Sequence[Record]] = queue.Queue(_QUEUE_LIMIT)
    not_shown = 0

    def enqueue(records: Sequence[Record]) -> None:
        nonlocal not_shown
        try:
            lines.put_nowait(records)
        except queue.Full:
            not_shown += len(records)

    if not args.quiet:
        sink.subscribe(enqueue)
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        _banner(console, sink, args)
        while True:
            batch = lines.get()
            for record in batch:
                console.print(_line(record))
            if not_shown:
                console.print(f"[dim]… {not_shown} records arrived faster than shown[/dim]")
                not_shown = 0
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sink.stop()
    stats = sink.stats
    console.print(
        f"[bold]sink stopped[/bold]: {stats.requests} requests, accepted {stats.accepted or 0},"
        f" refused {stats.refused or 0}"
    )
    return 0


def _banner(console: Any, sink: Sink, args: argparse.Namespace) -> None:
    console.print(
        f"[bold green]OTLP sink listening[/bold green] gRPC {sink.grpc_endpoint}  HTTP {sink.http_endpoint}"
    )
    console.print(f"query API: {sink.http_endpoint}/api/spans | /api/events | /api/metrics")
    if args.db:
        console.print(f"keeping every record in {args.db}")
    if args.token:
        console.print("requests must carry 'authorization: Bearer <token>'")
    if sink.has_ui:
        console.print(f"viewer: {sink.ui_url}")
    console.print("[dim]Ctrl-C to stop[/dim]")


def _clock(timestamp_ns: int | None) -> str:
    if not timestamp_ns:
        return "--:--:--.---"
    moment = datetime.datetime.fromtimestamp(timestamp_ns / 1e9)
    return moment.strftime("%H:%M:%S.%f")[:-3]


def _attributes(attributes: Mapping[str, Any]) -> str:
    shown = [f"{key}={value!r}" for key, value in list(attributes.items())[:_MAX_ATTRIBUTES]]
    if len(attributes) > _MAX_ATTRIBUTES:
        shown.append(f"+{len(attributes) - _MAX_ATTRIBUTES} more")
    return " ".join(shown)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def _line(record: Record) -> str:
    service = _escape(str(record.resource.get("service.name", "?")))
    attributes = _escape(_attributes(record.attributes))
    if isinstance(record, SpanRecord):
        duration = "" if record.duration_ns is None else f"{record.duration_ns / 1e6:.2f} ms"
        status = "[red]ERROR[/red] " if record.status == "ERROR" else ""
        return (
            f"{_clock(record.start_time_ns)} [cyan]span  [/cyan] {service} "
            f"[bold]{_escape(record.name)}[/bold] {duration} {status}"
            f"trace={record.trace_id:032x} {attributes}"
        )
    if isinstance(record, EventRecord):
        label = "event " if record.kind is RecordKind.EVENT else "log   "
        severity = f"{record.severity} " if record.severity else ""
        body = ""
        if record.kind is not RecordKind.EVENT and record.body is not None:
            body = _escape(repr(record.body)) + " "
        name = (
            "" if record.kind is not RecordKind.EVENT else f"[bold]{_escape(record.name)}[/bold] "
        )
        return f"{_clock(record.timestamp_ns)} [magenta]{label}[/magenta] {service} {severity}{name}{body}{attributes}"
    return _metric_line(record, service, attributes)


def _metric_line(record: MetricPoint, service: str, attributes: str) -> str:
    value = f"{record.value:g}"
    if record.instrument_kind in ("histogram", "summary"):
        value = f"count={record.count} sum={record.value:g}"
    unit = f" {_escape(record.unit)}" if record.unit else ""
    return (
        f"{_clock(record.timestamp_ns)} [yellow]metric[/yellow] {service} "
        f"[bold]{_escape(record.name)}[/bold] {value}{unit} ({record.instrument_kind}) {attributes}"
    )
