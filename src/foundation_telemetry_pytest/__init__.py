"""The pytest plugin entry point (``pytest11``): options, the ``telemetry`` marker and fixture.

Loading it imports nothing from OpenTelemetry or ``foundation_telemetry`` (a top-level package,
so not even ``foundation_telemetry/__init__`` runs): the fixture imports the machinery when a test
first uses it. Until then nothing global is set, so a conftest may still choose
``OTEL_PYTHON_CONTEXT`` or install its own providers first. At session end the outermost session
runs the shutdown coordinator, but only if the defensive layer was ever imported.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from typing import Any, Final

import pytest

__all__ = [
    "BUFFER_INI",
    "MARKER",
    "REPORT_INI",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "telemetry",
]

MARKER: Final = "telemetry"
REPORT_INI: Final = "telemetry_report"
BUFFER_INI: Final = "telemetry_buffer_size"
_MARKER_HELP: Final = (
    "telemetry(timeout=None, strict=True): options for the `telemetry` fixture: the default "
    "expectation timeout in seconds for this test, and whether waits and collectors that were "
    "created but never waited for (and expectations never entered) fail the test at teardown."
)
_FIXTURE_MODULE: Final = "foundation_telemetry.testing._plugin"
_SHUTDOWN_MODULE: Final = "foundation_telemetry.defensive._shutdown"


class _Sessions:
    running = 0  # pytester runs nest sessions in one process: only the outermost shuts down


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--telemetry-report=DIR`` and its ini twin ``telemetry_report``."""
    help_text = (
        "write one self-contained HTML file of its telemetry (spans as a waterfall, events, "
        "metric points) per failed test that used the `telemetry` fixture into this directory"
    )
    group = parser.getgroup("foundation-telemetry")
    group.addoption("--telemetry-report", metavar="DIR", dest="telemetry_report", help=help_text)
    parser.addini(REPORT_INI, help_text, default="")
    parser.addini(
        BUFFER_INI,
        "records the session recorder keeps per test before dropping the oldest (default 50000)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (and nothing else: the plugin sets nothing global at load)."""
    config.addinivalue_line("markers", _MARKER_HELP)


@pytest.fixture
def telemetry(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Give the test its own view on the session-wide telemetry Recorder."""
    from foundation_telemetry.testing._plugin import telemetry_fixture

    yield from telemetry_fixture(request)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add a "Captured telemetry" section to a failed test that used the fixture."""
    report = yield
    if report.failed:
        plugin = sys.modules.get(_FIXTURE_MODULE)  # only once some test used the fixture
        if plugin is not None:
            plugin.add_captured_telemetry(item, report)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: Any) -> None:
    """Note one more active session."""
    _Sessions.running += 1


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    """Flush and shut down every wrapped component when the outermost session finishes."""
    _Sessions.running = max(_Sessions.running - 1, 0)
    shutdown = sys.modules.get(_SHUTDOWN_MODULE)  # never imported: nothing to shut down
    if _Sessions.running == 0 and shutdown is not None and shutdown.has_components():
        shutdown.shutdown_registered()
