"""OTLP export into the embedded sink: ours (``configure()``) vs stock BSP + ``OTLPSpanExporter``.

Every run is a fresh sender process (``benchmarks._otlp_child``) producing N spans with 5
attributes as fast as it can and flushing; the sink runs in this process. Configs alternate order
from repeat to repeat and the medians are compared. Both configs get the same BSP settings from
the environment (queue large enough that nothing is dropped) and export traces only. A separate
small run per config goes through a counting proxy to measure bytes on the wire per span.
Targets: e2e spans/s >= 0.95x, sender CPU per span <= 1.05x, identical bytes per span.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks._harness import ComponentMissing, GroupResult, Settings, Target, require
from benchmarks._procs import ROOT, CountingProxy, host_port, run_child

GROUP = "otlp"
CONFIGS = ("stock", "ours")
BYTES_SPANS = 2048


def _endpoint(sink: Any, protocol: str) -> str:
    return str(sink.grpc_endpoint if protocol == "grpc" else sink.http_endpoint)


def _received(sink: Any) -> int:
    return int(sum(sink.stats.accepted.values()))


def _one(
    sink_cls: Any, config: str, protocol: str, spans: int, proxy: bool = False
) -> dict[str, Any]:
    with sink_cls(max_items=spans + 1000) as sink:
        endpoint = _endpoint(sink, protocol)
        counter = None
        if proxy:
            counter = CountingProxy(host_port(endpoint))
            endpoint = f"http://127.0.0.1:{counter.port}"
        try:
            done = run_child("throughput", config, protocol, endpoint, str(spans))
        finally:
            if counter is not None:
                counter.close()
        if done.returncode != 0 or not done.stdout.strip():
            msg = f"{config}/{protocol} sender failed ({done.returncode}): {done.stderr[-2000:]}"
            raise RuntimeError(msg)
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        figures["received"] = _received(sink)
        figures["stderr_lines"] = len(done.stderr.splitlines())
        if counter is not None:
            figures["wire_bytes"] = counter.sent
    figures["e2e_spans_per_s"] = figures["received"] / figures["flush_s"]
    figures["cpu_us_per_span"] = figures["cpu_s"] / spans * 1e6
    return figures


def _absorb(sink_cls: Any, protocol: str, requests: int, senders: int = 2) -> dict[str, Any]:
    """Spans/s the sink ingests from *senders* processes posting pre-encoded requests."""
    with sink_cls(max_items=1000) as sink:
        endpoint = _endpoint(sink, protocol)
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks._otlp_child",
                    "flood",
                    "-",
                    protocol,
                    endpoint,
                    str(requests),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(senders)
        ]
        outputs = [proc.communicate(timeout=600) for proc in procs]
        received = _received(sink)
    figures = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        if proc.returncode != 0 or not out.strip():
            msg = f"flood sender failed ({proc.returncode}): {err[-2000:]}"
            raise RuntimeError(msg)
        figures.append(json.loads(out.strip().splitlines()[-1]))
    sent = sum(f["spans"] for f in figures)
    seconds = max(f["seconds"] for f in figures)
    return {
        "protocol": protocol,
        "senders": senders,
        "sent": sent,
        "received": received,
        "seconds": seconds,
        "spans_per_s": received / seconds,
    }


def _lifecycle(sink_cls: Any, repeats: int = 20) -> dict[str, float]:
    """Median wall time of an in-process sink's start() and stop(), in milliseconds."""
    sink_cls().start().stop()  # imports and first-use costs are not what a test pays each time
    starts, stops = [], []
    for _ in range(repeats):
        sink = sink_cls()
        began = time.perf_counter()
        sink.start()
        started = time.perf_counter()
        sink.stop()
        starts.append((started - began) * 1000)
        stops.append((time.perf_counter() - started) * 1000)
    return {"start_ms": statistics.median(starts), "stop_ms": statistics.median(stops)}


