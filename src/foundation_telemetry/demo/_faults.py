"""The demo's fault plan: which failures to inject at which point of the run, seeded.

The run is cut into phases by the fraction of ``--duration`` that has elapsed, so a 3-second test
run and a 5-minute compose run tell the same story: a warm-up with occasional payment errors
(retries absorb most of them), a payment outage (retries exhaust, the breaker opens and rejects,
the alert fires), recovery (the breaker half-opens and closes, the alert resolves), a traffic
burst on a slower database that exhausts the connection pool, then a steady tail. Every random
draw comes from one seeded generator, so runs with the same seed make the same choices.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["PHASES", "FaultPlan", "Phase"]


@dataclass(frozen=True, slots=True)
class Phase:
    """A stretch of the run: from *start* (a fraction of the duration) on, until the next one."""

    name: str
    start: float
    payment_failure_rate: float
    db_hold_factor: float = 1.0
    orders_per_worker: int = 1


PHASES: Final = (
    Phase("warm-up", 0.0, payment_failure_rate=0.15),
    Phase("payment outage", 0.2, payment_failure_rate=1.0),
    Phase("recovery", 0.45, payment_failure_rate=0.03),
    Phase("burst", 0.7, payment_failure_rate=0.03, db_hold_factor=4.0, orders_per_worker=3),
    Phase("steady", 0.8, payment_failure_rate=0.03),
)

_OUTAGE_END: Final = next(p.start for p in PHASES if p.name == "recovery")
_MAX_HOLD: Final = 0.5  # the longest outage extension, as a fraction of the duration


class FaultPlan:
    """Answers "what goes wrong now?" for the demo's dependencies.

    The outage lasts until *outage_seen* says its effects were observed (the alert fired), so a
    slow or loaded machine gets a longer outage instead of a run that shows nothing; the phases
    after it move later by the same amount. The extension is capped at half the *duration*
    (so the default 15-second run stays within 30 seconds, grace included).

    Args:
        duration: the planned run length in seconds.
        seed: seeds every random draw.
        clock: seconds since the run started (monotonic).
        outage_seen: returns True once the outage may end; ``None``: end it on schedule.
    """

    def __init__(
        self,
        duration: float,
        seed: int,
        clock: Callable[[], float],
        outage_seen: Callable[[], bool] | None = None,
    ) -> None:
        self.duration = duration
        self._random = random.Random(seed)
        self._clock = clock
        self._outage_seen = outage_seen
        self._held = 0.0
        self._lock = threading.Lock()

    @property
    def held(self) -> float:
        """Seconds the outage was extended beyond its schedule."""
        return self._held

    def progress(self) -> float:
        """Seconds of the planned run done (elapsed time minus the outage extension)."""
        return self._clock() - self._held

    def phase(self) -> Phase:
        """Return the phase the run is in now."""
        with self._lock:
            now = self._clock()
            fraction = (now - self._held) / self.duration
            if (
                fraction >= _OUTAGE_END
                and self._outage_seen is not None
                and not self._outage_seen()
                and now - _OUTAGE_END * self.duration < _MAX_HOLD * self.duration
            ):
                self._held = now - _OUTAGE_END * self.duration
                fraction = _OUTAGE_END - 1e-9
        current = PHASES[0]
        for phase in PHASES:
            if fraction >= phase.start:
                current = phase
        return current

    def payment_fails(self) -> bool:
        """Draw whether the next payment call fails."""
        return self._random.random() < self.phase().payment_failure_rate

    def uniform(self, low: float, high: float) -> float:
        """Draw a number in ``[low, high]`` (latencies, think times)."""
        return self._random.uniform(low, high)
