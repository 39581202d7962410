"""Routing, filtering, sampling and redaction processors for spans and log records."""

from __future__ import annotations

import re
import threading

import pytest
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

from foundation_telemetry._otel._compat import (
    InMemoryLogRecordExporter,
    LoggerProvider,
    LogRecordProcessor,
    SimpleLogRecordProcessor,
)
from foundation_telemetry.defensive import SkipReason, skipped
from foundation_telemetry.events import emit
from foundation_telemetry.routing import (
    REDACTED,
    Drop,
    FilteringLogRecordProcessor,
    FilteringSpanProcessor,
    Keep,
    RedactingLogRecordProcessor,
    RedactingSpanProcessor,
    Redactor,
    Route,
    RoutingLogRecordProcessor,
    RoutingSpanProcessor,
    Sample,
)


def _tracer(processor):
    provider = TracerProvider()
    provider.add_span_processor(processor)
    return provider.get_tracer("routing-test")


def _names(exporter) -> list[str]:
    return [span.name for span in exporter.get_finished_spans()]


def _event_names(exporter) -> list[str]:
    return [item.log_record.event_name for item in exporter.get_finished_logs()]


def _log_pipeline(processor, pipeline):
    pipeline.logger_provider.add_log_record_processor(processor)


class _BrokenSpanTarget(SpanProcessor):
    """A route target whose every hook raises."""

    def on_start(self, span, parent_context=None):
        raise RuntimeError("broken on_start")

    def on_end(self, span):
        raise RuntimeError("broken on_end")

    def shutdown(self):
        raise RuntimeError("broken shutdown")

    def force_flush(self, timeout_millis=30000):
        raise RuntimeError("broken force_flush")


class _BrokenLogTarget(LogRecordProcessor):
    """A log route target whose every hook raises."""

    def on_emit(self, log_record):
        raise RuntimeError("broken on_emit")

    emit = on_emit

    def shutdown(self):
        raise RuntimeError("broken shutdown")

    def force_flush(self, timeout_millis=30000):
        raise RuntimeError("broken force_flush")


class TestPublicNames:
    def test_classes_report_the_public_module(self):
        """The rule and processor classes say foundation_telemetry.routing, where users import them."""
        import foundation_telemetry.routing as routing

        classes = [getattr(routing, name) for name in routing.__all__ if name[0].isupper()]
        defined_here = [cls for cls in classes if isinstance(cls, type) and cls is not Redactor]
        assert {cls.__module__ for cls in defined_here} == {"foundation_telemetry.routing"}
        assert len(defined_here) == 10


class TestTargetIsolation:
    def test_a_raising_span_target_does_not_starve_the_next(self):
        """A target whose on_start/on_end raise is counted; the span still reaches the next target."""
        delivered = InMemorySpanExporter()
        processor = RoutingSpanProcessor(
            [Route(_BrokenSpanTarget()), Route(delivered, batch=False)]
        )
        before = skipped("routing", SkipReason.UNEXPECTED)
        _tracer(processor).start_span("op").end()
        assert _names(delivered) == ["op"]
        assert skipped("routing", SkipReason.UNEXPECTED) == before + 2

    def test_a_raising_default_is_counted(self):
        """A raising default target is counted as a skip instead of raising into the tracer."""
        processor = RoutingSpanProcessor([], default=_BrokenSpanTarget())
        before = skipped("routing")
        _tracer(processor).start_span("op").end()
        assert skipped("routing") == before + 2

    def test_shutdown_and_flush_reach_every_target(self):
        """A target whose shutdown/force_flush raise does not keep the others from shutting down."""
        delivered = InMemorySpanExporter()
        processor = RoutingSpanProcessor(
            [Route(_BrokenSpanTarget()), Route(delivered, batch=False)]
        )
        assert processor.force_flush(1000) is False
        processor.shutdown()
        _tracer(processor).start_span("after").end()
        assert _names(delivered) == []

    def test_a_raising_log_target_does_not_starve_the_next(self, pipeline):
        """A log target whose on_emit raises is counted; the record still reaches the next target."""
        delivered = InMemoryLogRecordExporter()
        _log_pipeline(
            RoutingLogRecordProcessor([Route(_BrokenLogTarget()), Route(delivered, batch=False)]),
            pipeline,
        )
        before = skipped("routing", SkipReason.UNEXPECTED)
        emit("app.routed")
        assert _event_names(delivered) == ["app.routed"]
        assert skipped("routing", SkipReason.UNEXPECTED) == before + 1


