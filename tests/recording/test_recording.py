"""The core capture: RecordBuffer, the span/log processors, the metric tap and Recorder.attach."""

from __future__ import annotations

import threading

import pytest
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from foundation_telemetry import configure
from foundation_telemetry.recording._buffer import RecordBuffer, ThreadWaiter
from foundation_telemetry.recording._recorder import follow_configure, notify_configured
from foundation_telemetry.recording._records import EventRecord, MetricPoint, RecordKind, SpanRecord
from foundation_telemetry.recording._views import CachedViews, SpanEventViews, entry_records
from foundation_telemetry.testing import Recorder, TelemetryAssertionError, metric_capture_options


class TestRecordBuffer:
    def test_sequence_numbers_and_read(self):
        """Entries get consecutive sequence numbers; read(since) returns the tail."""
        buffer = RecordBuffer(capacity=10)
        for index in range(3):
            buffer.append(RecordKind.EVENT, index)
        first, entries, dropped = buffer.read(1)
        assert (first, [e[1] for e in entries], dropped) == (1, [1, 2], 0)
        assert buffer.next_seq == 3

    def test_overflow_is_counted_and_reported_by_read(self):
        """A full ring drops the oldest entries, counts them, and read() says how many it missed."""
        buffer = RecordBuffer(capacity=2)
        for index in range(5):
            buffer.append(RecordKind.EVENT, index)
        first, entries, dropped = buffer.read(0)
        assert buffer.overflowed == 3
        assert (first, [e[1] for e in entries], dropped) == (3, [3, 4], 3)

    def test_waiters_are_woken_after_append(self):
        """A waiter added to the buffer is woken by an append from another thread."""
        buffer = RecordBuffer()
        waiter = ThreadWaiter()
        buffer.add_waiter(waiter)
        waiter.arm()
        thread = threading.Thread(target=buffer.append, args=(RecordKind.EVENT, "x"))
        thread.start()
        assert waiter.wait(30)
        thread.join()
        buffer.remove_waiter(waiter)

    def test_a_wake_before_the_wait_is_not_lost(self):
        """A wake-up between arm() and wait() makes the wait return at once; arm() forgets it."""
        waiter = ThreadWaiter()
        waiter.arm()
        waiter.wake()
        waiter.wake()  # a second wake-up before anyone waits is one signal, not an error
        assert waiter.wait(30) is True
        waiter.arm()
        assert waiter.wait(0) is False
        waiter.wake()
        waiter.arm()
        assert waiter.wait(0) is False

    def test_read_of_the_one_newest_entry(self):
        """Reading from the newest entry returns it alone, also after a clear or an overflow."""
        buffer = RecordBuffer(capacity=2)
        for index in range(3):
            buffer.append(RecordKind.EVENT, index)
        first, entries, dropped = buffer.read(2)
        assert (first, [e[1] for e in entries], dropped) == (2, [2], 0)
        buffer.clear()
        assert buffer.read(2) == (3, [], 1)
        buffer.append(RecordKind.EVENT, 3)
        first, entries, dropped = buffer.read(3)
        assert (first, [e[1] for e in entries], dropped) == (3, [3], 0)

    def test_new_scope_clears_and_advances(self):
        """A new scope drops old entries but keeps counting sequence numbers."""
        buffer = RecordBuffer()
        buffer.append(RecordKind.EVENT, "old")
        scope = buffer.new_scope()
        assert scope == buffer.scope == 1
        assert buffer.read(0)[1] == []
        assert buffer.next_seq == 1

    def test_capacity_must_be_positive(self):
        """A zero capacity is a clear error."""
        with pytest.raises(ValueError, match="capacity"):
            RecordBuffer(capacity=0)


