"""The public surface of foundation_telemetry.testing."""

from __future__ import annotations

import foundation_telemetry.testing as testing


class TestExports:
    def test_all_lists_the_public_names(self):
        """`__all__` is exactly the public names (ruff keeps it sorted)."""
        public = {name for name in vars(testing) if name[0] not in "_@"} - {"annotations"}
        assert set(testing.__all__) == public
        assert len(testing.__all__) == len(public)

    def test_error_is_an_assertion_error(self):
        """TelemetryAssertionError is an AssertionError named where users import it."""
        assert issubclass(testing.TelemetryAssertionError, AssertionError)
        assert testing.TelemetryAssertionError.__module__ == "foundation_telemetry.testing"

    def test_importing_needs_no_pytest(self):
        """Importing the testing package (as the sink does) does not import pytest."""
        import subprocess
        import sys

        code = "import sys, foundation_telemetry.testing; print('pytest' in sys.modules)"
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        assert result.stdout.strip() == "False"
