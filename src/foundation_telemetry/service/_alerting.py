"""Alert evaluation and delivery: for-durations, deduplication, escalation, resolution.

:class:`Alerter` keeps one state machine per rule, advanced once per collection with the time of
the service clock: a condition that starts to hold makes the rule *pending*; once it has held for
``for_`` the alert *fires* (one notification and one ``foundation.alert.fired`` event); while it
keeps holding nothing is sent again (deduplication) unless the rule asks for a repeat
(``repeat_every``) or an escalation (``escalate_after``/``escalate_after_count``: severity one
step up, notified and emitted again); when it stops holding (or the metric is gone) the alert
*resolves* (notified, ``foundation.alert.resolved``). :class:`Dispatcher` delivers notifications
on its own thread so a slow webhook never holds up collection; a failed delivery is counted as a
skip and retried on the next evaluations, up to ``max_attempts``.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .. import taxonomy
from .._health import SkipReason, count_skip
from ..events import emit
from ..taxonomy import Attr
from ._notifiers import Notifier, NotifierError, notifier_name
from ._rules import AlertRule

__all__ = ["Alert", "Alerter", "Dispatcher", "Outcome"]

_logger = logging.getLogger("foundation_telemetry.service")
_NOTIFIER = "service.notifier"
_EVENTS = "service.alerting"
Reason = Literal["fired", "escalated", "repeated", "resolved"]


@dataclass(frozen=True, slots=True)
class Alert:
    """One notification about an alert (times are seconds on the service clock).

    Attributes:
        rule: the rule's name.
        metric: the metric it watches.
        condition: the condition text.
        severity: the current severity (raised by escalation).
        reason: ``"fired"``, ``"escalated"``, ``"repeated"`` or ``"resolved"``.
        value: the aggregate (or anomaly score) that was measured.
        threshold: the condition's threshold (the score threshold for anomalies).
        started_at: when the alert fired.
        at: when this notification was made.
        resolved_at: when it resolved, for a resolution.
        escalations: how many times it has escalated.
        notification: 1 for the first notification of this alert, then 2, 3, ...
        attributes: the rule's attribute filter.
        labels: the rule's labels.
        fingerprint: stable id of this alert occurrence (rule and start time).
    """

    rule: str
    metric: str
    condition: str
    severity: str
    reason: Reason
    value: float
    threshold: float
    started_at: float
    at: float
    resolved_at: float | None = None
    escalations: int = 0
    notification: int = 1
    attributes: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def resolved(self) -> bool:
        """Whether this notification says the alert is over."""
        return self.reason == "resolved"

    @property
    def firing(self) -> bool:
        """Whether the alert is active at this notification."""
        return not self.resolved

    def summary(self) -> str:
        """Return a one-line human summary."""
        state = "resolved" if self.resolved else f"{self.reason} [{self.severity}]"
        return f"alert {self.rule!r} {state}: {self.metric} {self.condition} (value={self.value:g})"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the webhook body)."""
        return {
            "rule": self.rule,
            "metric": self.metric,
            "condition": self.condition,
            "severity": self.severity,
            "reason": self.reason,
            "status": "resolved" if self.resolved else "firing",
            "value": None if math.isnan(self.value) else self.value,
            "threshold": None if math.isnan(self.threshold) else self.threshold,
            "started_at": self.started_at,
            "at": self.at,
            "resolved_at": self.resolved_at,
            "escalations": self.escalations,
            "notification": self.notification,
            "attributes": dict(self.attributes),
            "labels": dict(self.labels),
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """One evaluation of a rule: whether its condition holds, and the measured value."""

    holds: bool
    value: float


class _Job:
    __slots__ = ("alert", "attempts", "notifier")

    def __init__(self, notifier: Notifier, alert: Alert) -> None:
        self.notifier = notifier
        self.alert = alert
        self.attempts = 0


class Dispatcher:
    """Deliver alerts to notifiers on one background thread, with containment and retries."""

    def __init__(self, max_attempts: int = 3) -> None:
        self.max_attempts = max_attempts
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._retry: list[_Job] = []
        self._idle = threading.Condition()
        self._outstanding = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self.stats: dict[str, dict[str, int]] = {}

    def _stat(self, name: str, key: str) -> None:
        entry = self.stats.setdefault(name, {"delivered": 0, "failed": 0, "given_up": 0})
        entry[key] += 1

    def dispatch(self, deliveries: Sequence[tuple[Notifier, Alert]]) -> None:
        """Queue *deliveries* and the retries left over from earlier cycles."""
        with self._idle:
            if self._closed:
                for notifier, _ in deliveries:
                    count_skip(_NOTIFIER, SkipReason.SHUTDOWN, item=notifier_name(notifier))
                return
            jobs = self._retry + [_Job(n, a) for n, a in deliveries]
            self._retry = []
            if not jobs:
                return
            self._outstanding += len(jobs)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="foundation-telemetry-alerts", daemon=True
                )
                self._thread.start()
        for job in jobs:
            self._queue.put(job)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._deliver(job)
            finally:
                with self._idle:
                    self._outstanding -= 1
                    if self._outstanding == 0:
                        self._idle.notify_all()

    def _deliver(self, job: _Job) -> None:
        name = notifier_name(job.notifier)
        job.attempts += 1
        try:
            job.notifier(job.alert)
        except Exception as error:  # noqa: BLE001 - a notifier must never break alerting
            reason = (
                SkipReason.BACKEND_UNAVAILABLE
                if isinstance(error, NotifierError | OSError)
                else SkipReason.UNEXPECTED
            )
            count_skip(_NOTIFIER, reason, item=name, error=error)
            with self._idle:
                self._stat(name, "failed")
                if job.attempts < self.max_attempts and not self._closed:
                    self._retry.append(job)
                    return
                self._stat(name, "given_up")
            _logger.warning(
                "Notifier %s gave up on %s after %d attempt(s): %s",
                name,
                job.alert.summary(),
                job.attempts,
                error,
            )
        else:
            with self._idle:
                self._stat(name, "delivered")

    def reset_after_fork(self) -> None:
        """Forget the parent's worker thread and queue in a forked child (retries are kept)."""
        self._queue = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._outstanding = 0
        self._thread = None

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        """Return ``{notifier: {"delivered", "failed", "given_up"}}`` (a copy)."""
        with self._idle:
            return {name: dict(counts) for name, counts in self.stats.items()}

    @property
    def pending_retries(self) -> int:
        """How many deliveries wait for the next evaluation to be retried."""
        with self._idle:
            return len(self._retry)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued delivery was attempted; ``False`` if *timeout* passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop after the queued deliveries (bounded by *timeout*); later ones are skipped."""
        self.flush(timeout)
        with self._idle:
            self._closed = True
            dropped, self._retry = self._retry, []
            thread = self._thread
        for job in dropped:
            count_skip(_NOTIFIER, SkipReason.SHUTDOWN, item=notifier_name(job.notifier))
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)


class _RuleState:
    __slots__ = (
        "active",
        "evaluations",
        "last_notified",
        "last_step",
        "notifiers",
        "pending",
        "rule",
    )

    def __init__(self, rule: AlertRule, notifiers: tuple[Notifier, ...]) -> None:
        self.rule = rule
        self.notifiers = notifiers
        self.pending: float | None = None
        self.active: Alert | None = None
        self.evaluations = 0
        self.last_step = 0.0
        self.last_notified = 0.0


def _emit_event(alert: Alert) -> None:
    # Keys from the taxonomy where it names them (alert.name, severity, value, threshold).
    name = taxonomy.ALERT_RESOLVED if alert.resolved else taxonomy.ALERT_FIRED
    labels = {f"alert.label.{key}": value for key, value in alert.labels.items()}
    emit(
        name,
        {Attr.VALUE: alert.value, Attr.THRESHOLD: alert.threshold},
        **{
            Attr.ALERT_NAME: alert.rule,
            Attr.SEVERITY: alert.severity,
            Attr.REASON: alert.reason,
            "alert.metric": alert.metric,
            "alert.condition": alert.condition,
            "alert.fingerprint": alert.fingerprint,
            "alert.escalations": alert.escalations,
        },
        **labels,
    )


class Alerter:
    """The rules of one service and their states; :meth:`evaluate` advances them all."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.default_notifiers: tuple[Notifier, ...] = ()
        self._states: dict[str, _RuleState] = {}
        self._lock = threading.RLock()

    def reset_after_fork(self) -> None:
        """Give a forked child a fresh lock and dispatcher state."""
        self._lock = threading.RLock()
        self.dispatcher.reset_after_fork()

    def add(self, rule: AlertRule, notifiers: Sequence[Notifier]) -> None:
        """Add *rule*; refuse a duplicate name."""
        if not isinstance(rule, AlertRule):
            msg = f"`rule` must be an AlertRule, got {rule!r}."
            raise TypeError(msg)
        rule.validate()
        for notifier in notifiers:
            if not callable(notifier):
                msg = f"A notifier must be callable with an Alert, got {notifier!r}."
                raise TypeError(msg)
        with self._lock:
            if rule.name in self._states:
                msg = f"A rule named {rule.name!r} is already added; remove it first or rename it."
                raise ValueError(msg)
            self._states[rule.name] = _RuleState(rule, tuple(notifiers))

    def remove(self, name: str) -> bool:
        """Remove the rule *name* (its active alert is dropped without notification)."""
        with self._lock:
            return self._states.pop(name, None) is not None

    def rules(self) -> list[AlertRule]:
        """Return the rules, in the order they were added."""
        with self._lock:
            return [state.rule for state in self._states.values()]

    def active(self) -> list[Alert]:
        """Return the alerts that are firing now."""
        with self._lock:
            return [s.active for s in self._states.values() if s.active is not None]

    def evaluate(self, measure: Callable[[AlertRule], Outcome | None], now: float) -> list[Alert]:
        """Advance every rule with *measure* at *now*; dispatch and return the notifications.

        The events are not emitted here; pass the result to :meth:`publish`.
        """
        deliveries: list[tuple[Notifier, Alert]] = []
        notices: list[Alert] = []
        with self._lock:
            for state in self._states.values():
                try:
                    outcome = measure(state.rule)
                except Exception as error:  # noqa: BLE001 - one bad rule must not stop the rest
                    count_skip(_EVENTS, SkipReason.UNEXPECTED, item=state.rule.name, error=error)
                    continue
                notice = self._advance(state, outcome, now)
                if notice is not None:
                    notices.append(notice)
                    for notifier in state.notifiers or self.default_notifiers:
                        deliveries.append((notifier, notice))
        self.dispatcher.dispatch(deliveries)
        return notices

    @staticmethod
    def publish(notices: Sequence[Alert]) -> None:
        """Emit the alert events of *notices* (repeats are reminders, not events).

        Call it outside any lock: event handlers run synchronously and may call back into the
        service (a handler that flushes it, for instance).
        """
        for notice in notices:
            if notice.reason != "repeated":
                _emit_event(notice)

    def _advance(self, state: _RuleState, outcome: Outcome | None, now: float) -> Alert | None:
        rule, active = state.rule, state.active
        if outcome is None or not outcome.holds:
            state.pending = None
            if active is None:
                return None
            state.active = None
            value = active.value if outcome is None else outcome.value
            return replace(
                active,
                reason="resolved",
                value=value,
                at=now,
                resolved_at=now,
                notification=active.notification + 1,
            )
        if active is None:
            if state.pending is None:
                state.pending = now
            if now - state.pending < rule.for_seconds:
                return None
            fired = Alert(
                rule=rule.name,
                metric=rule.metric,
                condition=rule.condition,
                severity=rule.severity,
                reason="fired",
                value=outcome.value,
                threshold=rule.parsed.threshold,
                started_at=now,
                at=now,
                attributes=dict(rule.attributes or {}),
                labels=dict(rule.labels or {}),
                fingerprint=f"{rule.name}@{now:.6f}",
            )
            state.active, state.evaluations = fired, 0
            state.last_step = state.last_notified = now
            return fired
        state.evaluations += 1
        current = replace(active, value=outcome.value, at=now)
        state.active = current
        if self._due_escalation(state, now):
            raised = rule.escalated_severity(current.severity)
            if raised != current.severity:
                state.active = replace(
                    current,
                    reason="escalated",
                    severity=raised,
                    escalations=current.escalations + 1,
                    notification=current.notification + 1,
                )
                state.evaluations = 0
                state.last_step = state.last_notified = now
                return state.active
        repeat = rule.repeat_seconds
        if repeat is not None and now - state.last_notified >= repeat:
            state.active = replace(
                current, reason="repeated", notification=current.notification + 1
            )
            state.last_notified = now
            return state.active
        return None

    @staticmethod
    def _due_escalation(state: _RuleState, now: float) -> bool:
        rule = state.rule
        by_time = (
            rule.escalate_seconds is not None and now - state.last_step >= rule.escalate_seconds
        )
        by_count = (
            rule.escalate_after_count is not None and state.evaluations >= rule.escalate_after_count
        )
        return by_time or by_count
