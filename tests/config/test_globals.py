"""The rebinding tracer skips its proxy frame once resolved, and still follows every rebind."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from foundation_telemetry._config._globals import RebindingTracerProvider


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _names(exporter: InMemorySpanExporter) -> list[str]:
    return [span.name for span in exporter.get_finished_spans()]


def test_resolved_methods_follow_every_rebind() -> None:
    proxy = RebindingTracerProvider()
    tracer = proxy.get_tracer("early")
    tracer.start_span("before").end()  # resolved against the no-op provider: recorded nowhere
    first, first_spans = _provider()
    second, second_spans = _provider()
    for provider, name in ((first, "one"), (second, "two"), (first, "three")):
        proxy.set_delegate(provider)
        for _ in range(2):  # the first call resolves, the second goes straight to the real tracer
            with tracer.start_as_current_span(f"{name}.current"):
                tracer.start_span(f"{name}.plain").end()
    assert (
        _names(first_spans)
        == ["one.plain", "one.current"] * 2 + ["three.plain", "three.current"] * 2
    )
    assert _names(second_spans) == ["two.plain", "two.current"] * 2


def test_a_tracer_handed_out_is_not_kept_alive_by_the_provider() -> None:
    import gc
    import weakref

    proxy = RebindingTracerProvider()
    tracer = proxy.get_tracer("short-lived")
    tracer.start_span("resolve").end()
    gone = weakref.ref(tracer)
    del tracer
    gc.collect()
    assert gone() is None
