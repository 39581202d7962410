"""Alert rules: the readable condition language and the validated :class:`AlertRule`.

A condition is ``<aggregate>[<window>] <op> <number>`` (``"p99 > 0.5"``, ``"rate[5m] < 1"``,
``"p99.9 >= 2e-3"``) or an anomaly check (``"anomaly"``, ``"anomaly(ewma)"``,
``"anomaly(zscore, 4)"``, ``"anomaly[30m]"``). Aggregates are the :class:`Stats` fields plus any
``pNN`` percentile. Everything is checked when the rule is built and reported by ``add_rule`` (or
``AlertRule.validate()``), so a typo fails with the reason instead of silently never firing.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, final

from ._analytics import METHODS
from ._durations import Duration, to_seconds
from ._stats import parse_aggregate

__all__ = ["SEVERITIES", "AlertRule", "Condition", "parse_condition"]

#: Severities in escalation order.
SEVERITIES: tuple[str, ...] = ("info", "warning", "error", "critical")
DEFAULT_WINDOW = 60.0

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_THRESHOLD = re.compile(
    r"^\s*(?P<agg>[A-Za-z_][\w.]*)\s*(?:\[(?P<window>[^\]]*)\])?\s*"
    r"(?P<op>>=|<=|==|!=|>|<)\s*(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_ANOMALY = re.compile(
    r"^\s*anomaly\s*(?:\[(?P<window>[^\]]*)\])?\s*"
    r"(?:\(\s*(?P<method>[a-z]+)\s*(?:,\s*(?P<threshold>[-+]?\d+\.?\d*)\s*)?\))?\s*$"
)


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition: a threshold on an aggregate, or an anomaly check."""

    text: str
    aggregate: str | None = None
    op: str | None = None
    threshold: float = math.nan
    window: float | None = None
    method: str | None = None

    @property
    def is_anomaly(self) -> bool:
        """Whether this is an ``anomaly`` check rather than a threshold."""
        return self.method is not None

    def holds(self, value: float) -> bool:
        """Whether *value* meets the threshold (``nan``, i.e. no data, never does)."""
        if math.isnan(value) or self.op is None:
            return False
        return _OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return self.text


def _window(text: str | None, condition: str) -> float | None:
    if text is None:
        return None
    try:
        return to_seconds(text.strip(), f"window in condition {condition!r}", allow_zero=False)
    except (TypeError, ValueError) as error:
        raise ValueError(str(error)) from None


def parse_condition(text: str) -> Condition:
    """Parse *text*; raise ``ValueError`` saying what is wrong and what is accepted."""
    if not isinstance(text, str):
        msg = f"`condition` must be a string like 'p99 > 0.5', got {text!r}."
        raise TypeError(msg)
    anomaly = _ANOMALY.match(text)
    if anomaly is not None:
        method = anomaly.group("method") or "zscore"
        if method not in METHODS:
            msg = f"Unknown anomaly method {method!r} in {text!r}; use one of {', '.join(METHODS)}."
            raise ValueError(msg)
        threshold = float(anomaly.group("threshold") or 3.0)
        if threshold <= 0:
            msg = f"The anomaly threshold in {text!r} must be > 0 (in standard deviations)."
            raise ValueError(msg)
        window = _window(anomaly.group("window"), text)
        return Condition(text.strip(), threshold=threshold, window=window, method=method)
    match = _THRESHOLD.match(text)
    if match is None:
        msg = (
            f"Cannot parse condition {text!r}; write '<aggregate> <op> <number>' "
            "(e.g. 'p99 > 0.5', 'rate[5m] < 1') or 'anomaly' / 'anomaly(ewma, 4)'."
        )
        raise ValueError(msg)
    aggregate = parse_aggregate(match.group("agg"))
    return Condition(
        text.strip(),
        aggregate=aggregate,
        op=match.group("op"),
        threshold=float(match.group("number")),
        window=_window(match.group("window"), text),
    )


def _optional_seconds(
    value: Duration | None, what: str, *, allow_zero: bool = True
) -> float | None:
    return None if value is None else to_seconds(value, what, allow_zero=allow_zero)


