"""One test-capture configuration run under callgrind by ``benchmarks.instructions --peers``.

``python -m benchmarks._capture_child VARIANT SPANS`` (from the peer venv, which has logfire)
sets up one way a test captures spans, then calls ``os.getppid()`` (callgrind's dump marker)
before and after *SPANS* spans with 5 attributes and 1 event, all retained:

- ``floor``: a provider with no processor;
- ``stock``: ``SimpleSpanProcessor(InMemorySpanExporter())``, as OpenTelemetry's own test
  utilities capture;
- ``ours``: the Recorder attached to the provider (what the ``telemetry`` fixture does);
- ``logfire``: what logfire's ``capfire`` fixture calls (``logfire.configure`` with
  ``send_to_logfire=False``, a ``TestExporter`` behind ``SimpleSpanProcessor``, incremental ids
  and times), spans from ``trace.get_tracer``.
"""

from __future__ import annotations

import sys
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from benchmarks import _callgrind as callgrind
from benchmarks._pipelines import distinct_rich_spans

VARIANTS = ("floor", "stock", "ours", "logfire")


def _tracer(variant: str) -> tuple[Any, Any]:
    """The tracer to record with, and what keeps the captured spans alive."""
    if variant == "logfire":
        import logfire  # type: ignore[import-not-found,unused-ignore]
        from logfire.testing import (  # type: ignore[import-not-found,unused-ignore]
            IncrementalIdGenerator,
            TestExporter,
            TimeGenerator,
        )

        exporter = TestExporter()
        logfire.configure(
            send_to_logfire=False,
            console=False,
            advanced=logfire.AdvancedOptions(
                id_generator=IncrementalIdGenerator(), ns_timestamp_generator=TimeGenerator()
            ),
            additional_span_processors=[SimpleSpanProcessor(exporter)],
        )
        return trace.get_tracer("bench"), exporter
    provider = TracerProvider(shutdown_on_exit=False)
    keep: Any = None
    if variant == "stock":
        keep = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(keep))
    elif variant == "ours":
        from foundation_telemetry.testing import Recorder

        keep = Recorder()
        keep.attach(tracer_provider=provider)
    return provider.get_tracer("bench"), keep


def main(variant: str, spans: int) -> None:
    tracer, keep = _tracer(variant)
    callgrind.between_markers(lambda: distinct_rich_spans(tracer, spans))
    assert keep is not None or variant == "floor"


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
