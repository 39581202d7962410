"""Failure report rendering: truncation, late arrivals, exclusions and overflow."""

from __future__ import annotations

from foundation_telemetry.recording._failures import Report, format_record
from foundation_telemetry.recording._matchers import RecordMatcher, is_event, is_metric
from foundation_telemetry.recording._received import MAX_GROUPS, set_full_failures
from foundation_telemetry.recording._records import EventRecord, MetricPoint, RecordKind


def event(name, at_ms, thread="MainThread", **attributes):
    return EventRecord(name, attributes, int(at_ms * 1e6), RecordKind.EVENT, thread=thread)


class TestReport:
    def test_every_section(self):
        """A report with every kind of detail renders each section in order."""
        matcher = RecordMatcher("event", is_event, "pay", {"amount": 5})
        report = Report(
            headline="No event matched within 1s: event 'pay' with {'amount': 5}",
            begin_ns=0,
            matchers=[matcher],
            received=[event("pay", 1.5, "worker-1", amount=4)],
            late=[event("pay", 1002.0, amount=5)],
            foreign_total=2,
            foreign_matches=[event("pay", 3.0, amount=5)],
            dropped=7,
            capacity=100,
        )
        assert report.render().splitlines() == [
            "No event matched within 1s: event 'pay' with {'amount': 5}",
            "Closest candidates:",
            "- event 'pay' at +1.5ms:",
            "    attributes['amount']: 4 != 5",
            "Received 1 record(s) since the expectation began, by name (the last of each):",
            "- +1.5ms [worker-1] event 'pay' {'amount': 4}",
            "Matched just after the timeout (raise `timeout` if this is expected):",
            "- +1002.0ms [MainThread] event 'pay' {'amount': 5}",
            "Excluded 2 record(s) that belong to an earlier test (spans started before this "
            "test, and records emitted inside them), of which these matched (late arrivals):",
            "- +3.0ms [MainThread] event 'pay' {'amount': 5}",
            "The recorder's buffer overflowed: 7 record(s) captured since the expectation began "
            "were dropped (capacity 100); the match may have been among them. Create the "
            "Recorder with a larger `capacity`.",
        ]

    def test_long_listings_are_grouped_and_capped(self):
        """One line per name with a count; at most MAX_GROUPS names, the rest counted."""
        received = [event("poll", i) for i in range(20)]
        received += [event(f"e{i}", 100 + i) for i in range(15)]
        lines = Report(headline="h", begin_ns=0, received=received).render().splitlines()
        assert lines[1] == (
            "Received 35 record(s) since the expectation began, by name (the last of each):"
        )
        assert lines[2] == "- +19.0ms [MainThread] event 'poll' {} (20x)"
        assert lines[3] == "- +100.0ms [MainThread] event 'e0' {}"
        assert lines[-1] == (
            "- ... 6 more record(s) under 6 other name(s); `pytest -vv` lists every record"
        )
        assert len(lines) == 2 + MAX_GROUPS + 1

    def test_full_failures_list_every_record(self):
        """Under `pytest -vv` (set_full_failures), every record gets its own line."""
        received = [event("poll", i) for i in range(30)]
        set_full_failures(True)
        try:
            lines = Report(headline="h", begin_ns=0, received=received).render().splitlines()
        finally:
            set_full_failures(False)
        assert lines[1] == "Received 30 record(s) since the expectation began:"
        assert len(lines) == 32

    def test_fields_the_same_on_every_record_are_said_once(self):
        """host.name and process.pid repeat nowhere; asked-about keys are always shown."""
        matcher = RecordMatcher("event", is_event, "pay", {"host.name": "db-1"})
        received = [
            event("pay", 1, **{"host.name": "web-1", "process.pid": 7, "amount": 1}),
            event("pay", 2, **{"host.name": "web-1", "process.pid": 7, "amount": 2}),
        ]
        lines = (
            Report(headline="h", begin_ns=0, matchers=[matcher], received=received)
            .render()
            .splitlines()
        )
        assert "- +2.0ms [MainThread] event 'pay' {'host.name': 'web-1', 'amount': 2} (2x)" in lines
        assert "Same on every record, so not shown above: {'process.pid': 7}" in lines

    def test_did_you_mean_for_a_misspelled_name(self):
        """A plain name that never arrived, when a close one did, gets a suggestion."""
        matcher = RecordMatcher("metric", is_metric, "http.requets")
        received = [MetricPoint("http.requests", {}, 3.0, 1), event("http.requets", 1)]
        lines = (
            Report(headline="h", begin_ns=0, matchers=[matcher], received=received)
            .render()
            .splitlines()
        )
        assert lines[1] == "Did you mean 'http.requests'? No metric named 'http.requets' arrived."

    def test_key_attributes_are_shortened(self):
        """Long values are cut and many attributes summarized, preferred keys first."""
        record = event("e", 0, a="x" * 100, b=1, c=2, d=3, z=4)
        line = format_record(record, 0, preferred=["z"])
        assert "'z': 4, 'a': 'xxxxxxxx" in line
        assert "..., 'b': 1, 'c': 2, +1 more}" in line
