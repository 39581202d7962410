"""One process for the exit and span-end-cost benchmarks (a fresh interpreter per run).

``python -m benchmarks._exit_child slow CONFIG PROVIDERS SHUTDOWN_TIMEOUT SLOW_S`` builds
PROVIDERS tracer providers left with the SDK's ``shutdown_on_exit=True``, each exporting through
a batch processor to an exporter that takes SLOW_S seconds per export, produces one span on each,
prints ``produced <epoch>`` and returns, so the exit path does the work. CONFIG is ``stock``
(nothing else), ``hand`` (each component wrapped by hand, ``set_shutdown_timeout``), ``harden``
(``harden()`` on each provider) or ``configure`` (``configure(set_global=False,
span_exporters=[...])``, one provider).

``python -m benchmarks._exit_child simple CONFIG PROTOCOL ENDPOINT SPANS`` ends SPANS spans under
a ``SimpleSpanProcessor`` around an OTLP exporter to ENDPOINT (a closed port): ``stock`` on a
plain provider, ``ours`` passed to ``configure(span_processors=..., export_timeout=0.5)``; it
prints one JSON line with the seconds each span end took.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

_KEEP: list[Any] = []


class SlowExporter(SpanExporter):
    """A backend that takes *seconds* to accept each export (a slow or overloaded collector)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def export(self, spans: Any) -> SpanExportResult:
        threading.Event().wait(self._seconds)
        return SpanExportResult.SUCCESS


def slow(config: str, providers: int, shutdown_timeout: float, slow_s: float) -> None:
    """Build the providers, end one span on each, and leave the rest to the exit path."""
    if config == "configure":
        from foundation_telemetry import configure

        telemetry = configure(
            "bench-exit",
            exporter="none",
            set_global=False,
            shutdown_timeout=shutdown_timeout,
            span_exporters=[SlowExporter(slow_s)],
        )
        _KEEP.append(telemetry)
        tracers = [telemetry.tracer_provider.get_tracer("bench")]
    else:
        tracers = []
        for _ in range(providers):
            provider = TracerProvider()  # shutdown_on_exit=True, the SDK's default
            exporter: Any = SlowExporter(slow_s)
            if config == "hand":
                from foundation_telemetry import defensive

                defensive.set_shutdown_timeout(shutdown_timeout)
                exporter = defensive.DefensiveSpanExporter(exporter)
                processor: Any = defensive.DefensiveSpanProcessor(BatchSpanProcessor(exporter))
            else:
                processor = BatchSpanProcessor(exporter)
            provider.add_span_processor(processor)
            if config == "harden":
                from foundation_telemetry import harden

                _KEEP.append(harden(tracer_provider=provider, shutdown_timeout=shutdown_timeout))
            _KEEP.append(provider)
            tracers.append(provider.get_tracer("bench"))
    for tracer in tracers:
        tracer.start_span("order").end()
    print(f"produced {time.time()}", flush=True)


def _otlp_exporter(protocol: str, endpoint: str) -> Any:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, insecure=True)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HTTPSpanExporter,
    )

    return HTTPSpanExporter(endpoint=f"{endpoint}/v1/traces")


def simple(config: str, protocol: str, endpoint: str, spans: int) -> None:
    """End *spans* spans under a SimpleSpanProcessor with the collector down; print the costs."""
    processor = SimpleSpanProcessor(_otlp_exporter(protocol, endpoint))
    provider: Any
    if config == "stock":
        provider = TracerProvider()
        provider.add_span_processor(processor)
    else:
        from foundation_telemetry import configure

        telemetry = configure(
            "bench-simple",
            exporter="none",
            set_global=False,
            shutdown_timeout=1.0,
            export_timeout=0.5,
            span_processors=[processor],
        )
        _KEEP.append(telemetry)
        provider = telemetry.tracer_provider
    tracer = provider.get_tracer("bench")
    costs = []
    for index in range(spans):
        started = time.perf_counter()
        tracer.start_span(f"order-{index}").end()
        costs.append(time.perf_counter() - started)
    print(json.dumps({"span_end_s": costs}), flush=True)
    print(f"produced {time.time()}", flush=True)


def main(argv: list[str]) -> int:
    """Dispatch ``slow`` or ``simple`` (see the module docstring)."""
    if argv[0] == "slow":
        slow(argv[1], int(argv[2]), float(argv[3]), float(argv[4]))
    else:
        simple(argv[1], argv[2], argv[3], int(argv[4]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
