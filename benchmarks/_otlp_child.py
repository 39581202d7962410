"""One OTLP sender process for the OTLP and exit benchmarks (a fresh interpreter per config).

``python -m benchmarks._otlp_child throughput CONFIG PROTOCOL ENDPOINT SPANS`` builds the span
pipeline (``stock``: ``BatchSpanProcessor`` + ``OTLPSpanExporter``; ``ours``: ``configure()``),
produces SPANS spans with 5 attributes as fast as it can, flushes, and prints one JSON line with
the wall time to flush and the process CPU time. ``exit CONFIG PROTOCOL ENDPOINT SPANS TIMEOUT``
produces a few spans against a backend that is down, prints ``produced <epoch>`` and returns from
``main`` without shutting anything down, so the interpreter's exit path does the work (CONFIG
``idle``: the same imports and ``configure()`` with nothing to export, the exit baseline).
``flood - PROTOCOL ENDPOINT REQUESTS`` sends pre-encoded 512-span requests back to back, to
measure how fast the sink absorbs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

ATTRS: dict[str, str | int] = {
    "http.request.method": "GET",
    "http.route": "/orders/{id}",
    "http.response.status_code": 200,
    "server.address": "orders.internal",
    "order.count": 3,
}
SERVICE = "bench-otlp"
_KEEP: list[Any] = []


def _stock_provider(protocol: str, endpoint: str) -> tuple[TracerProvider, Any]:
    exporter: Any
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HTTPSpanExporter,
        )

        exporter = HTTPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider, provider


def _ours_provider(
    protocol: str, endpoint: str, shutdown_timeout: float, set_global: bool
) -> tuple[Any, Any]:
    from foundation_telemetry import configure

    telemetry = configure(
        service_name=SERVICE,
        endpoint=endpoint,
        protocol="grpc" if protocol == "grpc" else "http/protobuf",
        shutdown_timeout=shutdown_timeout,
        set_global=set_global,
    )
    return telemetry.tracer_provider, telemetry


def _build(
    config: str, protocol: str, endpoint: str, shutdown_timeout: float, *, set_global: bool
) -> tuple[Any, Any]:
    # Only traces are measured: the other signals stay off for both configs.
    os.environ.update(
        OTEL_TRACES_EXPORTER="otlp", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none"
    )
    if config == "stock":
        return _stock_provider(protocol, endpoint)
    if config == "idle":  # the exit baseline: same imports, nothing to export
        _stock_provider(protocol, endpoint)[0].shutdown()
        os.environ["OTEL_TRACES_EXPORTER"] = "none"
    return _ours_provider(protocol, endpoint, shutdown_timeout, set_global)


def throughput(config: str, protocol: str, endpoint: str, spans: int) -> dict[str, Any]:
    """Produce *spans* spans, flush, and return wall and CPU figures."""
    provider, owner = _build(config, protocol, endpoint, 3.0, set_global=False)
    tracer = provider.get_tracer("benchmarks")
    cpu0 = time.process_time()  # after set-up: imports differ between configs, spans do not
    start = time.perf_counter()
    for _ in range(spans):
        with tracer.start_as_current_span("order", attributes=ATTRS):
            pass
    produced = time.perf_counter()
    if config == "stock":
        flushed = owner.force_flush(timeout_millis=120_000)
    else:
        flushed = owner.force_flush(timeout=120)
    done = time.perf_counter()
    cpu = time.process_time() - cpu0
    owner.shutdown()
    return {
        "config": config,
        "protocol": protocol,
        "spans": spans,
        "flushed": bool(flushed),
        "produce_s": produced - start,
        "flush_s": done - start,
        "cpu_s": cpu,
    }


def exit_run(
    config: str, protocol: str, endpoint: str, spans: int, shutdown_timeout: float
) -> None:
    """Produce spans against a dead backend, then let the interpreter exit on its own."""
    # Like an application: the global default, whose exit hook bounds the shutdown.
    provider, owner = _build(config, protocol, endpoint, shutdown_timeout, set_global=True)
    _KEEP.append(owner)  # held like an application's global, until the interpreter exits
    tracer = provider.get_tracer("benchmarks")
    for _ in range(spans):
        with tracer.start_as_current_span("order", attributes=ATTRS):
            pass
    print(f"produced {time.time()}", flush=True)


def _request_body(spans: int) -> bytes:
    """One serialized ``ExportTraceServiceRequest`` with *spans* 5-attribute spans."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("benchmarks")
    for _ in range(spans):
        with tracer.start_as_current_span("order", attributes=ATTRS):
            pass
    body: bytes = encode_spans(memory.get_finished_spans()).SerializeToString()
    return body


def flood(protocol: str, endpoint: str, requests: int, batch: int = 512) -> dict[str, Any]:
    """Send *requests* pre-encoded requests back to back: what the sink can absorb."""
    body = _request_body(batch)
    start = time.perf_counter()
    if protocol == "grpc":
        import grpc

        host = endpoint.split("://", 1)[-1]
        with grpc.insecure_channel(host) as channel:
            export: Any = channel.unary_unary(
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                request_serializer=None,
                response_deserializer=None,
            )
            for _ in range(requests):
                export(body, timeout=30)
    else:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        headers = {"Content-Type": "application/x-protobuf"}
        for _ in range(requests):
            conn.request("POST", "/v1/traces", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                msg = f"the sink answered {response.status}"
                raise RuntimeError(msg)
        conn.close()
    return {"spans": requests * batch, "seconds": time.perf_counter() - start}


def main(argv: list[str]) -> int:
    """Dispatch ``throughput``, ``exit`` or ``flood`` (see the module docstring)."""
    kind, config, protocol, endpoint, spans = argv[:5]
    if kind == "flood":
        print(json.dumps(flood(protocol, endpoint, int(spans))), flush=True)
    elif kind == "throughput":
        print(json.dumps(throughput(config, protocol, endpoint, int(spans))), flush=True)
    else:
        exit_run(config, protocol, endpoint, int(spans), float(argv[5]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
