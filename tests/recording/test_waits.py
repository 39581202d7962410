"""The wait object (recording/_waits.py) and the one wait loop (recording/_watch.py)."""

from __future__ import annotations

import asyncio
import gc
import operator
import threading
import warnings

import pytest

from foundation_telemetry.recording._waits import BaseWait
from foundation_telemetry.recording._watch import Waitable, Watch, _looks
from foundation_telemetry.testing import Collector, Recorder, TelemetryAssertionError, Wait

from ._helpers import emit_event

MISUSE = r"call \.wait\(\) or await it, and use the value it returns"


class TestTheCallDoesNotWait:
    def test_a_wait_looks_only_when_waited_for(self, standalone):
        """Creating a wait returns at once; `.wait()` then finds records from before and after."""
        wait = standalone.recorder.wait_for_metric_threshold("jobs", 3)
        assert type(wait) is Wait
        assert not wait.waited
        counter = standalone.meter_provider.get_meter("m").create_counter("jobs")
        counter.add(3)
        assert wait.wait(timeout=10) == 3
        assert wait.waited

    def test_waiting_twice_returns_the_result_again(self, telemetry):
        """A satisfied wait can be waited for again and gives the same record."""
        emit_event("foundation.service.started", **{"service.name": "twice"})
        wait = telemetry.wait_for_service_ready("twice")
        assert wait.wait() is wait.wait()

    def test_the_timeout_of_wait_replaces_the_call_timeout(self, telemetry):
        """`.wait(timeout)` overrides the call's timeout, and the failure quotes it."""
        wait = telemetry.wait_for_service_ready("absent", timeout=30)
        with pytest.raises(TelemetryAssertionError, match=r"within 0\.05s"):
            wait.wait(timeout=0.05)

    def test_bad_timeout_of_wait(self, telemetry):
        """A bad timeout passed to `.wait()` is a clear error."""
        wait = telemetry.wait_for_service_ready("x")
        with pytest.raises(ValueError, match="`timeout` must be > 0"):
            wait.wait(timeout=0)


class TestMisuseIsLoud:
    @pytest.mark.parametrize(
        ("operation", "use"),
        [
            ("bool()", bool),
            ("==", lambda w: w == 3),
            ("!=", lambda w: w != 3),
            ("<", lambda w: w < 3),
            ("<=", lambda w: operator.le(w, 3)),
            (">", lambda w: w > 3),
            (">=", lambda w: w >= 3),
        ],
    )
    @pytest.mark.telemetry(strict=False)
    def test_using_a_wait_as_its_value_raises(self, telemetry, operation, use):
        """Truth value and comparisons of a wait raise TypeError naming the call."""
        wait = telemetry.wait_for_metric_threshold("m", 3)
        with pytest.raises(TypeError, match=MISUSE) as caught:
            use(wait)
        assert str(caught.value).startswith(
            f"{operation} on the wait returned by wait_for_metric_threshold('m', 3):"
        )

    def test_reflected_comparison_raises_too(self, telemetry):
        """`3 == wait` reaches the wait's __eq__ and raises."""
        collector = telemetry.attach_collector("x")
        with pytest.raises(TypeError, match=MISUSE):
            _ = 3 == collector  # noqa: SIM300 - the reflected form is the point
        emit_event("x")
        collector.wait()

    def test_a_wait_is_hashable_and_has_a_readable_repr(self, telemetry):
        """Waits can live in sets; the repr names the call and where it was made."""
        wait = telemetry.wait_for(lambda: True)
        assert wait in {wait}
        assert repr(wait).startswith("<Wait wait_for(<lambda>) at tests/recording/test_waits.py:")
        assert repr(wait).endswith(", not waited for>")
        wait.wait()
        assert repr(wait).endswith(", waited>")