class TestRoutingSpans:
    def test_routes_by_name_and_attribute_to_two_exporters(self):
        """Spans go to the exporter whose route matches name and attributes; others to default."""
        db, slow, rest = InMemorySpanExporter(), InMemorySpanExporter(), InMemorySpanExporter()
        tracer = _tracer(
            RoutingSpanProcessor(
                [
                    Route(db, "db.*", batch=False),
                    Route(slow, where=lambda a: a.get("slow") is True, batch=False),
                ],
                default=SimpleSpanProcessor(rest),
            )
        )
        for name, attributes in [
            ("db.query", {}),
            ("http.get", {"slow": True}),
            ("db.commit", {"slow": True}),
            ("http.get", {}),
        ]:
            tracer.start_span(name, attributes=attributes).end()
        assert _names(db) == ["db.query", "db.commit"]
        assert _names(slow) == ["http.get", "db.commit"]
        assert _names(rest) == ["http.get"]

    def test_first_match(self):
        """With first_match=True a span goes only to the first matching route."""
        first, second = InMemorySpanExporter(), InMemorySpanExporter()
        tracer = _tracer(
            RoutingSpanProcessor(
                [Route(first, "a.*", batch=False), Route(second, "*", batch=False)],
                first_match=True,
            )
        )
        tracer.start_span("a.x").end()
        tracer.start_span("b.x").end()
        assert (_names(first), _names(second)) == (["a.x"], ["b.x"])

    def test_attribute_set_after_start_is_routed_at_end(self):
        """Routing at on_end sees attributes set during the span."""
        tagged = InMemorySpanExporter()
        tracer = _tracer(
            RoutingSpanProcessor([Route(tagged, where=lambda a: "tag" in a, batch=False)])
        )
        span = tracer.start_span("op")
        span.set_attribute("tag", 1)
        span.end()
        assert _names(tagged) == ["op"]

    def test_raising_predicate_is_no_match(self):
        """A predicate that raises means "no match", never an error in the pipeline."""
        target, rest = InMemorySpanExporter(), InMemorySpanExporter()
        tracer = _tracer(
            RoutingSpanProcessor(
                [Route(target, where=lambda a: a["missing"], batch=False)],
                default=SimpleSpanProcessor(rest),
            )
        )
        tracer.start_span("op").end()
        assert (_names(target), _names(rest)) == ([], ["op"])

    def test_batch_default_flushes(self):
        """An exporter target is batched by default and delivered on force_flush."""
        exporter = InMemorySpanExporter()
        processor = RoutingSpanProcessor([Route(exporter)])
        _tracer(processor).start_span("batched").end()
        assert processor.force_flush(10_000)
        assert _names(exporter) == ["batched"]
        processor.shutdown()

    def test_shutdown_reaches_routes_and_default(self):
        """shutdown() shuts every route target and the default down: nothing is exported after."""
        routed, rest = InMemorySpanExporter(), InMemorySpanExporter()
        processor = RoutingSpanProcessor(
            [Route(routed, "a.*", batch=False)], default=SimpleSpanProcessor(rest)
        )
        tracer = _tracer(processor)
        processor.shutdown()
        tracer.start_span("a.x").end()
        tracer.start_span("b.x").end()
        assert (_names(routed), _names(rest)) == ([], [])

    @pytest.mark.parametrize(
        ("make", "match"),
        [
            (lambda: RoutingSpanProcessor(["not a route"]), "Route"),  # type: ignore[list-item]
            (lambda: RoutingSpanProcessor([Route(object())]), "SpanProcessor or SpanExporter"),
            (lambda: Route(InMemorySpanExporter(), []), "empty"),
            (lambda: Route(InMemorySpanExporter(), where=3), "callable"),  # type: ignore[arg-type]
        ],
    )
    def test_bad_configuration(self, make, match):
        """Configuration mistakes raise clear errors."""
        with pytest.raises((TypeError, ValueError), match=match):
            make()


