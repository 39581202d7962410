"""The demo report as data and as text: percentiles, the sample trace, the books."""

from __future__ import annotations

import io
import math
from collections import Counter

import pytest
from rich.console import Console

from foundation_telemetry.demo import Accounting, DemoConfig, DemoReport
from foundation_telemetry.demo._report import (
    _transitions,
    percentile,
    render,
    sample_trace,
    state_chain,
)
from foundation_telemetry.demo._tally import ORDER_SPAN, SpanShape


def _span(name: str, trace: int, span: int, parent: int | None, start: int, **attributes):
    return SpanShape(name, trace, span, parent, start, 1_000_000, attributes)


def _event(name: str, trace: int, parent: int, start: int, **attributes):
    return SpanShape(name, trace, 0, parent, start, 0, attributes, is_event=True)


def _report(**changes) -> DemoReport:
    fields = {
        "duration": 3.0,
        "workers": 4,
        "seed": 7,
        "endpoint": "http://127.0.0.1:4318",
        "embedded_sink": True,
        "outcomes": Counter(paid=9, rejected=1),
        "produced_events": Counter({"foundation.retry.backoff": 2}),
        "received_events": Counter({"foundation.retry.backoff": 2}),
        "latencies": [0.01, 0.02, 0.03],
        "breaker_transitions": [("closed", "open"), ("open", "open"), ("open", "half-open")],
        "alerts": [("payments", "fired", "rate > 0"), ("payments", "resolved", "rate > 0")],
        "accounting": [Accounting("traces", 10, 9, 1), Accounting("logs", 20, 20, 0)],
        "received_metric_points": 5,
    }
    fields.update(changes)
    return DemoReport(**fields)


class TestPercentile:
    def test_nearest_rank(self):
        """p50 and p99 of 1..100 are 50 and 99; a single value is every percentile."""
        values = [float(n) for n in range(100, 0, -1)]
        assert percentile(values, 50) == 50
        assert percentile(values, 99) == 99
        assert percentile([4.0], 99) == 4.0

    def test_no_values_is_nan(self):
        """Without orders there is no latency."""
        assert math.isnan(percentile([], 50))


class TestAccounting:
    def test_the_identity_is_checked_per_signal(self):
        """produced = received + dropped holds or not; unchecked without a local receiver."""
        assert Accounting("traces", 10, 9, 1).holds is True
        assert Accounting("traces", 10, 8, 1).holds is False
        assert Accounting("traces", 10, None, 0).holds is None

    def test_the_report_balances_only_if_every_checked_signal_does(self):
        """One unbalanced signal makes the whole report fail its identity."""
        assert _report().identity_holds
        assert not _report(accounting=[Accounting("logs", 3, 1, 1)]).identity_holds
        assert _report(accounting=[Accounting("logs", 3, None, 0)]).identity_holds


class TestTransitions:
    def test_the_chain_drops_re_opens(self):
        """Re-opens (open -> open) are not states; they are counted apart."""
        pairs = [("closed", "open"), ("open", "open"), ("open", "half-open")]

        assert state_chain(pairs) == ["closed", "open", "half-open"]
        assert _transitions(pairs).endswith("(and 1 re-open(s) by calls already in flight)")

    def test_repeated_cycles_are_folded(self):
        """Trial after failed trial reads as one folded cycle."""
        pairs = [
            ("closed", "open"),
            ("open", "half-open"),
            ("half-open", "open"),
            ("open", "half-open"),
            ("half-open", "open"),
            ("open", "half-open"),
            ("half-open", "closed"),
        ]

        assert _transitions(pairs) == "closed -> (open -> half-open) x3 -> closed"
        assert _transitions([]) == "none"


class TestSampleTrace:
    def test_a_retried_paid_order_is_preferred(self):
        """Among order traces the one whose payment needed retries (and was paid) is shown."""
        shapes = [
            _span(ORDER_SPAN, 1, 10, None, 0, **{"order.outcome": "paid"}),
            _span("retry pay", 1, 11, 10, 1, **{"retry.attempts": 1}),
            _span(ORDER_SPAN, 2, 20, None, 0, **{"order.outcome": "paid"}),
            _span("retry pay", 2, 21, 20, 1, **{"retry.attempts": 2}),
            _span("unrelated", 3, 30, None, 0),
        ]
        events = [_event("foundation.retry.backoff", 2, 21, 2), _event("other", 1, 11, 2)]

        trace = sample_trace(shapes, events)

        assert {shape.trace_id for shape in trace} == {2}
        assert [shape.name for shape in trace] == [
            ORDER_SPAN,
            "retry pay",
            "foundation.retry.backoff",
        ]

    def test_without_order_spans_there_is_no_trace(self):
        """Spans of other operations are never picked."""
        assert sample_trace([_span("unrelated", 3, 30, None, 0)], []) == []


class TestRender:
    def test_the_text_report(self):
        """The rendered report names the outcomes, events, tree, latencies, alerts and books."""
        trace = [
            _span(ORDER_SPAN, 2, 20, None, 0, **{"order.id": 5}),
            _span("retry pay", 2, 21, 20, 1, **{"retry.attempts": 2}),
            _event("foundation.retry.backoff", 2, 21, 2, delay=0.005),
        ]
        out = io.StringIO()

        render(_report(trace=trace), Console(file=out, width=200, color_system=None))

        text = out.getvalue()
        assert "foundation.retry.backoff" in text
        assert "demo.order.process 1.0 ms order.id=5" in text
        assert "└── foundation.retry.backoff delay=0.005" in text
        assert "p50 20.0 ms, p99 30.0 ms (3 orders)" in text
        assert "transitions: closed -> open -> half-open (and 1 re-open(s)" in text
        assert "Alerts: fired 1, resolved 1" in text
        assert "traces: produced 10 = received 9 + dropped 1: holds" in text
        assert "Accounting identity holds." in text

    def test_an_unbalanced_report_says_so(self):
        """A failed identity is spelled out, not hidden."""
        out = io.StringIO()

        render(
            _report(accounting=[Accounting("logs", 5, 3, 1)]),
            Console(file=out, width=200, color_system=None),
        )

        assert "logs: produced 5 = received 3 + dropped 1: DOES NOT HOLD" in out.getvalue()
        assert "Accounting identity DOES NOT HOLD." in out.getvalue()


class TestExports:
    def test_the_public_names(self):
        """The demo package exports the runner, its configuration and the report types."""
        import foundation_telemetry.demo as demo

        assert sorted(demo.__all__) == ["Accounting", "DemoConfig", "DemoReport", "run_demo"]


class TestDemoConfig:
    def test_out_of_range_settings_are_refused(self):
        """Duration and workers are checked with a message naming the setting."""
        with pytest.raises(ValueError, match="duration"):
            DemoConfig(duration=0)
        with pytest.raises(ValueError, match="workers"):
            DemoConfig(workers=65)
        assert DemoConfig().duration <= 30