class TestOutsideTheFixture:
    def test_a_dropped_wait_warns_once(self):
        """A wait on a Recorder that is never waited for warns (ResourceWarning) when collected."""
        recorder = Recorder()
        with pytest.warns(ResourceWarning) as caught:
            recorder.wait_for_service_ready("nobody")  # dropped at once: CPython frees it here
        messages = [str(w.message) for w in caught if w.category is ResourceWarning]
        assert len(messages) == 1
        assert messages[0].startswith("wait_for_service_ready('nobody') (created at ")
        assert messages[0].endswith("was never waited for: call .wait() or await it.")
        assert "tests/recording/test_waits.py:" in messages[0]

    def test_a_waited_or_detached_one_is_silent(self):
        """Waited waits and detached collectors are collected without a warning."""
        recorder = Recorder()
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            wait = recorder.wait_for(lambda: 1)
            assert wait.wait() == 1
            recorder.attach_collector("x").detach()
            del wait
            gc.collect()

    def test_a_collector_is_a_wait_too(self):
        """An unwaited collector on a Recorder warns like any wait."""
        recorder = Recorder()
        with pytest.warns(ResourceWarning, match=r"attach_collector\('job', count=2\)"):
            recorder.attach_collector("job", count=2)
        assert issubclass(Collector, BaseWait)
        assert issubclass(Wait, BaseWait)


class TestPollingWait:
    def test_predicate_from_another_thread(self, telemetry):
        """wait_for returns the predicate's first truthy value."""
        ready = threading.Event()
        threading.Thread(target=ready.set).start()
        assert telemetry.wait_for(lambda: ready.is_set() and "ready", interval=0.001).wait() == (
            "ready"
        )

    async def test_awaited_polling_leaves_the_loop_free(self, telemetry):
        """Awaited, wait_for polls without blocking: a task on the same loop makes it true."""
        state = {"done": False}

        async def finish():
            state["done"] = True

        task = asyncio.create_task(finish())
        assert await telemetry.wait_for(lambda: state["done"], timeout=10, interval=0.001)
        await task

    def test_bad_arguments(self, telemetry):
        """A non-callable predicate or a bad interval is refused at the call."""
        with pytest.raises(TypeError, match="`predicate` must be a callable"):
            telemetry.wait_for(True)
        with pytest.raises(ValueError, match="`interval` must be > 0"):
            telemetry.wait_for(lambda: True, interval=0)


class _Counting(Waitable):
    """Satisfied after *needed* looks; each look is one step of the loop."""

    def __init__(self, source, needed: int, grace: float = 0.0) -> None:
        self.watch = Watch(source)
        self.timeout = 1.0
        self.needed = needed
        self.looks = 0
        self.grace = grace

    def step(self, late: bool = False) -> bool:
        self.looks += 1
        return self.done()

    def feed(self, record, foreign, late):
        pass

    def done(self):
        return self.looks >= self.needed

    def failure(self):
        return None

    def late_grace(self):
        return self.grace

    def next_look(self, remaining):
        return 0.25


class _Arming:
    def __init__(self):
        self.armed = 0

    def arm(self):
        self.armed += 1


class TestOneLoop:
    def test_the_loop_yields_how_long_to_wait_between_looks(self):
        """The loop arms the waiter before every look and yields the wait between looks."""
        waitable = _Counting(Recorder(), needed=3)
        waiter = _Arming()
        yielded = list(_looks(waitable, deadline=float("inf"), waiter=waiter))
        assert yielded == [0.25, 0.25]
        assert (waitable.looks, waiter.armed) == (3, 3)

    def test_a_passed_deadline_stops_after_one_look(self):
        """With the deadline already passed, the loop looks once and yields nothing."""
        waitable = _Counting(Recorder(), needed=10)
        assert list(_looks(waitable, deadline=0.0, waiter=_Arming())) == []
        assert waitable.looks == 1

    def test_grace_looks_follow_a_failure(self):
        """After a failed wait the loop keeps looking for the late grace, yielding what is left."""
        waitable = _Counting(Recorder(), needed=10, grace=60.0)
        looks = _looks(waitable, deadline=0.0, waiter=_Arming())
        remaining = next(looks)
        assert 0 < remaining <= 60.0
        assert waitable.looks == 2
        looks.close()