class TestFiltering:
    def test_drop_keep_sample_rules_in_order(self):
        """The first matching rule decides; unmatched spans are kept."""
        exporter = InMemorySpanExporter()
        processor = FilteringSpanProcessor(
            exporter,
            [Keep("health.important"), Drop("health.*"), Sample(0.0, "noisy.*")],
            batch=False,
        )
        tracer = _tracer(processor)
        for name in ("health.check", "health.important", "noisy.a", "business"):
            tracer.start_span(name).end()
        assert _names(exporter) == ["health.important", "business"]
        assert processor.dropped == 2

    def test_sampling_follows_trace_id(self):
        """Sample(0.25) keeps whole traces, chosen by trace id: exactly the lowest quarter."""

        class SpreadIds(RandomIdGenerator):
            """Trace ids whose low 64 bits step evenly through the whole range."""

            def __init__(self) -> None:
                self.next = 0

            def generate_trace_id(self) -> int:
                self.next += 1
                return (1 << 64) | ((self.next - 1) * (1 << 64) // 400)

        exporter = InMemorySpanExporter()
        provider = TracerProvider(id_generator=SpreadIds())
        provider.add_span_processor(FilteringSpanProcessor(exporter, [Sample(0.25)], batch=False))
        tracer = provider.get_tracer("sampling")
        for _ in range(400):
            with tracer.start_as_current_span("root"):
                tracer.start_span("child").end()
        by_trace: dict[int, list[str]] = {}
        for span in exporter.get_finished_spans():
            by_trace.setdefault(span.context.trace_id, []).append(span.name)
        assert all(sorted(names) == ["child", "root"] for names in by_trace.values())
        assert len(by_trace) == 100
        kept_low_bits = sorted(trace_id & ((1 << 64) - 1) for trace_id in by_trace)
        assert kept_low_bits[-1] < (1 << 64) // 4

    def test_sample_rate_validation(self):
        """A rate outside 0..1 is a clear ValueError."""
        with pytest.raises(ValueError, match="rate"):
            Sample(1.5)

    def test_filter_rule_type_checked(self):
        """Only Drop, Keep and Sample are filter rules."""
        with pytest.raises(TypeError, match="Drop"):
            FilteringSpanProcessor(InMemorySpanExporter(), [Route(InMemorySpanExporter())])

    def test_filtering_log_records(self, pipeline):
        """Log-based events are filtered by event name and attributes."""
        exporter = InMemoryLogRecordExporter()
        _log_pipeline(
            FilteringLogRecordProcessor(
                exporter, [Drop("app.debug.*"), Drop(where=lambda a: a.get("noise"))], batch=False
            ),
            pipeline,
        )
        emit("app.debug.x")
        emit("app.info", noise=True)
        emit("app.info")
        assert _event_names(exporter) == ["app.info"]

    def test_log_records_dropped_are_counted(self, pipeline):
        """``dropped`` counts the log records the rules removed, not the ones kept."""
        exporter = InMemoryLogRecordExporter()
        processor = FilteringLogRecordProcessor(exporter, [Drop("app.debug.*")], batch=False)
        _log_pipeline(processor, pipeline)
        emit("app.debug.a")
        emit("app.debug.b")
        emit("app.info")
        assert (processor.dropped, _event_names(exporter)) == (2, ["app.info"])

    def test_seeded_sampling_without_trace(self, pipeline):
        """Records without a trace id are sampled by a seedable generator."""
        exporter = InMemoryLogRecordExporter()
        _log_pipeline(
            FilteringLogRecordProcessor(exporter, [Sample(0.5, seed=7)], batch=False), pipeline
        )
        for _ in range(100):
            emit("app.sampled")
        kept = len(exporter.get_finished_logs())
        assert 25 < kept < 75


class TestRoutingLogs:
    def test_routes_events_to_two_exporters(self, pipeline):
        """Events are routed by event-name glob and attributes to different exporters."""
        retries, alerts = InMemoryLogRecordExporter(), InMemoryLogRecordExporter()
        _log_pipeline(
            RoutingLogRecordProcessor(
                [
                    Route(retries, "foundation.retry.*", batch=False),
                    Route(alerts, where=lambda a: a.get("severity") == "critical", batch=False),
                ]
            ),
            pipeline,
        )
        emit("foundation.retry.backoff")
        emit("foundation.alert.fired", severity="critical")
        emit("foundation.alert.fired", severity="info")
        assert _event_names(retries) == ["foundation.retry.backoff"]
        assert _event_names(alerts) == ["foundation.alert.fired"]
        assert len(pipeline.events()) == 3

    def test_first_match_and_default(self, pipeline):
        """With first_match=True a record goes to the first matching route only; unmatched to the default."""
        first, second, rest = (InMemoryLogRecordExporter() for _ in range(3))
        _log_pipeline(
            RoutingLogRecordProcessor(
                [Route(first, "app.*", batch=False), Route(second, "app.db.*", batch=False)],
                default=SimpleLogRecordProcessor(rest),
                first_match=True,
            ),
            pipeline,
        )
        emit("app.db.query")
        emit("other")
        assert [_event_names(e) for e in (first, second, rest)] == [["app.db.query"], [], ["other"]]

    def test_shutdown_reaches_routes_and_default(self, pipeline):
        """shutdown() shuts every route target and the default down: nothing is delivered after."""
        routed, rest = InMemoryLogRecordExporter(), InMemoryLogRecordExporter()
        processor = RoutingLogRecordProcessor(
            [Route(routed, "app.*", batch=False)], default=SimpleLogRecordProcessor(rest)
        )
        _log_pipeline(processor, pipeline)
        processor.shutdown()
        emit("app.x")
        emit("other")
        assert (_event_names(routed), _event_names(rest)) == ([], [])

    def test_log_target_type_checked(self):
        """A wrong target type is a clear TypeError."""
        with pytest.raises(TypeError, match="LogRecordProcessor or LogRecordExporter"):
            RoutingLogRecordProcessor([Route(InMemorySpanExporter())])


class TestRedaction:
    def test_redactor_keys(self):
        """Sensitive key words match whole key segments, case-insensitively."""
        redactor = Redactor()
        redacted = redactor.redact(
            {
                "http.request.header.authorization": "Basic abc",
                "db.password": "hunter2",
                "user_PASSWORD": "x",
                "access_token": "t",
                "x-api-key": "k",
                "gen_ai.usage.input_tokens": 12,
                "session.id": "s1",
                "plain": "value",
            }
        )
        assert redacted == {
            "http.request.header.authorization": REDACTED,
            "db.password": REDACTED,
            "user_PASSWORD": REDACTED,
            "access_token": REDACTED,
            "x-api-key": REDACTED,
            "gen_ai.usage.input_tokens": 12,
            "session.id": "s1",
            "plain": "value",
        }

    def test_redactor_values(self):
        """Bearer tokens and URL credentials are scrubbed out of kept strings."""
        redactor = Redactor()
        assert redactor.redact(
            {"header": "Bearer abc.def-123", "url": "postgres://bob:s3cret@db:5432/app"}
        ) == {"header": f"Bearer {REDACTED}", "url": f"postgres://{REDACTED}@db:5432/app"}

    def test_nothing_sensitive_returns_none(self):
        """With nothing to redact the redactor allocates nothing and returns None."""
        assert Redactor().redact({"a": 1, "b": "text", "c": ("x", "y")}) is None

    def test_custom_configuration(self):
        """Keys, key regexes, value regexes and the replacement are configurable."""
        redactor = Redactor(
            ["ssn"],
            key_patterns=[r"^card\."],
            value_patterns=[re.compile(r"\d{4}-\d{4}")],
            replacement="***",
        )
        assert redactor.redact(
            {"user.ssn": "1", "card.number": "2", "note": "call 1234-5678", "password": "p"}
        ) == {"user.ssn": "***", "card.number": "***", "note": "call ***", "password": "p"}

    def test_bad_configuration(self):
        """A single string for keys or a non-str key is a clear TypeError."""
        with pytest.raises(TypeError, match="keys"):
            Redactor("password")
        with pytest.raises(TypeError, match="keys"):
            Redactor([1])  # type: ignore[list-item]

    def test_span_redaction_copies(self):
        """The exporter sees redacted span, event and link attributes; other processors do not."""
        redacted_exporter, raw_exporter = InMemorySpanExporter(), InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(RedactingSpanProcessor(redacted_exporter, batch=False))
        provider.add_span_processor(SimpleSpanProcessor(raw_exporter))
        tracer = provider.get_tracer("t")
        with tracer.start_as_current_span(
            "login", attributes={"user": "ann", "password": "pw"}
        ) as s:
            s.add_event("token.issued", {"token": "abc", "kind": "jwt"})
        (exported,) = redacted_exporter.get_finished_spans()
        assert dict(exported.attributes) == {"user": "ann", "password": REDACTED}
        assert dict(exported.events[0].attributes) == {"token": REDACTED, "kind": "jwt"}
        assert exported.context == raw_exporter.get_finished_spans()[0].context
        assert raw_exporter.get_finished_spans()[0].attributes["password"] == "pw"

    def test_span_without_secrets_passes_as_is(self):
        """A span with nothing sensitive is forwarded as the same object."""
        exporter = InMemorySpanExporter()
        processor = RedactingSpanProcessor(exporter, batch=False)
        provider = TracerProvider()
        provider.add_span_processor(processor)
        provider.get_tracer("t").start_span("clean", attributes={"a": 1}).end()
        assert dict(exporter.get_finished_spans()[0].attributes) == {"a": 1}

    def test_log_redaction(self, pipeline):
        """Events exported through the redacting processor lose secrets; the pipeline copy keeps them."""
        exporter = InMemoryLogRecordExporter()
        _log_pipeline(RedactingLogRecordProcessor(exporter, batch=False), pipeline)
        emit("app.login", user="ann", **{"http.request.header.authorization": "Bearer xyz"})
        (item,) = exporter.get_finished_logs()
        assert item.log_record.attributes["http.request.header.authorization"] == REDACTED
        assert item.log_record.attributes["user"] == "ann"
        assert item.log_record.event_name == "app.login"
        assert (
            pipeline.events("app.login")[0].attributes["http.request.header.authorization"]
            == "Bearer xyz"
        )

    def test_log_body_scrubbed(self, pipeline):
        """A string body is scrubbed with the value patterns."""
        exporter = InMemoryLogRecordExporter()
        provider = LoggerProvider()
        provider.add_log_record_processor(RedactingLogRecordProcessor(exporter, batch=False))
        provider.get_logger("t").emit(body="auth header Bearer abc123")
        assert exporter.get_finished_logs()[0].log_record.body == f"auth header Bearer {REDACTED}"


class TestConcurrentFiltering:
    def test_dropped_count_is_exact_across_threads(self):
        """Spans dropped from several threads at once are all counted."""
        exporter = InMemorySpanExporter()
        processor = FilteringSpanProcessor(exporter, [Drop("noise")], batch=False)
        tracer = _tracer(processor)
        start = threading.Barrier(4)

        def worker() -> None:
            start.wait(10)
            for _ in range(250):
                tracer.start_span("noise").end()
            tracer.start_span("signal").end()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert processor.dropped == 1000
        assert _names(exporter) == ["signal"] * 4