@final
@dataclass(frozen=True, slots=True)
class AlertRule:
    """When to raise an alert about one metric.

    Args:
        name: unique name of the rule in its service (it names the alert).
        metric: the metric name to watch.
        condition: see the module docstring (``"p99 > 0.5"``, ``"rate < 1"``, ``"anomaly"``).
        for_: how long the condition must hold before the alert fires (``None``: at once).
        severity: one of ``info``, ``warning``, ``error``, ``critical``.
        attributes: only series whose attributes include these (summed); ``None``: all series.
        labels: extra labels copied onto every alert of this rule.
        window: the query window (default: the one in the condition, else 60 s; the whole
            retention for anomaly checks).
        escalate_after: raise the severity one step (or to *escalate_to*) once the alert has
            been firing this long...
        escalate_after_count: ... or for this many evaluations.
        escalate_to: the severity to escalate to (default: the next one up).
        repeat_every: notify again while the alert keeps firing, at this interval.

    Raises:
        ValueError: from ``add_rule`` (or :meth:`validate`): an unparsable condition, unknown
            aggregate or severity, or a negative window or duration; the message says which and
            what is accepted.

    .. versionadded:: 0.1.0
    """

    name: str
    metric: str
    condition: str
    for_: Duration | None = None
    severity: str = "warning"
    attributes: Mapping[str, Any] | None = None
    labels: Mapping[str, str] | None = None
    window: Duration | None = None
    escalate_after: Duration | None = None
    escalate_after_count: int | None = None
    escalate_to: str | None = None
    repeat_every: Duration | None = None
    parsed: Condition = field(init=False, repr=False, compare=False)
    for_seconds: float = field(init=False, repr=False, compare=False)
    window_seconds: float | None = field(init=False, repr=False, compare=False)
    escalate_seconds: float | None = field(init=False, repr=False, compare=False)
    repeat_seconds: float | None = field(init=False, repr=False, compare=False)
    problem: Exception | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A bad rule is refused where it is used (``add_rule``, or ``validate()`` to check
        # earlier), so the error points at the service it was meant for.
        set_ = object.__setattr__
        set_(self, "parsed", Condition(str(self.condition)))
        set_(self, "for_seconds", 0.0)
        for name in ("window_seconds", "escalate_seconds", "repeat_seconds", "problem"):
            set_(self, name, None)
        try:
            self._resolve()
        except (TypeError, ValueError) as error:
            set_(self, "problem", error)

    def validate(self) -> AlertRule:
        """Return the rule if it is valid; otherwise raise what is wrong with it.

        Raises:
            ValueError: see the class docstring.
            TypeError: a field has the wrong type.
        """
        if self.problem is not None:
            msg = f"AlertRule {self.name!r} is invalid: {self.problem}"
            raise type(self.problem)(msg)
        return self

    def _resolve(self) -> None:
        for what, text in (("name", self.name), ("metric", self.metric)):
            if not isinstance(text, str) or not text.strip():
                msg = f"AlertRule `{what}` must be a non-empty string, got {text!r}."
                raise ValueError(msg)
        parsed = parse_condition(self.condition)
        for severity in (self.severity, self.escalate_to):
            if severity is not None and severity not in SEVERITIES:
                msg = f"Unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}."
                raise ValueError(msg)
        count = self.escalate_after_count
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            msg = f"`escalate_after_count` must be a positive int, got {count!r}."
            raise ValueError(msg)
        window = _optional_seconds(self.window, "window", allow_zero=False)
        if window is None:
            window = parsed.window
        if window is None and not parsed.is_anomaly:
            window = DEFAULT_WINDOW
        set_ = object.__setattr__
        set_(self, "parsed", parsed)
        set_(self, "window_seconds", window)
        set_(self, "for_seconds", _optional_seconds(self.for_, "for_") or 0.0)
        set_(self, "escalate_seconds", _optional_seconds(self.escalate_after, "escalate_after"))
        set_(
            self,
            "repeat_seconds",
            _optional_seconds(self.repeat_every, "repeat_every", allow_zero=False),
        )

    def escalated_severity(self, current: str) -> str:
        """Return the severity after one escalation from *current*."""
        if self.escalate_to is not None:
            return self.escalate_to
        return SEVERITIES[min(SEVERITIES.index(current) + 1, len(SEVERITIES) - 1)]
