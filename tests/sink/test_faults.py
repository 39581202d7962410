"""The fault plan: counts, durations on an injected clock, signal filters and precedence."""

from __future__ import annotations

import pytest

from foundation_telemetry.sink import Faults
from foundation_telemetry.sink._decode import Signal
from foundation_telemetry.sink._faults import Action, Verdict


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestCounts:
    def test_nothing_armed_accepts(self) -> None:
        """With no fault armed every request is accepted untouched."""
        assert Faults().next_verdict(Signal.TRACES) == Verdict()

    def test_unavailable_for_n_requests(self) -> None:
        """unavailable(2) refuses exactly two requests."""
        faults = Faults()
        faults.unavailable(2, retry_after=0.5)
        verdicts = [faults.next_verdict(Signal.TRACES) for _ in range(3)]
        assert [v.action for v in verdicts] == [Action.UNAVAILABLE] * 2 + [Action.ACCEPT]
        assert verdicts[0].retry_after == 0.5
        assert not faults.armed

    def test_until_cleared(self) -> None:
        """Without requests or duration a fault stays until clear()."""
        faults = Faults()
        faults.drop_connections(None)
        assert all(faults.next_verdict(Signal.LOGS).action is Action.DROP for _ in range(5))
        faults.clear()
        assert faults.next_verdict(Signal.LOGS).action is Action.ACCEPT


class TestDuration:
    def test_unavailable_for_a_duration(self) -> None:
        """A duration fault refuses until its window ends on the injected clock."""
        clock = FakeClock()
        faults = Faults(clock)
        faults.unavailable(duration=5)
        assert faults.next_verdict(Signal.TRACES).action is Action.UNAVAILABLE
        clock.now += 4.9
        assert faults.next_verdict(Signal.TRACES).action is Action.UNAVAILABLE
        clock.now += 0.1
        assert faults.next_verdict(Signal.TRACES).action is Action.ACCEPT
        assert not faults.armed

    def test_delay_adds_up_and_combines_with_refusal(self) -> None:
        """Delays add up, and apply to refused requests too."""
        faults = Faults()
        faults.delay(0.25, requests=1)
        faults.delay(0.5, requests=1)
        faults.unavailable(1)
        assert faults.next_verdict(Signal.TRACES) == Verdict(Action.UNAVAILABLE, 0.75)
        assert faults.next_verdict(Signal.TRACES) == Verdict()


class TestSelection:
    def test_signal_filter(self) -> None:
        """A fault for traces leaves metrics alone and is not used up by them."""
        faults = Faults()
        faults.unavailable(1, signal="traces")
        assert faults.next_verdict(Signal.METRICS).action is Action.ACCEPT
        assert faults.next_verdict(Signal.TRACES).action is Action.UNAVAILABLE

    def test_refusal_wins_over_partial_success_which_waits(self) -> None:
        """A refused request does not use up an armed partial success."""
        faults = Faults()
        faults.partial_success(3)
        faults.unavailable(1)
        assert faults.next_verdict(Signal.TRACES).action is Action.UNAVAILABLE
        assert faults.next_verdict(Signal.TRACES).reject == 3
        assert faults.next_verdict(Signal.TRACES).reject == 0


class TestArguments:
    @pytest.mark.parametrize(
        ("arm", "message"),
        [
            (lambda f: f.unavailable(0), "requests"),
            (lambda f: f.unavailable(duration=0), "duration"),
            (lambda f: f.unavailable(retry_after=-1), "retry_after"),
            (lambda f: f.delay(-1), "seconds"),
            (lambda f: f.partial_success(0), "rejected"),
            (lambda f: f.drop_connections(signal="spans"), "signal"),
        ],
    )
    def test_bad_arguments_raise(self, arm, message: str) -> None:
        """Out-of-range fault arguments raise ValueError naming the argument."""
        with pytest.raises(ValueError, match=message):
            arm(Faults())

    def test_repr_lists_armed_faults(self) -> None:
        """The repr shows which faults are armed."""
        faults = Faults()
        faults.delay(1)
        assert repr(faults) == "Faults(armed=['delay'])"