class TestSpanCapture:
    def test_trace_state_reads_as_its_header(self, standalone):
        """A span under a parent with trace state carries its header; one without reads ""."""
        from opentelemetry import trace
        from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

        parent = NonRecordingSpan(
            SpanContext(
                trace_id=0x1234,
                span_id=0x5678,
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
                trace_state=TraceState([("vendor", "v1"), ("other", "x")]),
            )
        )
        with standalone.tracer.start_as_current_span(
            "child", context=trace.set_span_in_context(parent)
        ):
            pass
        with standalone.tracer.start_as_current_span("plain"):
            pass
        ended = {
            r.name: r
            for r in standalone.recorder.records()
            if isinstance(r, SpanRecord) and r.ended
        }
        assert ended["child"].trace_state == "vendor=v1,other=x"
        assert ended["plain"].trace_state == ""

    def test_start_and_end_records(self, standalone):
        """A span produces a start record (not ended) and an end record with its events."""
        with standalone.tracer.start_as_current_span("op", attributes={"a": 1}) as span:
            span.add_event("step", {"n": 1})
        records = standalone.recorder.records()
        start, end, event = records
        assert isinstance(start, SpanRecord)
        assert not start.ended
        assert start.status == "UNSET"
        assert end.ended
        assert end.attributes == {"a": 1}
        assert isinstance(event, EventRecord)
        assert event.kind is RecordKind.SPAN_EVENT
        assert (event.name, event.attributes) == ("step", {"n": 1})

    def test_children_inherit_the_parent_scope(self, standalone):
        """A child span started after the scope changed keeps its running parent's scope."""
        buffer = standalone.recorder.buffer
        tracer = standalone.tracer
        with tracer.start_as_current_span("parent"):
            buffer.scope = 7
            with tracer.start_as_current_span("child"):
                pass
        scopes = {(entry[0], entry_records(entry)[0].name): entry[2] for entry in buffer.read(0)[1]}
        assert scopes[(RecordKind.SPAN_START, "child")] == 0
        assert scopes[(RecordKind.SPAN_END, "parent")] == 0

    def test_attached_twice_records_once(self, standalone):
        """Attaching to the same provider again does not duplicate records."""
        standalone.recorder.attach(tracer_provider=standalone.tracer_provider)
        with standalone.tracer.start_as_current_span("once"):
            pass
        assert len(standalone.recorder.spans("once")) == 1

    def test_registered_twice_on_a_provider_records_once(self):
        """The processor ignores being registered twice on one provider (same span twice)."""
        recorder = Recorder()
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(recorder.span_processor)
        provider.add_span_processor(recorder.span_processor)
        with provider.get_tracer("t").start_as_current_span("dup"):
            pass
        assert [r.name for r in recorder.records()] == ["dup", "dup"]  # start + end
        assert len(recorder.spans("dup")) == 1

    def test_wrong_provider_type(self):
        """Attaching something that is not an SDK provider is a clear TypeError."""
        with pytest.raises(TypeError, match="SDK TracerProvider"):
            Recorder().attach(tracer_provider=object())

    def test_attach_reads_a_telemetry_object(self, standalone):
        """attach(telemetry) takes the providers from the object's attributes."""

        class Holder:
            tracer_provider = TracerProvider(shutdown_on_exit=False)
            meter_provider = None
            logger_provider = None

        recorder = Recorder()
        recorder.attach(Holder())
        with Holder.tracer_provider.get_tracer("t").start_as_current_span("held"):
            pass
        assert recorder.attached_to(Holder.tracer_provider)
        assert [s.name for s in recorder.spans()] == ["held"]

    def test_never_raises_into_the_application(self, standalone):
        """A broken buffer is counted as a skip, and the span still ends normally."""
        from foundation_telemetry.defensive import SkipReason, skipped

        before = skipped("recorder", SkipReason.CONTRACT_VIOLATION)
        standalone.recorder.buffer._store = None  # type: ignore[assignment]
        with standalone.tracer.start_as_current_span("survives"):
            pass
        # Classified as any wrapped hook's failure: calling None is a TypeError.
        assert skipped("recorder", SkipReason.CONTRACT_VIOLATION) == before + 2


class TestLogCapture:
    def test_events_and_plain_logs(self, standalone):
        """Log records with an event name are events; others are logs."""
        logger = standalone.logger_provider.get_logger("l")
        logger.emit(event_name="user.signed_up", attributes={"plan": "pro"})
        logger.emit(body="plain message", severity_text="WARN")
        assert [e.name for e in standalone.recorder.events()] == ["user.signed_up"]
        (log,) = [r for r in standalone.recorder.logs() if r.kind is RecordKind.LOG]
        assert (log.name, log.body, log.severity) == ("plain message", "plain message", "WARN")

    def test_event_inside_span_carries_ids(self, standalone):
        """An event emitted inside a span carries its trace and span ids."""
        with standalone.tracer.start_as_current_span("outer") as span:
            standalone.emit("inside")
        (event,) = standalone.recorder.events("inside")
        assert event.span_id == span.get_span_context().span_id


