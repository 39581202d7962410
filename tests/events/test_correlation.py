"""Correlation ids and causality across nesting, threads, executors and processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import trace

from foundation_telemetry.correlation import (
    Thread,
    bind,
    caused_by,
    continued,
    correlated,
    correlation_id,
    extract,
    inject,
)
from foundation_telemetry.events import emit, span


class TestCorrelated:
    def test_generates_an_id_when_absent(self):
        """correlated() without an id makes one and returns it from __enter__."""
        assert correlation_id() is None
        with correlated() as generated:
            assert generated == correlation_id()
            assert len(generated) == 32
        assert correlation_id() is None

    def test_nesting_restores_the_outer_id(self):
        """An inner correlated() block shadows the outer one only while it runs."""
        with correlated("outer"):
            with correlated("inner"):
                assert correlation_id() == "inner"
            assert correlation_id() == "outer"

    def test_restored_after_exception(self):
        """The id is removed even when the block raises."""
        with pytest.raises(RuntimeError), correlated("x"):
            raise RuntimeError
        assert correlation_id() is None

    async def test_async_with(self):
        """correlated() works with async with."""
        async with correlated("async-id") as value:
            assert correlation_id() == value == "async-id"
        assert correlation_id() is None

    @pytest.mark.parametrize("bad", [3, ""])
    def test_bad_id(self, bad):
        """A non-string or empty id is a clear TypeError."""
        with pytest.raises(TypeError, match="correlation_id"):
            correlated(bad)

    def test_stamped_on_spans_and_events(self, pipeline):
        """Every span (any tracer, via the span processor) and event inside gets the id."""
        plain_tracer = pipeline.tracer_provider.get_tracer("plain")
        with correlated("order-7"), span("handle"), plain_tracer.start_as_current_span("db"):
            emit("app.step")
        assert pipeline.spans("handle")[0].attributes["correlation_id"] == "order-7"
        assert pipeline.spans("db")[0].attributes["correlation_id"] == "order-7"
        assert {e.attributes["correlation_id"] for e in pipeline.events()} == {"order-7"}


class TestThreads:
    def test_plain_thread_does_not_inherit(self, pipeline):
        """A plain threading.Thread starts without the id (why the helpers exist)."""
        seen: list = []
        with correlated("c1"):
            worker = threading.Thread(target=lambda: seen.append(correlation_id()))
            worker.start()
            worker.join()
        assert seen == [None]

    def test_thread_helper_carries_id_and_parent_span(self, telemetry):
        """Our Thread runs in its creator's context: same id, spans are children."""
        event = telemetry.attach_collector("app.in_thread", correlation_id="c2")
        with (
            correlated("c2"),
            span("parent") as parent,
            telemetry.expect_span("threaded", correlation_id="c2", timeout=10) as threaded,
        ):
            Thread(target=lambda: emit("app.in_thread")).start()
            Thread(target=lambda: span("threaded")(lambda: None)()).start()
        assert event.wait(10).span_id == parent.get_span_context().span_id
        assert threaded.record.parent_span_id == parent.get_span_context().span_id

    def test_bind_for_executors(self, pipeline):
        """bind() carries the context into pool threads, also when run concurrently."""
        barrier = threading.Barrier(3)

        def work(n: int) -> str | None:
            barrier.wait(10)
            emit("app.pooled", n=n)
            return correlation_id()

        with correlated("pool-id"):
            bound = bind(work)
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(bound, range(3)))
        assert results == ["pool-id"] * 3
        assert {e.attributes["correlation_id"] for e in pipeline.events("app.pooled")} == {
            "pool-id"
        }
        assert correlation_id() is None


_CHILD = """
import json, sys
from foundation_telemetry.correlation import continued, correlation_id
from opentelemetry import trace
carrier = json.loads(sys.stdin.read())
with continued(carrier) as found:
    context = trace.get_current_span().get_span_context()
    print(json.dumps({"id": found, "again": correlation_id(), "trace_id": context.trace_id,
                      "span_id": context.span_id}))
"""


class TestProcesses:
    def test_inject_extract_round_trip(self, pipeline):
        """inject() writes traceparent and baggage; extract() restores id and parent span."""
        with correlated("cross-1"), span("sender") as sender:
            carrier = inject()
        assert "traceparent" in carrier
        assert "correlation_id=cross-1" in carrier["baggage"]
        restored = extract(carrier)
        assert correlation_id(restored) == "cross-1"
        with continued(carrier) as found, span("receiver"):
            assert found == "cross-1"
            emit("app.received")
        receiver = pipeline.spans("receiver")[0]
        assert receiver.parent.span_id == sender.get_span_context().span_id
        assert receiver.attributes["correlation_id"] == "cross-1"
        assert pipeline.events("app.received")[0].attributes["correlation_id"] == "cross-1"

    def test_real_subprocess_boundary(self, pipeline):
        """A child process given the injected carrier sees the same id and parent span."""
        with correlated("cross-proc"), span("parent.proc") as parent:
            carrier = dict(inject())
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=json.dumps(carrier),
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        child = json.loads(done.stdout)
        context = parent.get_span_context()
        assert child == {
            "id": "cross-proc",
            "again": "cross-proc",
            "trace_id": context.trace_id,
            "span_id": context.span_id,
        }

    def test_explicit_parent_context_is_stamped(self, pipeline):
        """A span started with an extracted context (not attached) gets that context's id."""
        with correlated("explicit"):
            carrier = inject()
        tracer = pipeline.tracer_provider.get_tracer("t")
        tracer.start_span("remote.child", context=extract(carrier)).end()
        assert pipeline.spans("remote.child")[0].attributes["correlation_id"] == "explicit"

    def test_extract_rejects_non_mapping(self):
        """extract() of something that is not a mapping is a clear TypeError."""
        with pytest.raises(TypeError, match="carrier"):
            extract("traceparent")  # type: ignore[arg-type]


class TestCausedBy:
    def test_link_to_span_context_and_carrier(self, pipeline):
        """caused_by() links the current span to a span, span context or carrier."""
        with span("producer") as producer:
            carrier = inject()
        cause = producer.get_span_context()
        with span("consumer"):
            assert caused_by(carrier, reason="queue") is not None
            assert caused_by(producer) is not None
            assert caused_by(cause) is not None
        consumer = pipeline.spans("consumer")[0]
        assert [link.context.span_id for link in consumer.links] == [cause.span_id] * 3
        assert consumer.links[0].attributes["reason"] == "queue"

    def test_no_current_span_or_invalid_cause(self, pipeline):
        """Without a recording span, or with an empty carrier, nothing is linked."""
        with span("p") as producer:
            pass
        assert caused_by(producer) is None
        with span("c"):
            assert caused_by({}) is None
        assert pipeline.spans("c")[0].links == ()

    def test_context_argument(self, pipeline):
        """A Context holding a span is accepted."""
        with span("origin") as origin:
            pass
        context = trace.set_span_in_context(origin)
        with span("effect"):
            caused_by(context)
        assert pipeline.spans("effect")[0].links[0].context == origin.get_span_context()

    def test_bad_cause(self):
        """Anything else is a clear TypeError."""
        with pytest.raises(TypeError, match="caused_by"):
            caused_by(42)  # type: ignore[arg-type]
