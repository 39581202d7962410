"""Alert evaluation: for-durations, deduplication, escalation, resolution.

:class:`Alerter` keeps one state machine per rule, advanced once per collection with the time of
the service clock: a condition that starts to hold makes the rule *pending*; once it has held for
``for_`` the alert *fires* (one notification and one ``foundation.alert.fired`` event); while it
keeps holding nothing is sent again (deduplication) unless the rule asks for a repeat
(``repeat_every``) or an escalation (``escalate_after``/``escalate_after_count``: severity one
step up, notified and emitted again); when it stops holding (or the metric is gone) the alert
*resolves* (notified, ``foundation.alert.resolved``). The notifications go to a
:class:`~._delivery.Dispatcher`, which delivers them off the collection thread.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, final

from .. import taxonomy
from ..defensive._ledger import SkipReason, count_skip
from ..events import emit
from ..taxonomy import Attr
from ._delivery import Dispatcher
from ._notifiers import Notifier
from ._rules import AlertRule

__all__ = ["Alert", "Alerter", "Outcome"]

_EVENTS = "service.alerting"
Reason = Literal["fired", "escalated", "repeated", "resolved"]


@final
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