class TestMetricCapture:
    @pytest.mark.parametrize(
        "temporality", [AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE]
    )
    def test_each_measurement_once(self, temporality):
        """Every measurement is captured once, with its instrument, under either temporality."""
        recorder = Recorder()
        readers = [
            InMemoryMetricReader(preferred_temporality={Counter: temporality}),
            InMemoryMetricReader(),
        ]
        provider = MeterProvider(
            metric_readers=readers, shutdown_on_exit=False, **metric_capture_options(recorder)
        )
        try:
            counter = provider.get_meter("m").create_counter("requests", unit="1")
            counter.add(2, {"route": "/a"})
            readers[0].get_metrics_data()  # a collection in between must not matter
            counter.add(3, {"route": "/a"})
            provider.get_meter("m").create_histogram("latency", unit="ms").record(12.5)
            points = recorder.metric_points()
        finally:
            recorder.detach_metrics()
            provider.shutdown()
        assert [(p.name, p.value, p.instrument_kind, p.unit) for p in points] == [
            ("requests", 2, "counter", "1"),
            ("requests", 3, "counter", "1"),
            ("latency", 12.5, "histogram", "ms"),
        ]
        assert all(isinstance(p, MetricPoint) and p.temporality is None for p in points)

    def test_measurement_from_another_thread_wakes_a_wait(self, standalone):
        """A threshold wait is woken by measurements recorded on another thread."""
        counter = standalone.meter_provider.get_meter("m").create_counter("jobs")
        go = threading.Event()

        def work():
            go.wait()
            for _ in range(4):
                counter.add(1)

        worker = threading.Thread(target=work)
        worker.start()
        go.set()
        assert standalone.recorder.wait_for_metric_threshold("jobs", 4).wait() == 4
        worker.join()

    @pytest.mark.parametrize(
        "temporality", [AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE]
    )
    def test_configure_captures_through_its_readers_once(self, temporality):
        """configure()'s readers capture every measurement once, with two readers, either temporality."""
        readers = [
            InMemoryMetricReader(preferred_temporality={Counter: temporality}),
            InMemoryMetricReader(),
        ]
        telemetry = configure(
            "capture", exporter="memory", set_global=False, metric_readers=readers
        )
        try:
            counter = telemetry.meter_provider.get_meter("m").create_counter("orders", unit="1")
            counter.add(2, {"route": "/a"})
            readers[0].get_metrics_data()
            counter.add(3, {"route": "/a"})
            points = telemetry.recorder.metric_points(name="orders")
        finally:
            telemetry.shutdown()
        assert [(p.value, p.instrument_kind, p.unit, p.attributes) for p in points] == [
            (2, "counter", "1", {"route": "/a"}),
            (3, "counter", "1", {"route": "/a"}),
        ]

    @pytest.mark.parametrize(
        ("variable", "in_span"), [("always_off", True), ("trace_based", False)]
    )
    def test_capture_leaves_exemplars_to_the_configured_filter(
        self, monkeypatch, variable, in_span
    ):
        """While recording, exemplars still follow OTEL_METRICS_EXEMPLAR_FILTER (none here)."""
        monkeypatch.setenv("OTEL_METRICS_EXEMPLAR_FILTER", variable)
        reader = InMemoryMetricReader()
        telemetry = configure(
            "exemplars", exporter="memory", set_global=False, metric_readers=[reader]
        )
        try:
            counter = telemetry.meter_provider.get_meter("m").create_counter("hits")
            if in_span:
                with telemetry.tracer_provider.get_tracer("t").start_as_current_span("s"):
                    counter.add(1)
            else:
                counter.add(1)
            assert [p.value for p in telemetry.recorder.metric_points(name="hits")] == [1]
            data = reader.get_metrics_data()
            [point] = [
                point
                for scope in data.resource_metrics[0].scope_metrics
                for metric in scope.metrics
                if metric.name == "hits"
                for point in metric.data.data_points
            ]
            assert list(point.exemplars) == []
        finally:
            telemetry.shutdown()

    def test_exemplars_inside_a_sampled_span_are_kept(self):
        """With the default trace-based filter, a measurement in a sampled span is an exemplar."""
        reader = InMemoryMetricReader()
        telemetry = configure(
            "exemplars", exporter="memory", set_global=False, metric_readers=[reader]
        )
        try:
            counter = telemetry.meter_provider.get_meter("m").create_counter("hits")
            with telemetry.tracer_provider.get_tracer("t").start_as_current_span("s") as span:
                counter.add(1)
            data = reader.get_metrics_data()
            [point] = [
                point
                for scope in data.resource_metrics[0].scope_metrics
                for metric in scope.metrics
                if metric.name == "hits"
                for point in metric.data.data_points
            ]
            assert [e.span_id for e in point.exemplars] == [span.get_span_context().span_id]
        finally:
            telemetry.shutdown()

    def test_an_unknown_exemplar_filter_is_a_clear_error(self, monkeypatch):
        """A bad OTEL_METRICS_EXEMPLAR_FILTER fails configure() with the accepted values."""
        monkeypatch.setenv("OTEL_METRICS_EXEMPLAR_FILTER", "sometimes")
        with pytest.raises(ValueError, match="OTEL_METRICS_EXEMPLAR_FILTER must be one of"):
            configure("bad", exporter="memory", set_global=False)

    def test_unsubscribed_recorder_sees_nothing(self, standalone):
        """After detach_metrics() measurements no longer reach the recorder."""
        standalone.recorder.detach_metrics()
        standalone.meter_provider.get_meter("m").create_counter("quiet").add(1)
        assert standalone.recorder.metric_points() == []


