"""Durations as people write them: seconds, timedelta and unit strings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from foundation_telemetry.service._durations import to_seconds


class TestToSeconds:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (5, 5.0),
            (2.5, 2.5),
            ("30s", 30.0),
            ("5m", 300.0),
            ("1h", 3600.0),
            ("250ms", 0.25),
            (timedelta(minutes=2), 120.0),
            ("7", 7.0),
        ],
    )
    def test_accepts_spellings(self, value: object, expected: float) -> None:
        """Numbers, timedeltas and unit strings all become seconds."""
        assert to_seconds(value, "window") == expected  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [-1, "-5m", timedelta(seconds=-3)])
    def test_refuses_negative(self, value: object) -> None:
        """A negative duration is refused, naming the argument."""
        with pytest.raises(ValueError, match="`window` must not be negative"):
            to_seconds(value, "window")  # type: ignore[arg-type]

    def test_refuses_garbage(self) -> None:
        """An unreadable string says which units are accepted."""
        with pytest.raises(ValueError, match=r"not a duration.*ms, s, m, h, d"):
            to_seconds("soon", "for_")

    def test_refuses_zero_when_asked(self) -> None:
        """Zero is refused where a positive duration is required."""
        with pytest.raises(ValueError, match="must be > 0"):
            to_seconds(0, "resolution", allow_zero=False)

    def test_refuses_wrong_type(self) -> None:
        """Booleans and other types are a TypeError."""
        with pytest.raises(TypeError):
            to_seconds(True, "window")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            to_seconds([1], "window")  # type: ignore[arg-type]
