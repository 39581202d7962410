"""The fast record constructors build exactly what the dataclasses build."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation_telemetry.recording._builders import fast_constructor
from foundation_telemetry.recording._records import (
    EventRecord,
    MetricPoint,
    RecordKind,
    SpanEventView,
    SpanRecord,
)

_CLASSES = (SpanRecord, EventRecord, MetricPoint, SpanEventView)
_values = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sampled_from(list(RecordKind)),
    st.lists(st.integers(), max_size=2).map(tuple),
)


@st.composite
def _arguments(draw: Any, cls: type) -> dict[str, Any]:
    """Every required field, and any subset of the ones with defaults."""
    arguments = {}
    for field in dataclasses.fields(cls):
        has_default = (
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING
        )
        if not has_default or draw(st.booleans()):
            arguments[field.name] = draw(_values)
    return arguments


def _hash_or_error(record: Any) -> object:
    try:
        return hash(record)
    except TypeError as error:  # a dict among the values: unhashable, for both alike
        return type(error)


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda cls: cls.__name__)
class TestFastConstructor:
    @settings(max_examples=150, deadline=None)
    @given(data=st.data())
    def test_builds_what_the_class_builds(self, cls, data):
        """Same fields, same defaults, equal, same hash and repr: the dataclass cannot tell."""
        arguments = data.draw(_arguments(cls))
        built, expected = fast_constructor(cls)(**arguments), cls(**arguments)
        assert type(built) is cls
        assert built == expected
        assert repr(built) == repr(expected)
        assert dataclasses.astuple(built) == dataclasses.astuple(expected)
        assert _hash_or_error(built) == _hash_or_error(expected)

    def test_default_factories_give_each_record_its_own(self, cls):
        """A mapping default is made per record, never shared between two records."""
        build = fast_constructor(cls)
        required = {
            f.name: None
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        first, second = build(**required), build(**required)
        for field in dataclasses.fields(cls):
            if field.default_factory is not dataclasses.MISSING:
                assert getattr(first, field.name) is not getattr(second, field.name)

    def test_still_frozen_and_strict_about_arguments(self, cls):
        """The record stays frozen; a missing or unknown field is refused like the class does."""
        build = fast_constructor(cls)
        with pytest.raises(TypeError):
            build()
        required = {
            f.name: None
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        with pytest.raises(TypeError, match="nonsense"):
            build(**required, nonsense=1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            build(**required).name = "changed"  # type: ignore[misc]


def test_refuses_what_it_cannot_build_faithfully():
    """A class without slots, or with a __post_init__ it would skip, is refused by name."""

    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="Plain must be a slotted dataclass"):
        fast_constructor(Plain)
    with pytest.raises(TypeError, match="Checked has a __post_init__"):
        fast_constructor(Checked)