class TestFollowConfigure:
    def test_follow_configure_attaches_to_new_providers(self):
        """notify_configured() attaches recorders that follow configure()."""
        recorder = Recorder()
        follow_configure(recorder)

        class Telemetry:
            tracer_provider = TracerProvider(shutdown_on_exit=False)
            meter_provider = None
            logger_provider = None

        notify_configured(Telemetry())
        assert recorder.attached_to(Telemetry.tracer_provider)


class TestStandaloneRecorder:
    def test_overflow_is_reported_in_failures(self):
        """A failure message says when the ring dropped records during the expectation."""
        recorder = Recorder(capacity=2)
        provider = TracerProvider(shutdown_on_exit=False)
        recorder.attach(tracer_provider=provider)
        tracer = provider.get_tracer("t")
        with (  # noqa: PT012
            pytest.raises(TelemetryAssertionError) as caught,
            recorder.expect_span("never", timeout=0.05),
        ):
            for _ in range(3):
                with tracer.start_as_current_span("noise"):
                    pass
        assert (
            "The recorder's buffer overflowed: 4 record(s) captured since the expectation began were dropped (capacity 2)"
            in str(caught.value)
        )

    def test_same_api_as_stock_in_memory_exporter(self):
        """The Recorder sees the same ended spans as the stock in-memory exporter."""
        recorder = Recorder()
        exporter = InMemorySpanExporter()
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        recorder.attach(tracer_provider=provider)
        tracer = provider.get_tracer("t")
        for name in ("a", "b"):
            with tracer.start_as_current_span(name):
                pass
        assert [s.name for s in recorder.spans()] == [s.name for s in exporter.get_finished_spans()]
        assert entry_records(recorder.buffer.read(0)[1][0])[0].name == "a"


class TestLogProcessorTwice:
    def test_registered_twice_records_once(self):
        """The log processor ignores being registered twice on one provider."""
        from foundation_telemetry._otel._compat import LoggerProvider

        recorder = Recorder()
        provider = LoggerProvider(shutdown_on_exit=False)
        provider.add_log_record_processor(recorder.log_processor)
        provider.add_log_record_processor(recorder.log_processor)
        provider.get_logger("l").emit(event_name="twice.registered")
        assert len(recorder.events("twice.registered")) == 1


class TestAsyncNeedsAsyncio:
    def test_await_outside_asyncio_is_a_clear_error(self):
        """An async wait driven without an asyncio loop says what it needs."""
        recorder = Recorder()
        collector = recorder.attach_collector("x")
        coroutine = collector.wait_async(timeout=0.01)
        with pytest.raises(TypeError, match="need a running asyncio event loop"):
            coroutine.send(None)


