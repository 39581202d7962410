"""The pytest plugin: the ``telemetry`` fixture and the ``telemetry`` marker.

Loading the plugin sets nothing. The first test that uses the fixture creates the session-wide
Recorder and hooks it into the application's providers (see ``_fixture``); each test gets a
:class:`TelemetryFixture`, a view on that recorder with its own isolation scope, so telemetry
that started in an earlier test never satisfies or breaks this one.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Final

import pytest

from ..recording._received import set_full_failures
from ..recording._timeouts import check_timeout
from ._fixture import TelemetryFixture, TelemetryOverflowWarning, session_recorder

__all__ = ["TelemetryFixture", "telemetry"]

_MARKER: Final = "telemetry"
_MARKER_HELP: Final = (
    "telemetry(timeout=None, strict=True): options for the `telemetry` fixture: the default "
    "expectation timeout in seconds for this test, and whether waits and collectors that were "
    "created but never waited for (and expectations never entered) fail the test at teardown."
)


_REPORT_INI: Final = "telemetry_report"
_BUFFER_INI: Final = "telemetry_buffer_size"
_FULL_VERBOSITY: Final = 2
_FIXTURE: Final = pytest.StashKey[TelemetryFixture]()
_REPORTED: Final = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--telemetry-report=DIR`` and its ini twin ``telemetry_report``."""
    help_text = (
        "write one self-contained HTML file of its telemetry (spans as a waterfall, events, "
        "metric points) per failed test that used the `telemetry` fixture into this directory"
    )
    group = parser.getgroup("foundation-telemetry")
    group.addoption("--telemetry-report", metavar="DIR", dest="telemetry_report", help=help_text)
    parser.addini(_REPORT_INI, help_text, default="")
    parser.addini(
        _BUFFER_INI,
        "records the session recorder keeps per test before dropping the oldest (default 50000)",
        default="",
    )


def _buffer_size(config: pytest.Config) -> int | None:
    value = str(config.getini(_BUFFER_INI)).strip().replace("_", "")
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        msg = f"{_BUFFER_INI} must be a positive whole number of records, got {value!r}."
        raise pytest.UsageError(msg)
    return int(value)


def _report_directory(config: pytest.Config) -> Path | None:
    value = config.getoption("telemetry_report") or config.getini(_REPORT_INI)
    if not value:
        return None
    path = Path(str(value))
    return path if path.is_absolute() else config.rootpath / path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add a "Captured telemetry" section (and the HTML report) to a failed fixture user."""
    report = yield
    fixture = item.stash.get(_FIXTURE, None)
    if report.failed and fixture is not None and not item.stash.get(_REPORTED, False):
        item.stash[_REPORTED] = True
        from ._report import captured_section, write_html_report

        directory = _report_directory(item.config)
        path = None
        if directory is not None:
            path = write_html_report(directory, item.nodeid, fixture, report.longreprtext)
        report.sections.append(("Captured telemetry", captured_section(fixture, path)))
    return report


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; under ``-vv``, failure messages list every received record.

    Nothing of OpenTelemetry is touched: the plugin sets no provider or global at load.
    """
    config.addinivalue_line("markers", _MARKER_HELP)
    if config.get_verbosity() >= _FULL_VERBOSITY:
        set_full_failures(True)


def _marker_options(request: pytest.FixtureRequest) -> tuple[float | None, bool]:
    marker = request.node.get_closest_marker(_MARKER)
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


@pytest.fixture
def telemetry(request: pytest.FixtureRequest) -> Iterator[TelemetryFixture]:
    """Give the test its own view on the session-wide telemetry Recorder."""
    timeout, strict = _marker_options(request)
    fixture = TelemetryFixture(session_recorder(_buffer_size(request.config)), timeout)
    request.node.stash[_FIXTURE] = fixture
    yield fixture
    dropped = fixture.dropped()
    if dropped:
        capacity = fixture.recorder.buffer.capacity
        message = (
            f"this test recorded more than the telemetry recorder keeps ({capacity} records): the "
            f"oldest {dropped} were dropped, so queries and waits saw only the newest. Raise "
            f"{_BUFFER_INI} in the pytest ini file (e.g. {_BUFFER_INI} = {capacity * 4})."
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
