"""pytest plugin for the SDK-suite runner: write each test's outcome as one JSON line.

Loaded with ``-p outcome_log`` into the upstream suites; the file is named by
``SDK_SUITE_OUTCOMES``. A test's outcome is ``failed`` when any phase failed, ``skipped`` when its
setup or call was skipped, otherwise ``passed`` (xfail counts as skipped, xpass as passed).
"""

from __future__ import annotations

import json
import os
from typing import Any

_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report: Any) -> None:
    """Fold the phase *report* into its test's outcome."""
    previous = _outcomes.get(report.nodeid)
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped and previous != "failed":
        _outcomes[report.nodeid] = "skipped"
    elif report.when == "call" and previous is None:
        _outcomes[report.nodeid] = "passed"


def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    """Write the outcomes (one ``{"test": ..., "outcome": ...}`` object a line)."""
    path = os.environ.get("SDK_SUITE_OUTCOMES")
    if not path:
        return
    with open(path, "w", encoding="utf-8") as stream:
        for test, outcome in sorted(_outcomes.items()):
            stream.write(json.dumps({"test": test, "outcome": outcome}) + "\n")
