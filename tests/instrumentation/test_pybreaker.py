"""PyBreakerInstrumentor against the real pybreaker: closed, open, half-open and rejections.

The reset timeout is driven without waiting: ``breaker.reset_timeout`` is a plain setter, so a
test opens the breaker with a long timeout (calls are rejected), then sets it to 0 so the next
call is the half-open trial.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from typing import Any

import pybreaker
import pytest

from foundation_telemetry import taxonomy
from foundation_telemetry.instrumentation import PyBreakerInstrumentor
from foundation_telemetry.testing import TelemetryFixture

from .conftest import attrs, metric_sum

OPEN_FOR_A_LONG_TIME = 3600.0


def fail() -> None:
    msg = "dependency down"
    raise ConnectionError(msg)


def succeed() -> str:
    return "ok"


def _names(telemetry: TelemetryFixture) -> list[str]:
    return [
        event.name.removeprefix("foundation.circuit_breaker.")
        for event in telemetry.events("foundation.circuit_breaker.*")
    ]


def _trip(breaker: pybreaker.CircuitBreaker) -> None:
    for _ in range(breaker.fail_max):
        with pytest.raises((ConnectionError, pybreaker.CircuitBreakerError)):
            breaker.call(fail)
    assert breaker.current_state == "open"


def _state_gauge(telemetry: TelemetryFixture, name: str) -> dict[str, Any]:
    """The last value the state gauge reported for each state of breaker *name*."""
    last: dict[str, Any] = {}
    for point in telemetry.metric_points("foundation.circuit_breaker.state"):
        if point.attributes["circuit_breaker.name"] == name:
            last[point.attributes["circuit_breaker.state"]] = point.value
    return last


class TestClosedBreaker:
    def test_a_successful_call_reports_start_and_success_with_duration(self, breakers):
        """A call through a closed breaker: call_start, then call_success with its duration."""
        breaker = pybreaker.CircuitBreaker(name="payments")

        assert breaker.call(succeed) == "ok"

        start, success = breakers.events("foundation.circuit_breaker.*")
        assert start.name == taxonomy.CIRCUIT_BREAKER_CALL_START
        assert attrs(start, "circuit_breaker.name", "circuit_breaker.state") == {
            "circuit_breaker.name": "payments",
            "circuit_breaker.state": "closed",
        }
        assert success.name == taxonomy.CIRCUIT_BREAKER_CALL_SUCCESS
        assert success.attributes["duration"] >= 0
        outcome = {"circuit_breaker.outcome": "success"}
        assert metric_sum(breakers, "foundation.circuit_breaker.calls", outcome) == 1

    def test_a_failure_reports_the_error_and_the_failure_count(self, breakers):
        """call_failure carries error.type and pybreaker's consecutive failure count."""
        breaker = pybreaker.CircuitBreaker(fail_max=5, name="payments")

        for _ in range(2):
            with pytest.raises(ConnectionError):
                breaker.call(fail)

        failures = breakers.events(taxonomy.CIRCUIT_BREAKER_CALL_FAILURE)
        assert [attrs(event, "error.type", "failure_count") for event in failures] == [
            {"error.type": "ConnectionError", "failure_count": 1},
            {"error.type": "ConnectionError", "failure_count": 2},
        ]

    def test_an_excluded_exception_counts_as_success(self, breakers):
        """Business errors listed in ``exclude=`` are reported as pybreaker treats them."""
        breaker = pybreaker.CircuitBreaker(exclude=[KeyError], name="lookups")

        with pytest.raises(KeyError):
            breaker.call(lambda: {}["missing"])

        assert _names(breakers) == ["call_start", "call_success"]

    def test_the_state_gauge_starts_at_closed(self, breakers):
        """A new breaker publishes 1 for closed and 0 for the other states."""
        pybreaker.CircuitBreaker(name="fresh")

        assert _state_gauge(breakers, "fresh") == {"closed": 1, "open": 0, "half-open": 0}


class TestOpeningAndRejecting:
    def test_reaching_fail_max_opens_the_breaker(self, breakers):
        """The tripping failure is followed by a closed -> open state change."""
        breaker = pybreaker.CircuitBreaker(
            fail_max=2, reset_timeout=OPEN_FOR_A_LONG_TIME, name="payments"
        )

        _trip(breaker)

        assert _names(breakers) == [
            "call_start",
            "call_failure",
            "call_start",
            "call_failure",
            "state_change",
        ]
        (change,) = breakers.events(taxonomy.CIRCUIT_BREAKER_STATE_CHANGE)
        assert attrs(change, "from_state", "to_state") == {
            "from_state": "closed",
            "to_state": "open",
        }
        assert _state_gauge(breakers, "payments") == {"closed": 0, "open": 1, "half-open": 0}

    def test_calls_refused_while_open_are_rejected_not_started(self, breakers):
        """While open, calls never run: each is one ``rejected`` event and no call_start."""
        breaker = pybreaker.CircuitBreaker(
            fail_max=1, reset_timeout=OPEN_FOR_A_LONG_TIME, name="payments"
        )
        _trip(breaker)
        ran: list[str] = []

        with breakers.capture_telemetry() as captured:
            for _ in range(3):
                with pytest.raises(pybreaker.CircuitBreakerError):
                    breaker.call(lambda: ran.append("ran"))

        assert ran == []
        rejected = captured.events("foundation.circuit_breaker.*")
        assert [event.name for event in rejected] == [taxonomy.CIRCUIT_BREAKER_REJECTED] * 3
        assert rejected[0].attributes["circuit_breaker.state"] == "open"
        outcome = {"circuit_breaker.outcome": "rejected"}
        assert metric_sum(breakers, "foundation.circuit_breaker.calls", outcome) == 3

    def test_the_tripping_call_is_not_a_rejection(self, breakers):
        """The CircuitBreakerError raised by the call that trips the breaker is a failure."""
        breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=OPEN_FOR_A_LONG_TIME)

        with pytest.raises(pybreaker.CircuitBreakerError):
            breaker.call(fail)

        assert breakers.events(taxonomy.CIRCUIT_BREAKER_REJECTED) == []
        (failure,) = breakers.events(taxonomy.CIRCUIT_BREAKER_CALL_FAILURE)
        assert failure.attributes["circuit_breaker.name"] == "unnamed"


