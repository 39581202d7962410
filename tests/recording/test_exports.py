"""The public surface of foundation_telemetry.recording: what the capturing side needs."""

from __future__ import annotations

import foundation_telemetry.recording as recording
from _public_api import exports_tests

MODULE = "foundation_telemetry.recording"

OPEN = {
    # recording/_buffer.py belongs to another branch this round; @final lands with it.
    "RecordBuffer": "pending: mark @final in recording/_buffer.py",
}


TestExports = exports_tests({MODULE: (True, OPEN)})


class TestSurface:
    def test_homes(self):
        """The record types and the Recorder report foundation_telemetry.recording."""
        assert recording.SpanRecord.__module__ == MODULE
        assert recording.Recorder.__module__ == MODULE

    def test_no_plumbing(self):
        """Only what users need is exported: the Recorder, its store and the record types."""
        assert recording.__all__ == [
            "DEFAULT_CAPACITY",
            "EventRecord",
            "MetricPoint",
            "RecordBuffer",
            "RecordKind",
            "Recorder",
            "SpanEventView",
            "SpanRecord",
            "metric_capture_options",
        ]