def run(settings: Settings) -> GroupResult:
    """Compare throughput, sender CPU and wire bytes for each transport."""
    result = GroupResult(GROUP)
    protocols = ("grpc", "http")
    names = [
        f"{what}, {protocol}"
        for protocol in protocols
        for what in (
            "OTLP spans/s into the sink",
            "OTLP sender CPU per span",
            "OTLP bytes on the wire per span",
            "sink ingest vs one exporting process",
        )
    ] + ["sink start in-process", "sink stop in-process"]
    try:
        sink_cls = require("foundation_telemetry.sink", "Sink")
        require("foundation_telemetry", "configure")
    except ComponentMissing as exc:
        result.skip(names, str(exc))
        return result
    spans = settings.otlp_spans
    os.environ["OTEL_BSP_MAX_QUEUE_SIZE"] = str(max(2048, spans * 2))
    runs: dict[str, list[dict[str, Any]]] = {}
    for repeat in range(settings.otlp_repeats):
        order = CONFIGS if repeat % 2 == 0 else CONFIGS[::-1]
        for protocol in protocols:
            for config in order:
                runs.setdefault(f"{config}/{protocol}", []).append(
                    _one(sink_cls, config, protocol, spans)
                )
    wire = {
        f"{config}/{protocol}": _one(
            sink_cls, config, protocol, min(spans, BYTES_SPANS), proxy=True
        )
        for protocol in protocols
        for config in CONFIGS
    }
    table = []
    for key, items in runs.items():
        row = {
            "config": key,
            "runs": len(items),
            "e2e_spans_per_s": statistics.median(r["e2e_spans_per_s"] for r in items),
            "producer_spans_per_s": statistics.median(r["spans"] / r["produce_s"] for r in items),
            "cpu_us_per_span": statistics.median(r["cpu_us_per_span"] for r in items),
            "received_min": min(r["received"] for r in items),
            "sent": spans,
            "wire_bytes_per_span": wire[key]["wire_bytes"] / wire[key]["spans"],
        }
        table.append(row)
    requests = {"full": 100, "quick": 20}.get(settings.mode, 2)
    absorbed = {protocol: _absorb(sink_cls, protocol, requests) for protocol in protocols}
    result.extra["runs"] = runs
    result.extra["table"] = table
    result.extra["absorbed"] = absorbed
    lifecycle = _lifecycle(sink_cls)
    result.extra["lifecycle"] = lifecycle
    result.add(
        Target(
            GROUP,
            "sink start in-process",
            lifecycle["start_ms"],
            100,
            unit="ms",
            detail="median of 20 start() calls (gRPC + HTTP listening, ports known)",
        ),
        Target(
            GROUP,
            "sink stop in-process",
            lifecycle["stop_ms"],
            100,
            unit="ms",
            detail="median of 20 stop() calls (ports closed, connections cut)",
        ),
    )
    result.text.append(_render(table))
    rows = {row["config"]: row for row in table}
    for protocol in protocols:
        stock, ours = rows[f"stock/{protocol}"], rows[f"ours/{protocol}"]
        lost = spans - min(stock["received_min"], ours["received_min"])
        result.add(
            Target(
                GROUP,
                f"OTLP spans/s into the sink, {protocol}",
                ours["e2e_spans_per_s"] / stock["e2e_spans_per_s"],
                0.95,
                op=">=",
                detail=(
                    f"ours {ours['e2e_spans_per_s']:.0f}, stock {stock['e2e_spans_per_s']:.0f} "
                    f"spans/s; {spans} spans, lost {lost}"
                ),
            ),
            Target(
                GROUP,
                f"OTLP sender CPU per span, {protocol}",
                ours["cpu_us_per_span"] / stock["cpu_us_per_span"],
                1.05,
                detail=(
                    f"ours {ours['cpu_us_per_span']:.1f}, stock {stock['cpu_us_per_span']:.1f} us/span"
                ),
            ),
            Target(
                GROUP,
                f"OTLP bytes on the wire per span, {protocol}",
                ours["wire_bytes_per_span"] / stock["wire_bytes_per_span"],
                1.002,
                detail=(
                    f"ours {ours['wire_bytes_per_span']:.1f} B, stock "
                    f"{stock['wire_bytes_per_span']:.1f} B per span, all frames and headers "
                    f"({min(spans, BYTES_SPANS)} spans)"
                ),
            ),
            Target(
                GROUP,
                f"sink ingest vs one exporting process, {protocol}",
                absorbed[protocol]["spans_per_s"] / stock["e2e_spans_per_s"],
                1.0,
                op=">=",
                detail=(
                    f"sink absorbs {absorbed[protocol]['spans_per_s']:.0f} spans/s from "
                    f"{absorbed[protocol]['senders']} processes posting pre-encoded 512-span requests "
                    f"({absorbed[protocol]['received']}/{absorbed[protocol]['sent']} accepted)"
                ),
            ),
        )
    return result


def _render(table: list[dict[str, Any]]) -> str:
    lines = [
        "  OTLP end to end (median of fresh processes)   e2e spans/s  producer spans/s  "
        "CPU us/span  received/sent  wire B/span"
    ]
    for row in table:
        lines.append(
            f"    {row['config']:<42} {row['e2e_spans_per_s']:>11.0f} "
            f"{row['producer_spans_per_s']:>17.0f} {row['cpu_us_per_span']:>12.1f} "
            f"{row['received_min']:>8}/{row['sent']:<6} {row['wire_bytes_per_span']:>11.1f}"
        )
    return "\n".join(lines)
