"""The ``telemetry`` fixture's machinery, behind the import-free ``foundation_telemetry_pytest``.

That plugin imports this module when a test first uses the fixture. The first such test creates
the session-wide Recorder and hooks it into the application's providers (see ``_fixture``); each test gets a
:class:`TelemetryFixture`, a view on that recorder with its own isolation scope, so telemetry
that started in an earlier test never satisfies or breaks this one.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from foundation_telemetry_pytest import BUFFER_INI, MARKER, REPORT_INI

from ..recording._received import set_full_failures
from ..recording._timeouts import check_timeout
from ._fixture import TelemetryFixture, TelemetryOverflowWarning, session_recorder

__all__ = ["TelemetryFixture", "add_captured_telemetry", "telemetry_fixture"]

_FULL_VERBOSITY: Final = 2
_FIXTURE: Final = pytest.StashKey[TelemetryFixture]()
_REPORTED: Final = pytest.StashKey[bool]()


def _buffer_size(config: pytest.Config) -> int | None:
    value = str(config.getini(BUFFER_INI)).strip().replace("_", "")
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        msg = f"{BUFFER_INI} must be a positive whole number of records, got {value!r}."
        raise pytest.UsageError(msg)
    return int(value)


def _report_directory(config: pytest.Config) -> Path | None:
    value = config.getoption("telemetry_report") or config.getini(REPORT_INI)
    if not value:
        return None
    path = Path(str(value))
    return path if path.is_absolute() else config.rootpath / path


def add_captured_telemetry(item: pytest.Item, report: pytest.TestReport) -> None:
    """Add a "Captured telemetry" section (and the HTML report) to a failed fixture user."""
    fixture = item.stash.get(_FIXTURE, None)
    if fixture is not None and not item.stash.get(_REPORTED, False):
        item.stash[_REPORTED] = True
        from ._report import captured_section, write_html_report

        directory = _report_directory(item.config)
        path = None
        if directory is not None:
            path = write_html_report(directory, item.nodeid, fixture, report.longreprtext)
        report.sections.append(("Captured telemetry", captured_section(fixture, path)))


def _marker_options(request: pytest.FixtureRequest) -> tuple[float | None, bool]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return None, True
    if marker.args:
        msg = "@pytest.mark.telemetry takes keyword arguments only: timeout=..., strict=..."
        raise TypeError(msg)
    unknown = set(marker.kwargs) - {"timeout", "strict"}
    if unknown:
        msg = (
            f"@pytest.mark.telemetry got unknown option(s) {sorted(unknown)}; use timeout, strict."
        )
        raise TypeError(msg)
    timeout = marker.kwargs.get("timeout")
    if timeout is not None:
        timeout = check_timeout(timeout)
    return timeout, bool(marker.kwargs.get("strict", True))


def telemetry_fixture(request: pytest.FixtureRequest) -> Iterator[TelemetryFixture]:
    """Run the ``telemetry`` fixture (the entry-point plugin imports this on first use)."""
    timeout, strict = _marker_options(request)
    # Under -vv, failure messages list every received record (set here, not at plugin load).
    set_full_failures(request.config.get_verbosity() >= _FULL_VERBOSITY)
    fixture = TelemetryFixture(session_recorder(_buffer_size(request.config)), timeout)
    request.node.stash[_FIXTURE] = fixture
    yield fixture
    dropped = fixture.dropped()
    if dropped:
        capacity = fixture.recorder.buffer.capacity
        message = (
            f"this test recorded more than the telemetry recorder keeps ({capacity} records): the "
            f"oldest {dropped} were dropped, so queries and waits saw only the newest. Raise "
            f"{BUFFER_INI} in the pytest ini file (e.g. {BUFFER_INI} = {capacity * 4})."
        )
        warnings.warn(TelemetryOverflowWarning(message), stacklevel=1)
    if not strict:
        return
    lines = []
    unentered = fixture._unentered()
    if unentered:
        lines.append(
            "The following expectations were created but never entered, so they checked "
            "nothing (use `with` / `async with` around the action):"
        )
        lines += [f"- {line}" for line in unentered]
    pending = fixture._pending()
    if pending:
        lines.append(
            "The following waits were created but never waited for (call .wait() or await it):"
        )
        lines += [f"- {line}" for line in pending]
        lines.append(
            "If this is on purpose, detach a collector with .detach(), or use "
            "@pytest.mark.telemetry(strict=False)."
        )
    if lines:
        pytest.fail("\n".join(lines), pytrace=False)