class TestEntryRecords:
    def test_span_events_without_span_records(self, standalone):
        """spans=False turns a span end into its span events only, with the span's ids."""
        with standalone.tracer.start_as_current_span("carrier") as span:
            span.add_event("inside", {"k": 1})
        start, end = standalone.recorder.buffer.read(0)[1]
        assert entry_records(start, spans=False) == []
        (event,) = entry_records(end, spans=False)
        assert (event.name, event.attributes, event.kind) == (
            "inside",
            {"k": 1},
            RecordKind.SPAN_EVENT,
        )
        assert event.span_id == span.get_span_context().span_id
        assert entry_records(end, spans=False) == entry_records(end)[1:]

    def test_span_events_first_then_the_span_shares_them(self, standalone):
        """An events-only read builds no SpanRecord; a full read later reuses the same events."""
        with standalone.tracer.start_as_current_span("carrier", attributes={"a": 1}) as span:
            span.add_event("one", {"k": 1})
            span.add_event("two")
        _, end = standalone.recorder.buffer.read(0)[1]
        fresh = [end[0], end[1], end[2], end[3]]  # the same capture, read the other way first
        events = entry_records(end, spans=False)
        assert type(end[1]) is SpanEventViews
        assert [e.name for e in events] == ["one", "two"]
        assert entry_records(end, spans=False)[0] is events[0]
        record, *again = entry_records(end)
        assert type(end[1]) is CachedViews
        assert [a is b for a, b in zip(events, again, strict=True)] == [True, True]
        assert [record, *again] == entry_records(fresh)
        assert record.events[0].attributes is events[0].attributes
        assert (record.name, record.attributes, record.ended) == ("carrier", {"a": 1}, True)

    @pytest.mark.parametrize("events_first", [True, False], ids=["events-first", "span-first"])
    def test_span_events_keep_their_dropped_attribute_count(self, events_first):
        """An event past the event attribute limit says how many it dropped, on both views."""
        from opentelemetry.sdk.trace import SpanLimits

        recorder = Recorder()
        provider = TracerProvider(
            shutdown_on_exit=False, span_limits=SpanLimits(max_event_attributes=1)
        )
        provider.add_span_processor(recorder.span_processor)
        with provider.get_tracer("t").start_as_current_span("limited") as span:
            span.add_event("crowded", {"a": 1, "b": 2, "c": 3})
        _, end = recorder.buffer.read(0)[1]
        if events_first:
            entry_records(end, spans=False)
        record, event = entry_records(end)
        assert (len(event.attributes), event.dropped_attributes_count) == (1, 2)
        assert record.events[0].dropped_attributes_count == 2

    def test_a_received_span_passes_its_event_dropped_count_on(self):
        """A SpanRecord the sink appended gives span-event records with the event's count."""
        from foundation_telemetry.recording._records import SpanEventView

        span = SpanRecord("got", {}, 1, 2, None, 0, 5, events=(SpanEventView("e", {}, 3, 4),))
        _, event = entry_records([RecordKind.SPAN_END, span, 0, None])
        assert (event.name, event.kind, event.dropped_attributes_count) == (
            "e",
            RecordKind.SPAN_EVENT,
            4,
        )

    def test_views_are_built_once_and_cached(self, standalone):
        """A second read of an ended span returns the very same record objects."""
        with standalone.tracer.start_as_current_span("cached") as span:
            span.add_event("inside")
        start, end = standalone.recorder.buffer.read(0)[1]
        first = entry_records(end)
        assert type(end[1]) is CachedViews
        again = entry_records(end)
        assert [a is b for a, b in zip(first, again, strict=True)] == [True, True]
        assert entry_records(end, spans=False)[0] is first[1]
        assert entry_records(start)[0] is entry_records(start)[0]
        assert entry_records(start)[0].ended is False

    def test_a_running_span_is_read_live(self, standalone):
        """While a span runs its start entry is rebuilt on each read, so it shows new attributes."""
        with standalone.tracer.start_as_current_span("live") as span:
            (start,) = standalone.recorder.buffer.read(0)[1]
            assert entry_records(start)[0].attributes == {}
            span.set_attribute("late", 1)
            assert entry_records(start)[0].attributes == {"late": 1}
            assert type(start[1]) is not CachedViews
        assert entry_records(start)[0].attributes == {"late": 1}

    def test_an_ended_span_keeps_no_sdk_object(self, standalone):
        """Once ended, neither entry references the SDK span (the compact tuple instead)."""
        from opentelemetry.sdk.trace import ReadableSpan

        with standalone.tracer.start_as_current_span("compact", attributes={"a": 1}):
            pass
        start, end = standalone.recorder.buffer.read(0)[1]
        assert not isinstance(start[1], ReadableSpan)
        assert start[1] is end[1]
        record = entry_records(end)[0]
        assert (record.name, record.attributes, record.ended) == ("compact", {"a": 1}, True)
