"""Value matching and the record matcher's descriptions and diffs."""

from __future__ import annotations

import re

import pytest
from dirty_equals import IsInt, IsPositiveInt

from foundation_telemetry.recording._matchers import (
    RecordMatcher,
    describe_value,
    is_event,
    name_matches,
    value_matches,
)
from foundation_telemetry.recording._records import EventRecord, RecordKind
from foundation_telemetry.testing import all_of, any_of, not_


class TestValueMatches:
    @pytest.mark.parametrize(
        ("expected", "actual", "result"),
        [
            (42, 42, True),
            (42, 41, False),
            (re.compile(r"ord-\d+"), "ord-12", True),
            (re.compile(r"ord-\d+"), "ord-12x", False),
            (re.compile("x"), 5, False),
            (lambda v: v > 3, 4, True),
            (lambda v: v > 3, "a", False),
            (int, 3, True),
            (int, "3", False),
            (IsPositiveInt, 3, True),
            (IsInt(gt=5), 3, False),
            (any_of(1, 2), 2, True),
            (all_of(int, lambda v: v % 2 == 0), 4, True),
            (all_of(int, lambda v: v % 2 == 0), 3, False),
            (not_("prod"), "dev", True),
        ],
    )
    def test_kinds_of_expected_values(self, expected, actual, result):
        """Exact, regex, callable, type, dirty-equals and combinators match as documented."""
        assert value_matches(expected, actual) is result

    def test_combinator_reprs(self):
        """Combinators read as the call that built them."""
        assert repr(any_of(1, re.compile("a"))) == "any_of(1, re.compile('a'))"
        assert repr(not_(all_of(int))) == "not_(all_of(int))"

    def test_empty_combinator(self):
        """any_of() with nothing is a clear error."""
        with pytest.raises(ValueError, match="at least one"):
            any_of()

    def test_names(self):
        """Names are exact unless they contain glob characters."""
        assert name_matches("foundation.retry.*", "foundation.retry.backoff")
        assert not name_matches("foundation.retry", "foundation.retry.backoff")
        assert name_matches(re.compile(r"a\.\w+"), "a.b")
        assert describe_value(re.compile("x")) == "re.compile('x')"


class TestRecordMatcher:
    def test_diff_and_describe(self):
        """Diffs name each failing field; describe reads like the expectation."""
        matcher = RecordMatcher("event", is_event, "pay", {"amount": 5, "currency": "EUR"})
        record = EventRecord("pay", {"amount": 4}, 0, RecordKind.EVENT)
        assert matcher.describe() == "event 'pay' with {'amount': 5, 'currency': 'EUR'}"
        assert matcher.diff(record) == [
            "attributes['amount']: 4 != 5",
            "attributes['currency']: missing, expected 'EUR'",
        ]
        assert 0 < matcher.score(record) < 1

    def test_bad_name_type(self):
        """A name that is not a str/pattern/matcher is a clear error."""
        with pytest.raises(TypeError, match="name must be"):
            RecordMatcher("event", is_event, 5)
