"""One process measured by ``benchmarks.instructions`` under callgrind (one config, one N).

``python -m benchmarks._instructions_child CONFIG PROTOCOL ENDPOINT SPANS`` builds the pipeline
(``stock``: the setup the OpenTelemetry docs show, ``BatchSpanProcessor(OTLPSpanExporter)`` as
the global provider; ``ours``: ``configure(exporter="otlp")``, global, every signal on), calls
``os.getppid()`` (callgrind's dump marker) before and after the span loop on the main thread,
then flushes and shuts down. Each span has 5 attributes (one of them different per span) and 1
event, through ``trace.get_tracer()``: what an application gets.
"""

from __future__ import annotations

import os
import sys

from opentelemetry import trace

from benchmarks import _callgrind as callgrind
from benchmarks._pipelines import distinct_rich_spans

SERVICE = "perf-svc"


def _stock(protocol: str, endpoint: str) -> object:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter: object
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HTTPSpanExporter,
        )

        exporter = HTTPSpanExporter(endpoint=f"{endpoint}/v1/traces")
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: SERVICE}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _ours(protocol: str, endpoint: str) -> object:
    import foundation_telemetry as ft

    return ft.configure(
        SERVICE,
        exporter="otlp",
        endpoint=endpoint,
        protocol="grpc" if protocol == "grpc" else "http/protobuf",
    )


def main(config: str, protocol: str, endpoint: str, spans: int) -> None:
    os.environ["OTEL_BSP_MAX_QUEUE_SIZE"] = "100000"  # nothing is dropped in either config
    owner = _stock(protocol, endpoint) if config == "stock" else _ours(protocol, endpoint)
    tracer = trace.get_tracer("bench")
    callgrind.between_markers(lambda: distinct_rich_spans(tracer, spans))
    if config == "stock":
        owner.force_flush(120_000)  # type: ignore[attr-defined]
    else:
        owner.force_flush(timeout=120)  # type: ignore[attr-defined]
    owner.shutdown()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
