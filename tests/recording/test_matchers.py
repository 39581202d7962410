"""Value matching and the record matcher's descriptions and diffs."""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest
from dirty_equals import IsInt, IsPositiveInt
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation_telemetry.recording._matchers import (
    RecordMatcher,
    describe_value,
    is_event,
    is_log,
    name_matches,
    value_matches,
)
from foundation_telemetry.recording._records import EventRecord, RecordKind, SpanRecord
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


# What RecordMatcher.matches means, written the slow way: the reference for its fast paths.
def _reference_matches(matcher: RecordMatcher, record) -> bool:
    if not matcher.accepts(record):
        return False
    if matcher.name is not None and not name_matches(matcher.name, record.name):
        return False
    return all(
        key in record.attributes and value_matches(expected, record.attributes[key])
        for key, expected in matcher.attributes.items()
    )


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True, width=16),
    st.sampled_from(["", "a", "b", "1"]),
    st.binary(max_size=2),
)
_actual_values = st.one_of(_scalars, st.lists(st.integers(0, 2), max_size=2).map(tuple))
_expected_values = st.one_of(
    _scalars,
    st.lists(st.integers(0, 2), max_size=2).map(tuple),
    st.just(IsInt),
    st.just(int),
    st.just(re.compile("a|1")),
    st.sampled_from([any_of(1, "a"), not_(None)]),
)
_keys = st.sampled_from(["k", "m", "n"])


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(["pay", "pa*", "other", None]),
    expected=st.dictionaries(_keys, _expected_values, max_size=3),
    record_name=st.sampled_from(["pay", "pays", "other"]),
    actual=st.dictionaries(_keys, _actual_values, max_size=3),
    kind=st.sampled_from(list(RecordKind)),
    proxy=st.booleans(),
    accepts=st.sampled_from([is_event, is_log, lambda record: True]),
)
def test_fast_paths_agree_with_the_reference(
    name, expected, record_name, actual, kind, proxy, accepts
):
    """Exact names, plain values and known kinds match exactly as the general path does."""
    matcher = RecordMatcher("event", accepts, name, expected)
    attributes = MappingProxyType(actual) if proxy else actual
    record = EventRecord(record_name, attributes, 0, kind)
    assert matcher.matches(record) == _reference_matches(matcher, record)


class TestMatchesFastPaths:
    def test_a_nan_expected_value_never_matches_even_the_same_object(self):
        """NaN is not equal to itself, so `x=nan` matches nothing (the items test would say yes)."""
        nan = float("nan")
        matcher = RecordMatcher("event", is_event, "pay", {"x": nan})
        assert not matcher.matches(EventRecord("pay", {"x": nan}, 0, RecordKind.EVENT))

    def test_true_and_one_match_as_equality_says(self):
        """A plain value compares with ==, as everywhere else: True == 1."""
        matcher = RecordMatcher("event", is_event, "pay", {"x": True})
        assert matcher.matches(EventRecord("pay", {"x": 1}, 0, RecordKind.EVENT))
        assert not matcher.matches(EventRecord("pay", {"x": 2}, 0, RecordKind.EVENT))

    def test_a_span_record_is_never_an_event(self):
        """The known-kind fast path refuses other record types, as is_event does."""
        matcher = RecordMatcher("event", is_event, "pay")
        span = SpanRecord("pay", {}, 1, 2, None, 0, 1)
        assert not matcher.matches(span)
