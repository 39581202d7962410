"""Fault plans for chaos tests: what the sink does to the next export requests.

A test arms faults on ``sink.faults`` (answer UNAVAILABLE / 503 for N requests or for a while,
delay responses, accept only part of a request, drop the connection); both transports ask the
same plan what to do with every export request, so a fault means the same thing over gRPC and
HTTP. Outages of the whole listener (stop and restart on the same ports) live on the Sink itself.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import final

from ._decode import Signal

__all__ = ["Action", "Faults", "Verdict"]

_SIGNAL_NAMES = {"traces": Signal.TRACES, "metrics": Signal.METRICS, "logs": Signal.LOGS}


class Action(enum.Enum):
    """What a transport does with a request after any delay."""

    ACCEPT = "accept"
    UNAVAILABLE = "unavailable"
    DROP = "drop"


@dataclass(frozen=True)
class Verdict:
    """The plan's answer for one request."""

    action: Action = Action.ACCEPT
    delay: float = 0.0
    reject: int = 0
    message: str = ""
    retry_after: float | None = None


@dataclass
class _Rule:
    kind: str
    signal: Signal | None
    remaining: int | None
    until: float | None
    seconds: float = 0.0
    reject: int = 0
    message: str = ""
    retry_after: float | None = None
    hits: int = field(default=0)

    def applies(self, signal: Signal, now: float) -> bool:
        if self.signal is not None and self.signal is not signal:
            return False
        if self.until is not None and now >= self.until:
            return False
        return self.remaining is None or self.remaining > 0

    def expired(self, now: float) -> bool:
        return (self.remaining is not None and self.remaining <= 0) or (
            self.until is not None and now >= self.until
        )


@final
class Faults:
    """The sink's fault plan; every method arms a fault and returns at once.

    Faults without ``requests`` or ``duration`` stay armed until `clear()`. ``signal`` limits a
    fault to ``"traces"``, ``"metrics"`` or ``"logs"`` (a periodic metric reader would otherwise
    use up a fault meant for spans). Thread-safe.

    .. versionadded:: 0.1.0
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []

    def unavailable(
        self,
        requests: int | None = None,
        *,
        duration: float | None = None,
        retry_after: float | None = None,
        signal: str | None = None,
    ) -> None:
        """Answer UNAVAILABLE (gRPC) / 503 (HTTP) to the next *requests*, or for *duration* s.

        ``retry_after`` (seconds) is sent as gRPC ``RetryInfo`` and HTTP ``Retry-After``; the OTLP
        exporters honour it instead of their own backoff.
        """
        if retry_after is not None and retry_after < 0:
            msg = f"`retry_after` must be >= 0 seconds, got {retry_after!r}."
            raise ValueError(msg)
        self._arm("unavailable", requests, duration, signal, retry_after=retry_after)

    def delay(
        self,
        seconds: float,
        *,
        requests: int | None = None,
        duration: float | None = None,
        signal: str | None = None,
    ) -> None:
        """Hold each of the next *requests* (or those within *duration*) for *seconds* first."""
        if seconds < 0:
            msg = f"`seconds` must be >= 0, got {seconds!r}."
            raise ValueError(msg)
        self._arm("delay", requests, duration, signal, seconds=seconds)

    def partial_success(
        self,
        rejected: int,
        *,
        requests: int | None = 1,
        message: str = "rejected by fault injection",
        signal: str | None = None,
    ) -> None:
        """Accept the next *requests* but reject their last *rejected* items (OTLP partial success).

        Rejected items are not stored; the response says how many were rejected and why.
        """
        if rejected < 1:
            msg = f"`rejected` must be >= 1, got {rejected!r}."
            raise ValueError(msg)
        self._arm("partial", requests, None, signal, reject=rejected, message=message)

    def drop_connections(self, requests: int | None = 1, *, signal: str | None = None) -> None:
        """Close the connection of the next *requests* without answering (gRPC: cancel the call)."""
        self._arm("drop", requests, None, signal)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._rules.clear()

    @property
    def armed(self) -> bool:
        """Whether any fault is still armed."""
        now = self._clock()
        with self._lock:
            return any(not rule.expired(now) for rule in self._rules)

    def describe(self) -> str:
        """One line naming the armed faults (``"none"`` when nothing is armed)."""
        now = self._clock()
        with self._lock:
            rules = [rule for rule in self._rules if not rule.expired(now)]
        if not rules:
            return "none"
        parts = []
        for rule in rules:
            scope = rule.signal.name.lower() if rule.signal is not None else "every signal"
            left = (
                "until cleared" if rule.remaining is None else f"{rule.remaining} request(s) left"
            )
            parts.append(f"{rule.kind} on {scope} ({left}, {rule.hits} hit)")
        return "; ".join(parts)

    def next_verdict(self, signal: Signal) -> Verdict:
        """Consume the armed faults that apply to one *signal* request and say what to do."""
        now = self._clock()
        with self._lock:
            live = [rule for rule in self._rules if rule.applies(signal, now)]
            delays = [rule for rule in live if rule.kind == "delay"]
            refusal = next((rule for rule in live if rule.kind in ("unavailable", "drop")), None)
            partial = None
            if refusal is None:
                partial = next((rule for rule in live if rule.kind == "partial"), None)
            for rule in (*delays, refusal, partial):
                if rule is not None:
                    rule.hits += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
            self._rules = [rule for rule in self._rules if not rule.expired(now)]
        delay = sum(rule.seconds for rule in delays)
        if refusal is not None:
            action = Action.UNAVAILABLE if refusal.kind == "unavailable" else Action.DROP
            return Verdict(action, delay, retry_after=refusal.retry_after)
        if partial is not None:
            return Verdict(Action.ACCEPT, delay, partial.reject, partial.message)
        return Verdict(Action.ACCEPT, delay)

    def _arm(
        self,
        kind: str,
        requests: int | None,
        duration: float | None,
        signal: str | None,
        **details: float | int | str | None,
    ) -> None:
        if requests is not None and requests < 1:
            msg = f"`requests` must be >= 1 (or None for 'until cleared'), got {requests!r}."
            raise ValueError(msg)
        if duration is not None and duration <= 0:
            msg = f"`duration` must be > 0 seconds, got {duration!r}."
            raise ValueError(msg)
        if signal is not None and signal not in _SIGNAL_NAMES:
            msg = f"`signal` must be one of {sorted(_SIGNAL_NAMES)} or None, got {signal!r}."
            raise ValueError(msg)
        until = None if duration is None else self._clock() + duration
        rule = _Rule(kind, _SIGNAL_NAMES.get(signal or ""), requests, until, **details)  # type: ignore[arg-type]
        with self._lock:
            self._rules.append(rule)

    def __repr__(self) -> str:
        with self._lock:
            kinds = [rule.kind for rule in self._rules]
        return f"Faults(armed={kinds})"
