"""The alert value type: what notifiers receive and the service's alerts are made of.

:class:`Alert` lives apart from the alerting state machine (``_alerting``) so that delivery
(``_delivery``) and the notifiers (``_notifiers``) can use it without importing the orchestrator
that imports them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, final

__all__ = ["Alert", "Reason"]

Reason = Literal["fired", "escalated", "repeated", "resolved"]
"""Why a notification was made."""


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
