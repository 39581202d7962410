"""The fault plan: phases by elapsed fraction of the run, and seeded draws."""

from __future__ import annotations

from foundation_telemetry.demo._faults import PHASES, FaultPlan


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestFaultPlan:
    def test_phases_follow_the_fraction_of_the_duration(self):
        """The same story at any duration: warm-up, outage, recovery, burst, steady."""
        clock = FakeClock()
        plan = FaultPlan(10.0, seed=1, clock=clock)
        seen = []
        for tenths in range(10):
            clock.now = tenths
            seen.append(plan.phase().name)

        assert seen == [
            "warm-up",
            "warm-up",
            "payment outage",
            "payment outage",
            "payment outage",
            "recovery",
            "recovery",
            "burst",
            "steady",
            "steady",
        ]
        assert [phase.name for phase in PHASES] == list(dict.fromkeys(seen))

    def test_the_outage_fails_every_payment(self):
        """During the outage no payment succeeds."""
        clock = FakeClock()
        plan = FaultPlan(10.0, seed=1, clock=clock)
        clock.now = 3.0

        assert all(plan.payment_fails() for _ in range(100))

    def test_the_same_seed_makes_the_same_choices(self):
        """Two plans with one seed draw the same failures and latencies."""
        first, second = FaultPlan(10.0, 42, FakeClock()), FaultPlan(10.0, 42, FakeClock())

        assert [first.payment_fails() for _ in range(50)] == [
            second.payment_fails() for _ in range(50)
        ]
        assert first.uniform(0, 1) == second.uniform(0, 1)

    def test_the_outage_holds_until_its_effect_was_seen(self):
        """Without the alert the outage goes on; once seen, later phases move by the delay."""
        clock = FakeClock()
        seen = False
        plan = FaultPlan(10.0, seed=1, clock=clock, outage_seen=lambda: seen)

        clock.now = 6.0
        assert plan.phase().name == "payment outage"
        assert plan.held == 1.5
        seen = True
        clock.now = 6.1
        assert plan.phase().name == "recovery"
        assert plan.progress() == 4.6
        clock.now = 1.5 + 7.0
        assert plan.phase().name == "burst"

    def test_the_hold_is_capped_at_half_the_duration(self):
        """An alert that never fires cannot keep the demo in its outage forever."""
        clock = FakeClock()
        plan = FaultPlan(10.0, seed=1, clock=clock, outage_seen=lambda: False)

        clock.now = 9.0
        assert plan.phase().name == "payment outage"
        clock.now = 9.6
        assert plan.phase().name == "recovery"
        assert plan.held < 5.0