class TestHalfOpen:
    def test_a_successful_trial_closes_the_breaker(self, breakers):
        """open -> half-open on the trial call, then half-open -> closed when it succeeds."""
        breaker = pybreaker.CircuitBreaker(
            fail_max=1, reset_timeout=OPEN_FOR_A_LONG_TIME, name="payments"
        )
        _trip(breaker)
        breaker.reset_timeout = 0

        with breakers.capture_telemetry() as captured:
            assert breaker.call(succeed) == "ok"

        events = captured.events("foundation.circuit_breaker.*")
        assert [
            (event.name.rsplit(".", 1)[1], attrs(event, "to_state", "circuit_breaker.state"))
            for event in events
        ] == [
            ("state_change", {"to_state": "half-open"}),
            ("call_start", {"circuit_breaker.state": "half-open"}),
            ("state_change", {"to_state": "closed"}),
            ("call_success", {"circuit_breaker.state": "closed"}),
        ]
        assert _state_gauge(breakers, "payments") == {"closed": 1, "open": 0, "half-open": 0}

    def test_a_failed_trial_opens_it_again(self, breakers):
        """A failing trial call goes half-open -> open and is a failure, not a rejection."""
        breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=OPEN_FOR_A_LONG_TIME)
        _trip(breaker)
        breaker.reset_timeout = 0

        with (
            breakers.capture_telemetry() as captured,
            pytest.raises(pybreaker.CircuitBreakerError),
        ):
            breaker.call(fail)

        changes = captured.events(taxonomy.CIRCUIT_BREAKER_STATE_CHANGE)
        assert [(c.attributes["from_state"], c.attributes["to_state"]) for c in changes] == [
            ("open", "half-open"),
            ("half-open", "open"),
        ]
        assert captured.events(taxonomy.CIRCUIT_BREAKER_REJECTED) == []


class TestCallStyles:
    def test_the_calling_context_manager_reports_the_block(self, breakers):
        """``with breaker.calling():`` reports the block's outcome and duration."""
        breaker = pybreaker.CircuitBreaker(name="block")

        with breaker.calling():
            pass
        with pytest.raises(ConnectionError), breaker.calling():
            fail()

        assert _names(breakers) == ["call_start", "call_success", "call_start", "call_failure"]
        ended = [
            *breakers.events(taxonomy.CIRCUIT_BREAKER_CALL_SUCCESS),
            *breakers.events(taxonomy.CIRCUIT_BREAKER_CALL_FAILURE),
        ]
        assert len(ended) == 2
        assert all(event.attributes["duration"] >= 0 for event in ended)

    def test_the_decorator_is_reported(self, breakers):
        """A function decorated with the breaker goes through the same call path."""
        breaker = pybreaker.CircuitBreaker(name="decorated")

        @breaker
        def guarded() -> str:
            return "ok"

        assert guarded() == "ok"
        assert _names(breakers) == ["call_start", "call_success"]

    def test_a_breaker_made_before_instrumenting_is_picked_up_on_its_next_call(self, telemetry):
        """Breakers created earlier get the listener on their first instrumented call."""
        breaker = pybreaker.CircuitBreaker(name="early")
        instrumentor = PyBreakerInstrumentor()
        instrumentor.instrument()
        try:
            breaker.call(succeed)
        finally:
            instrumentor.uninstrument()

        assert _names(telemetry) == ["call_start", "call_success"]
        assert breaker.listeners == ()

    def test_the_users_own_listeners_keep_working(self, breakers):
        """A listener of the application hears the same calls as ours."""
        heard: list[str] = []

        class Listener(pybreaker.CircuitBreakerListener):
            def success(self, cb: pybreaker.CircuitBreaker) -> None:
                heard.append("success")

        breaker = pybreaker.CircuitBreaker(listeners=[Listener()])
        breaker.call(succeed)

        assert heard == ["success"]
        assert _names(breakers) == ["call_start", "call_success"]


class TestConcurrency:
    def test_concurrent_calls_are_each_reported_once(self, breakers):
        """From many threads, every call is either started (then ended) or rejected, once."""
        breaker = pybreaker.CircuitBreaker(fail_max=3, reset_timeout=0, name="shared")
        threads, calls_per_thread = 8, 50
        start = threading.Barrier(threads)

        def run(seed: int) -> None:
            start.wait()
            for call in range(calls_per_thread):
                with contextlib.suppress(ConnectionError, pybreaker.CircuitBreakerError):
                    breaker.call(fail if (seed + call) % 3 == 0 else succeed)

        workers = [threading.Thread(target=run, args=(seed,)) for seed in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)

        names = Counter(_names(breakers))
        assert names["call_start"] + names["rejected"] == threads * calls_per_thread
        assert names["call_success"] + names["call_failure"] == names["call_start"]
