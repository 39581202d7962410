"""span() and instrument(): spans plus start/stop/exception events and a duration histogram."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import StatusCode

from foundation_telemetry.events import instrument, span


class Boom(Exception):
    pass


class TestSpanContextManager:
    def test_span_and_start_stop_events(self, pipeline):
        """A block yields an OTel span and emits <name>.start then <name>.stop with a duration."""
        with span("checkout", order=42) as current:
            current.set_attribute("extra", True)
        (finished,) = pipeline.spans("checkout")
        assert finished.attributes["order"] == 42
        assert finished.attributes["extra"] is True
        assert pipeline.event_names() == ["checkout.start", "checkout.stop"]
        start, stop = pipeline.events()
        assert start.attributes["order"] == 42
        assert stop.attributes["duration"] >= 0
        assert stop.span_id == finished.context.span_id

    def test_exception_recorded_and_reraised_untouched(self, pipeline):
        """An exception emits <name>.exception, marks the span as an error and propagates as is."""
        error = Boom("card declined")
        with pytest.raises(Boom) as raised, span("pay"):
            raise error
        assert raised.value is error
        (finished,) = pipeline.spans("pay")
        assert finished.status.status_code is StatusCode.ERROR
        assert finished.attributes["error.type"] == "Boom"
        assert [e.name for e in finished.events] == ["exception"]
        assert pipeline.event_names() == ["pay.start", "pay.exception"]
        exception_event = pipeline.events("pay.exception")[0]
        assert exception_event.attributes["exception.type"] == "Boom"
        assert exception_event.attributes["exception.message"] == "card declined"
        assert exception_event.attributes["duration"] >= 0

    def test_nested_spans_are_parent_and_child(self, pipeline):
        """A span inside another is its child, and the same scope object can be reused."""
        inner = span("inner")
        with span("outer"):
            with inner:
                pass
            with inner:
                pass
        outer_span = pipeline.spans("outer")[0]
        children = pipeline.spans("inner")
        assert len(children) == 2
        assert all(child.parent.span_id == outer_span.context.span_id for child in children)

    def test_duration_histogram(self, pipeline):
        """Each run records its duration in the <name>.duration histogram, failures with error.type."""
        with span("job"):
            pass
        with pytest.raises(Boom), span("job"):
            raise Boom
        points = pipeline.metric_points("job.duration")
        by_error = {point.attributes.get("error.type"): point.count for point in points}
        assert by_error == {None: 1, "Boom": 1}

    def test_invalid_metric_name_skips_histogram_only(self, pipeline):
        """A span name that is no valid instrument name still gives a span and events."""
        with span("has spaces here"):
            pass
        assert len(pipeline.spans("has spaces here")) == 1
        assert pipeline.event_names() == ["has spaces here.start", "has spaces here.stop"]

    async def test_async_with(self, pipeline):
        """span() works with async with."""
        async with span("async.block") as current:
            pass
        assert pipeline.spans("async.block")[0].context == current.get_span_context()

    def test_repr(self):
        """The repr shows the name and attributes."""
        assert repr(span("x", a=1)) == "span('x', a=1)"


class TestSpanDecorator:
    def test_sync_function(self, pipeline):
        """Each call of a decorated function runs in its own span."""

        @span("work", kind="sync")
        def work(x: int) -> int:
            return x * 2

        assert work(2) == 4
        assert work(3) == 6
        assert len(pipeline.spans("work")) == 2
        assert work.__name__ == "work"

    def test_sync_function_exception(self, pipeline):
        """A decorated function's exception is recorded and re-raised."""

        @span("fails")
        def fails() -> None:
            raise Boom("x")

        with pytest.raises(Boom):
            fails()
        assert pipeline.event_names() == ["fails.start", "fails.exception"]

    async def test_async_function(self, pipeline):
        """Decorated coroutines are awaited inside their span, concurrently."""
        gate = asyncio.Event()
        all_inside = asyncio.Event()
        inside = 0

        @span("fetch")
        async def fetch(n: int) -> int:
            nonlocal inside
            inside += 1
            if inside == 3:
                all_inside.set()
            await gate.wait()
            return n

        tasks = [asyncio.create_task(fetch(n)) for n in range(3)]
        await all_inside.wait()
        assert pipeline.spans("fetch") == []
        gate.set()
        assert await asyncio.gather(*tasks) == [0, 1, 2]
        spans = pipeline.spans("fetch")
        assert len(spans) == 3
        assert len({s.context.trace_id for s in spans}) == 3

    async def test_async_cancellation_is_recorded(self, pipeline):
        """A cancelled coroutine emits the exception event and the CancelledError propagates."""
        started = asyncio.Event()

        @span("cancelled")
        async def forever() -> None:
            started.set()
            await asyncio.Event().wait()

        task = asyncio.create_task(forever())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pipeline.events("cancelled.exception")[0].attributes["exception.type"] == (
            "CancelledError"
        )

    def test_generator_function_rejected(self):
        """Decorating a generator function is a clear TypeError."""

        def gen():
            yield 1

        with pytest.raises(TypeError, match="generator"):
            span("gen")(gen)


class TestInstrument:
    def test_bare_decorator_uses_qualified_name(self, pipeline):
        """@instrument names the span module.qualname."""

        @instrument
        def handler() -> str:
            return "ok"

        assert handler() == "ok"
        (finished,) = pipeline.spans()
        assert finished.name.endswith("test_bare_decorator_uses_qualified_name.<locals>.handler")

    def test_named_with_attributes(self, pipeline):
        """@instrument("name", k=v) uses the name and attributes."""

        @instrument("checkout.total", currency="EUR")
        def total() -> int:
            return 3

        assert total() == 3
        assert pipeline.spans("checkout.total")[0].attributes["currency"] == "EUR"

    def test_bad_name(self):
        """A name that is neither str nor function is a clear TypeError."""
        with pytest.raises(TypeError, match="span name"):
            instrument(3)  # type: ignore[call-overload]


class _ExplodingProcessor(SpanProcessor):
    """A span processor (without the defensive layer) that raises on start or end."""

    def __init__(self, where: str) -> None:
        self.where = where

    def on_start(self, span, parent_context=None):
        if self.where == "start":
            raise RuntimeError("on_start down")

    def on_end(self, span):
        if self.where == "end":
            raise RuntimeError("on_end down")


class TestBrokenPipeline:
    @pytest.mark.parametrize("where", ["start", "end"])
    def test_block_outcome_is_never_replaced(self, pipeline, where):
        """A raising processor never replaces the block's own exception or result."""
        pipeline.tracer_provider.add_span_processor(_ExplodingProcessor(where))
        error = Boom("the application's own")
        with pytest.raises(Boom) as raised, span("fragile"):
            raise error
        assert raised.value is error

        @span("fragile.fn")
        def compute() -> int:
            return 7

        assert compute() == 7
        assert pipeline.event_names().count("fragile.fn.stop") == 1

    def test_unprintable_exception(self, pipeline):
        """An exception whose str() raises is still reported and re-raised."""

        class Unprintable(Exception):
            def __str__(self) -> str:
                raise RuntimeError("no str")

        with pytest.raises(Unprintable), span("odd"):
            raise Unprintable
        event = pipeline.events("odd.exception")[0]
        assert event.attributes["exception.message"] == f"<unprintable {Unprintable.__qualname__}>"
