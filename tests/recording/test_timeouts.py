"""The default timeout setting and its scale factor."""

from __future__ import annotations

import pytest

from foundation_telemetry.recording._timeouts import SCALE_ENV, default_refute_window
from foundation_telemetry.testing import DEFAULT_TIMEOUT, default_timeout, set_default_timeout


class TestTimeoutSetting:
    def test_scale_multiplies_the_default(self, monkeypatch):
        """FOUNDATION_TELEMETRY_TIMEOUT_SCALE multiplies the default timeout and refute window."""
        monkeypatch.setenv(SCALE_ENV, "3")
        assert default_timeout() == DEFAULT_TIMEOUT * 3
        assert default_refute_window() == pytest.approx(DEFAULT_TIMEOUT * 0.3)

    @pytest.mark.parametrize("raw", ["0", "-1", "fast", "nan", "inf"])
    def test_bad_scale_is_a_clear_error(self, monkeypatch, raw):
        """A scale that is not a positive number names the variable."""
        monkeypatch.setenv(SCALE_ENV, raw)
        with pytest.raises(ValueError, match=SCALE_ENV):
            default_timeout()

    def test_set_default_timeout(self, monkeypatch):
        """set_default_timeout changes the unscaled default and returns the previous one."""
        monkeypatch.delenv(SCALE_ENV, raising=False)
        previous = set_default_timeout(5)
        try:
            assert default_timeout() == 5
        finally:
            set_default_timeout(previous)
        with pytest.raises(ValueError, match="> 0"):
            set_default_timeout(0)

    @pytest.mark.telemetry(timeout=0.2, strict=False)  # only inspected, never entered
    def test_marker_sets_the_fixture_default(self, telemetry):
        """@pytest.mark.telemetry(timeout=...) is this test's default for every expectation."""
        expectation = telemetry.assert_telemetry_event("x")
        assert expectation.timeout == 0.2
