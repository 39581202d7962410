"""Waits from the start of the test give the same results and failure text with the timeline.

The timeline (incremental index for domain waits and ``wait_for_metric_threshold``) must be
invisible: for any mix of records, foreign records and waits, a source using it and a source
reading the ring from its origin return the same records and values and raise the same text.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation_telemetry import taxonomy
from foundation_telemetry.recording import _watch
from foundation_telemetry.recording._buffer import RecordBuffer
from foundation_telemetry.recording._queries import TelemetryQueries
from foundation_telemetry.recording._records import EventRecord, MetricPoint, RecordKind
from foundation_telemetry.recording._timeline import Timeline
from foundation_telemetry.testing import TelemetryAssertionError

_A = taxonomy.Attr
_SERVICES = ("orders", "billing")
_SESSIONS = ("s1", "s2")


class _View(TelemetryQueries):
    """One test's view on a shared buffer: scope 1, origin at construction."""

    def __init__(self, buffer: RecordBuffer) -> None:
        self.buffer = buffer
        self.origin = buffer.next_seq

    def _telemetry_buffer(self) -> RecordBuffer:
        return self.buffer

    def _telemetry_scope(self) -> int | None:
        return 1

    def _telemetry_origin(self) -> int:
        return self.origin

    def _telemetry_timeout(self) -> float:
        return 0.001


class _Rereading(_View):
    """The same view without a timeline: every wait reads the ring from the origin."""

    @property
    def _telemetry_timeline_memo(self) -> None:
        return None


class _Clock:
    """``time`` for the watch module with a fixed wall clock, so failure texts compare equal."""

    monotonic = staticmethod(__import__("time").monotonic)

    @staticmethod
    def time_ns() -> int:
        return 0


_event = st.builds(
    lambda name, service, healthy, scope, stamp: (
        "event",
        name,
        {_A.SERVICE_NAME: service, _A.SESSION_ID: service, _A.HEALTHY: healthy},
        scope,
        stamp,
    ),
    st.sampled_from(
        [
            taxonomy.SERVICE_STARTED,
            taxonomy.SERVICE_HEALTH_CHECK,
            taxonomy.COORDINATION_COMPLETED,
            taxonomy.COORDINATION_FAILED,
            "other.event",
        ]
    ),
    st.sampled_from(_SERVICES + _SESSIONS),
    st.booleans(),
    st.sampled_from([1, 1, 1, 0]),
    st.integers(0, 10**9),
)
_metric = st.builds(
    lambda name, value, scope: ("metric", name, value, scope),
    st.sampled_from(["m.requests", "m.latency"]),
    st.integers(-3, 10),
    st.sampled_from([1, 1, 0]),
)
_wait = st.one_of(
    st.tuples(st.just("ready"), st.sampled_from(_SERVICES)),
    st.tuples(st.just("coordination"), st.sampled_from(_SESSIONS)),
    st.tuples(
        st.just("threshold"),
        st.sampled_from(["m.requests", "m.latency"]),
        st.integers(0, 12),
        st.sampled_from(["sum", "count", "max", "p90", "last"]),
    ),
)
_script = st.lists(st.one_of(_event, _metric, _wait), max_size=25)


def _append(buffer: RecordBuffer, step: tuple[Any, ...]) -> None:
    if step[0] == "event":
        _, name, attributes, scope, stamp = step
        buffer.append(RecordKind.EVENT, EventRecord(name, attributes, stamp), scope)
    else:
        _, name, value, scope = step
        buffer.append(RecordKind.METRIC, MetricPoint(name, {}, value, 5), scope)


def _outcome(view: _View, step: tuple[Any, ...]) -> object:
    if step[0] == "ready":
        wait: Any = view.wait_for_service_ready(step[1])
    elif step[0] == "coordination":
        wait = view.wait_for_coordination_completion(step[1])
    else:
        wait = view.wait_for_metric_threshold(step[1], step[2], aggregate=step[3])
    try:
        return wait.wait()
    except TelemetryAssertionError as error:
        return ("failed", str(error))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=st.lists(st.one_of(_event, _metric), max_size=5), script=_script)
def test_same_results_and_failure_text(before: list[Any], script: list[Any]) -> None:
    """Interleaved records and waits: identical outcomes with and without the timeline."""
    buffer = RecordBuffer(capacity=10_000)
    for step in before:  # recorded before the test began: never counted
        _append(buffer, step)
    fast, slow = _View(buffer), _Rereading(buffer)
    with mock.patch.object(_watch, "time", _Clock):
        for step in script:
            if step[0] in ("event", "metric"):
                _append(buffer, step)
                continue
            assert _outcome(fast, step) == _outcome(slow, step)
    if any(step[0] not in ("event", "metric") for step in script):
        assert isinstance(fast._telemetry_timeline_memo, Timeline)


def test_the_timeline_reads_each_entry_once() -> None:
    """Sequential waits advance the timeline over new entries only."""
    buffer = RecordBuffer()
    view = _View(buffer)
    for index in range(3):
        buffer.append(RecordKind.EVENT, EventRecord("noise", {}, index), 1)
        record = EventRecord(taxonomy.SERVICE_STARTED, {_A.SERVICE_NAME: f"svc{index}"}, index)
        buffer.append(RecordKind.EVENT, record, 1)
        with mock.patch.object(buffer, "read", wraps=buffer.read) as read:
            assert view.wait_for_service_ready(f"svc{index}").wait() == record
        assert [call.args for call in read.call_args_list] == [(2 * index,)]


@pytest.mark.parametrize("overflow", ["cleared", "dropped"])
def test_a_lossy_ring_falls_back_to_reading_it(overflow: str) -> None:
    """Once records since the origin are gone, waits see what the ring holds, as before.

    Each lost record is counted once, however often the wait looked (it used to count them
    again on every look).
    """
    buffer = RecordBuffer(capacity=2)
    view = _View(buffer)
    started = EventRecord(taxonomy.SERVICE_STARTED, {_A.SERVICE_NAME: "gone"}, 1)
    buffer.append(RecordKind.EVENT, started, 1)
    assert view.wait_for_service_ready("gone").wait() == started
    if overflow == "cleared":
        buffer.clear()
    else:
        buffer.append(RecordKind.EVENT, EventRecord("a", {}, 2), 1)
        buffer.append(RecordKind.EVENT, EventRecord("b", {}, 3), 1)
    with pytest.raises(TelemetryAssertionError, match=r"overflowed: 1 record\(s\) captured"):
        view.wait_for_service_ready("gone").wait()
