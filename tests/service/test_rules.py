"""Alert rules: the condition language and AlertRule validation."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from foundation_telemetry.service import AlertRule
from foundation_telemetry.service._rules import parse_condition


class TestParseCondition:
    @pytest.mark.parametrize(
        ("text", "aggregate", "op", "threshold", "window"),
        [
            ("p99 > 0.5", "p99", ">", 0.5, None),
            ("rate < 1", "rate", "<", 1.0, None),
            ("rate[5m] <= 1", "rate", "<=", 1.0, 300.0),
            ("p99.9>=2e-3", "p99.9", ">=", 0.002, None),
            ("  mean != -4 ", "mean", "!=", -4.0, None),
            ("count == 0", "count", "==", 0.0, None),
        ],
    )
    def test_thresholds(
        self, text: str, aggregate: str, op: str, threshold: float, window: float | None
    ) -> None:
        """Threshold conditions name an aggregate, an operator, a number and maybe a window."""
        parsed = parse_condition(text)
        assert (parsed.aggregate, parsed.op, parsed.threshold, parsed.window) == (
            aggregate,
            op,
            threshold,
            window,
        )
        assert not parsed.is_anomaly

    @pytest.mark.parametrize(
        ("text", "method", "threshold", "window"),
        [
            ("anomaly", "zscore", 3.0, None),
            ("anomaly(ewma)", "ewma", 3.0, None),
            ("anomaly(zscore, 4)", "zscore", 4.0, None),
            ("anomaly[30m]", "zscore", 3.0, 1800.0),
        ],
    )
    def test_anomaly(self, text: str, method: str, threshold: float, window: float | None) -> None:
        """Anomaly conditions take an optional method, score threshold and window."""
        parsed = parse_condition(text)
        assert parsed.is_anomaly
        assert (parsed.method, parsed.threshold, parsed.window) == (method, threshold, window)

    def test_holds(self) -> None:
        """`holds` applies the operator, and nan (no data) never holds."""
        parsed = parse_condition("p99 > 0.5")
        assert parsed.holds(0.6)
        assert not parsed.holds(0.5)
        assert not parsed.holds(math.nan)
        assert not parse_condition("rate != 1").holds(math.nan)

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("p99 >", "Cannot parse condition"),
            ("p99 => 1", "Cannot parse condition"),
            ("latency is high", "Cannot parse condition"),
            ("median > 1", "Unknown aggregate 'median'"),
            ("p100 > 1", "Unknown aggregate 'p100'"),
            ("rate[-5m] < 1", "must not be negative"),
            ("rate[0s] < 1", "must be > 0"),
            ("rate[soon] < 1", "not a duration"),
            ("anomaly(magic)", "Unknown anomaly method 'magic'"),
            ("anomaly(zscore, 0)", "must be > 0"),
        ],
    )
    def test_bad_conditions(self, text: str, reason: str) -> None:
        """Unparsable conditions, unknown aggregates and bad windows say what is wrong."""
        with pytest.raises(ValueError, match=reason.replace("[", r"\[").replace("(", r"\(")):
            parse_condition(text)


class TestAlertRule:
    def test_defaults(self) -> None:
        """Threshold rules default to a 60 s window, anomaly rules to the whole retention."""
        rule = AlertRule("slow", "latency", "p99 > 0.5")
        assert rule.window_seconds == 60.0
        assert rule.for_seconds == 0.0
        assert rule.severity == "warning"
        assert AlertRule("odd", "latency", "anomaly").window_seconds is None
        assert AlertRule("w", "latency", "rate[2m] < 1").window_seconds == 120.0
        assert AlertRule("w", "latency", "rate[2m] < 1", window="10s").window_seconds == 10.0

    def test_durations(self) -> None:
        """Durations accept seconds, timedelta and strings."""
        rule = AlertRule(
            "r", "m", "rate < 1", for_=timedelta(minutes=1), escalate_after="5m", repeat_every=30
        )
        assert (rule.for_seconds, rule.escalate_seconds, rule.repeat_seconds) == (60, 300, 30)

    @pytest.mark.parametrize(
        ("kwargs", "reason"),
        [
            ({"for_": -1}, "`for_` must not be negative"),
            ({"window": -10}, "`window` must not be negative"),
            ({"window": 0}, "`window` must be > 0"),
            ({"escalate_after": "-1m"}, "`escalate_after` must not be negative"),
            ({"severity": "urgent"}, "Unknown severity 'urgent'"),
            ({"escalate_to": "loud"}, "Unknown severity 'loud'"),
            ({"escalate_after_count": 0}, "positive int"),
            ({"repeat_every": 0}, "`repeat_every` must be > 0"),
            ({"condition": "p42x > 1"}, "Cannot parse condition|Unknown aggregate"),
            ({"name": ""}, "`name` must be a non-empty string"),
        ],
    )
    def test_bad_rules(self, service, kwargs: dict[str, object], reason: str) -> None:
        """Every bad rule is refused by `add_rule` (and `validate()`) with a ValueError and the reason."""
        arguments: dict[str, object] = {"name": "r", "metric": "m", "condition": "rate < 1"}
        arguments.update(kwargs)
        rule = AlertRule(**arguments)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=reason):
            service.add_rule(rule)
        with pytest.raises(ValueError, match=reason):
            rule.validate()
        assert service.rules() == []

    def test_valid_rule_validates(self) -> None:
        """`validate()` returns a valid rule unchanged."""
        rule = AlertRule("r", "m", "p99 > 0.5")
        assert rule.validate() is rule
        assert rule.problem is None

    def test_wrong_condition_type(self, service) -> None:
        """A condition that is not a string is a TypeError at `add_rule`."""
        with pytest.raises(TypeError, match="must be a string"):
            service.add_rule(AlertRule("r", "m", 42))  # type: ignore[arg-type]

    def test_escalated_severity(self) -> None:
        """Escalation goes one step up, or to `escalate_to`, and stops at critical."""
        rule = AlertRule("r", "m", "rate < 1")
        assert rule.escalated_severity("warning") == "error"
        assert rule.escalated_severity("critical") == "critical"
        assert (
            AlertRule("r", "m", "rate < 1", escalate_to="critical").escalated_severity("warning")
            == "critical"
        )

    def test_add_rule_refuses_bad_input(self, service) -> None:
        """`add_rule` refuses a duplicate name, a non-rule and a non-callable notifier."""
        service.add_rule(AlertRule("r", "m", "rate < 1"))
        with pytest.raises(ValueError, match="already added"):
            service.add_rule(AlertRule("r", "m", "rate > 1"))
        with pytest.raises(TypeError, match="must be an AlertRule"):
            service.add_rule("rate < 1")
        with pytest.raises(TypeError, match="must be callable"):
            service.add_rule(AlertRule("s", "m", "rate < 1"), notifiers=["not callable"])
        assert [rule.name for rule in service.rules()] == ["r"]
        assert service.remove_rule("r")
        assert not service.remove_rule("r")
