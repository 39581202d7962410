"""Failure report rendering: truncation, late arrivals, exclusions and overflow."""

from __future__ import annotations

from foundation_telemetry.recording._failures import Report, format_record
from foundation_telemetry.recording._matchers import RecordMatcher, is_event
from foundation_telemetry.recording._records import EventRecord, RecordKind


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
            "Received 1 record(s) since the expectation began:",
            "- +1.5ms [worker-1] event 'pay' {'amount': 4}",
            "Closest candidates:",
            "- event 'pay' at +1.5ms:",
            "    attributes['amount']: 4 != 5",
            "Matched just after the timeout (raise `timeout` if this is expected):",
            "- +1002.0ms [MainThread] event 'pay' {'amount': 5}",
            "Excluded 2 record(s) that belong to an earlier test (spans started before this "
            "test, and records emitted inside them), of which these matched (late arrivals):",
            "- +3.0ms [MainThread] event 'pay' {'amount': 5}",
            "The recorder's buffer overflowed: 7 record(s) captured since the expectation began "
            "were dropped (capacity 100); the match may have been among them. Create the "
            "Recorder with a larger `capacity`.",
        ]

    def test_long_listings_are_truncated(self):
        """Only the last 25 received records are listed, with a count of the rest."""
        received = [event(f"e{i}", i) for i in range(30)]
        lines = Report(headline="h", begin_ns=0, received=received).render().splitlines()
        assert lines[1] == "Received 30 record(s) since the expectation began:"
        assert lines[2] == "- ... 5 earlier record(s) not shown"
        assert lines[3].endswith("event 'e5' {}")
        assert len(lines) == 28

    def test_key_attributes_are_shortened(self):
        """Long values are cut and many attributes summarized, preferred keys first."""
        record = event("e", 0, a="x" * 100, b=1, c=2, d=3, z=4)
        line = format_record(record, 0, preferred=["z"])
        assert "'z': 4, 'a': 'xxxxxxxx" in line
        assert "..., 'b': 1, 'c': 2, +1 more}" in line
