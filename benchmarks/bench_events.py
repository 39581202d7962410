"""``emit()`` against the stock ``Logger.emit`` of the same log record, and handler dispatch cost.

Both variants go through the same ``LoggerProvider`` (built by ``configure()``, one no-op log
processor, no recorder, no exporter): stock builds the ``LogRecord`` itself (same event name, same
attributes including ``host.name`` and ``process.pid``) and calls the SDK logger; ours calls
``emit(name, measurements, **metadata)``, which goes through the global logger. A third row sends
the stock record through the global API logger too, to show what the proxies cost. Targets: ``emit()`` <= 1.2x of
stock; one attached handler adds <= 2 us per call; handlers on other patterns cost nothing.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from opentelemetry._logs import LogRecord, get_logger
from opentelemetry.context import get_current

from benchmarks._harness import (
    ComponentMissing,
    GroupResult,
    Settings,
    Target,
    Variant,
    interleave,
    require,
)
from benchmarks._pipelines import NoopLogProcessor

GROUP = "events"
OTHER_HANDLERS = 100


def run(settings: Settings) -> GroupResult:
    """Compare ``emit()`` with the stock logger and measure handler dispatch."""
    result = GroupResult(GROUP)
    names = (
        "emit() vs stock Logger.emit, no handler",
        "emit() one handler added",
        f"emit() with {OTHER_HANDLERS} handlers on other patterns",
    )
    try:
        configure = require("foundation_telemetry", "configure")
        emit = require("foundation_telemetry.events", "emit")
        handlers = require("foundation_telemetry.handlers", "attach", "detach")
    except ComponentMissing as exc:
        result.skip(names, str(exc))
        return result
    telemetry = configure(
        service_name="bench", exporter="none", log_processors=[NoopLogProcessor()], set_global=True
    )
    try:
        _measure(settings, result, telemetry, emit, handlers, names)
    finally:
        telemetry.shutdown()
    return result


def _measure(
    settings: Settings,
    result: GroupResult,
    telemetry: Any,
    emit: Any,
    handlers: Any,
    names: tuple[str, str, str],
) -> None:
    stock_logger = telemetry.logger_provider.get_logger("foundation_telemetry")
    global_logger = get_logger("foundation_telemetry")
    host, pid = socket.gethostname(), os.getpid()

    def record() -> LogRecord:
        return LogRecord(
            timestamp=time.time_ns(),
            context=get_current(),
            event_name="bench.plain",
            attributes={
                "service_name": "api",
                "duration": 0.25,
                "host.name": host,
                "process.pid": pid,
            },
        )

    def stock() -> None:
        stock_logger.emit(record())

    def stock_global() -> None:
        global_logger.emit(record())

    def ours_plain() -> None:
        emit("bench.plain", {"duration": 0.25}, service_name="api")

    def ours_handled() -> None:
        emit("bench.handled", {"duration": 0.25}, service_name="api")

    seen = [0]

    def handler(name: str, measurements: Any, metadata: Any, config: Any) -> None:
        seen[0] += 1

    handlers.attach("bench-handler", "bench.handled", handler)
    try:
        table = interleave(
            "emit() vs stock Logger.emit",
            [
                Variant("stock", "stock Logger.emit(LogRecord(...))", stock),
                Variant("global", "same through the global API logger (proxies)", stock_global),
                Variant("ours", "emit(), no handler", ours_plain),
                Variant("handled", "emit(), one handler attached", ours_handled),
            ],
            "stock",
            settings,
        )
        result.tables.append(table)
        for index in range(OTHER_HANDLERS):
            handlers.attach(f"bench-other-{index}", f"other.{index}.*", handler)
        crowded = interleave(
            f"emit() with {OTHER_HANDLERS} handlers on other patterns",
            [
                Variant("stock", "stock Logger.emit(LogRecord(...))", stock),
                Variant("handled", "emit(), one matching handler + 100 others", ours_handled),
            ],
            "stock",
            settings,
        )
        result.tables.append(crowded)
    finally:
        handlers.detach("bench-handler")
        for index in range(OTHER_HANDLERS):
            handlers.detach(f"bench-other-{index}")
    if seen[0] == 0:
        msg = "the attached handler never ran; the handler benchmark measured nothing."
        raise RuntimeError(msg)
    rows = table.rows
    result.add(
        Target(
            GROUP,
            names[0],
            table.ratio("ours"),
            1.2,
            detail=(
                f"ours {rows['ours'].median_ns / 1e3:.2f} us, "
                f"stock {rows['stock'].median_ns / 1e3:.2f} us (medians)"
            ),
        ),
        Target(GROUP, names[1], table.diff_ns("handled", "ours") / 1e3, 2.0, unit="us"),
        Target(
            GROUP,
            names[2],
            crowded.ratio("handled") / table.ratio("handled"),
            None,
            detail="(one handler + 100 others) / (one handler), each vs stock; ~1.0 expected",
        ),
    )
