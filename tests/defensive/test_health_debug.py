"""health(), available(), health sources, and the debug log."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from foundation_telemetry import defensive as d
from foundation_telemetry.defensive import _breaker, _debug
from foundation_telemetry.defensive._ledger import SkipReason, count_skip, mark_shutdown

from .test_wrappers import tracer_with, unique


@pytest.fixture
def debug_on() -> Iterator[None]:
    was = d.debug_enabled()
    d.set_debug(False)
    d.set_debug(True)
    yield
    d.set_debug(was)


class _WatchedStream:
    """A stderr stand-in that records every write and says whether it is closed."""

    def __init__(self) -> None:
        self.closed = False
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


class Switchable(SpanExporter):
    def __init__(self) -> None:
        self.fail = True

    def export(self, spans: object) -> SpanExportResult:
        return SpanExportResult.FAILURE if self.fail else SpanExportResult.SUCCESS


class TestSkipped:
    def test_counts_by_component_and_reason(self) -> None:
        """skipped() totals the ledger; a component and a reason narrow it to health()'s cells."""
        name = unique("counted")
        total = d.skipped()
        count_skip(name, SkipReason.TIMEOUT, 2)
        count_skip(name, SkipReason.QUEUE_FULL)
        assert d.skipped(name) == 3
        assert d.skipped(name, SkipReason.TIMEOUT) == 2 == d.health()["skipped"][name]["timeout"]
        assert d.skipped(name, SkipReason.SHUTDOWN) == 0
        assert d.skipped(unique("never")) == 0
        assert d.skipped() >= total + 3
        assert d.skipped(reason=SkipReason.QUEUE_FULL) >= 1

    @pytest.mark.parametrize(
        ("component", "reason", "match"),
        [(42, None, "component"), (None, "timeout", "SkipReason")],
    )
    def test_arguments_checked(self, component: object, reason: object, match: str) -> None:
        """A component that is not a str or a reason that is not a SkipReason is a TypeError."""
        with pytest.raises(TypeError, match=match):
            d.skipped(component, reason)  # type: ignore[arg-type]


class TestHealth:
    def test_report_shape(self) -> None:
        """health() has the documented keys and groups skip counts by component and reason."""
        name = unique("health")
        count_skip(name, SkipReason.TIMEOUT, 2)
        report = d.health()
        assert {"available", "shutdown", "skipped", "skipped_total", "components"} <= set(report)
        assert report["skipped"][name] == {"timeout": 2}
        assert report["skipped_total"] >= 2

    def test_available_follows_exporter_state(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """available() is False while an exporter fails and True again after a success."""
        now = [1000.0]
        monkeypatch.setattr(_breaker, "clock", lambda: now[0])
        inner = Switchable()
        exporter = d.DefensiveSpanExporter(inner, name=unique("switch"))
        mark_shutdown(False)
        span = tracer_with().start_span("x")
        span.end()
        exporter.export([span])  # type: ignore[list-item]
        assert d.available() is False
        inner.fail = False
        now[0] += _breaker.FIRST_BACKOFF  # the breaker lets the next export probe the backend
        exporter.export([span])  # type: ignore[list-item]
        assert exporter.state == "ok"
        assert d.health()["components"][exporter.component_name]["state"] == "ok"

    def test_source_is_included(self) -> None:
        """A registered source appears under its name; a failing one reports its error."""
        unregister = d.register_health_source("test-source", lambda: {"ok": 1})
        failing = d.register_health_source("failing-source", lambda: 1 / 0)
        try:
            report = d.health()
            assert report["test-source"] == {"ok": 1}
            assert report["failing-source"] == {"error": "ZeroDivisionError: division by zero"}
        finally:
            unregister()
            failing()
        assert "test-source" not in d.health()

    @pytest.mark.parametrize("name", ["", "skipped", "available"])
    def test_source_name_validated(self, name: str) -> None:
        """Empty or reserved source names are a clear ValueError."""
        with pytest.raises(ValueError, match="non-empty key"):
            d.register_health_source(name, dict)

    def test_source_must_be_callable(self) -> None:
        """A non-callable source is a clear TypeError."""
        with pytest.raises(TypeError, match="must be a callable"):
            d.register_health_source("x", 42)  # type: ignore[arg-type]


class TestDebug:
    def test_silent_without_debug(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without debug mode a skip prints nothing."""
        d.set_debug(False)
        count_skip(unique("quiet"), SkipReason.UNEXPECTED, error=RuntimeError("x"))
        assert capsys.readouterr().err == ""

    @pytest.mark.usefixtures("debug_on")
    def test_each_key_logged_once(self, capsys: pytest.CaptureFixture[str]) -> None:
        """In debug mode each (component, reason) is logged once with reason, error and pid."""
        name = unique("loud")
        for _ in range(3):
            count_skip(name, SkipReason.BACKEND_UNAVAILABLE, item="span-a", error=OSError("down"))
        count_skip(name, SkipReason.TIMEOUT, item="span-b")
        lines = [line for line in capsys.readouterr().err.splitlines() if name in line]
        assert len(lines) == 2
        assert "reason=backend_unavailable" in lines[0]
        assert "item=span-a" in lines[0]
        assert "OSError: down" in lines[0]
        assert "pid=" in lines[0]
        assert "reason=timeout" in lines[1]

    @pytest.mark.usefixtures("debug_on")
    def test_closed_stderr_is_skipped(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A closed stderr (as after pytest's capture ends) is never written to; an open one is."""
        stream = _WatchedStream()
        monkeypatch.setattr(sys, "stderr", stream)
        stream.closed = True
        count_skip(unique("closed-stream"), SkipReason.RESOURCE_CLOSED)
        assert stream.writes == []
        stream.closed = False
        count_skip(unique("open-stream"), SkipReason.RESOURCE_CLOSED)
        assert len(stream.writes) == 1

    def test_logger_does_not_propagate(self) -> None:
        """The debug logger never reaches the root logger (where a LoggingHandler may sit)."""
        assert logging.getLogger(_debug.LOGGER_NAME).propagate is False

    def test_set_debug_validates(self) -> None:
        """set_debug takes a bool only."""
        with pytest.raises(TypeError, match="must be a bool"):
            d.set_debug(1)  # type: ignore[arg-type]

    def test_sdk_diagnostics_are_routed(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Once ours, SDK warnings no longer reach lastResort; in debug mode they print once."""
        _debug.guard_sdk_diagnostics()  # what configure() and the exit registration do
        sdk_logger = logging.getLogger("opentelemetry.sdk.trace.export")
        # They still propagate: the application's handlers (and caplog) see them.
        assert logging.getLogger("opentelemetry.sdk").propagate is True
        assert logging.getLogger("opentelemetry.exporter").propagate is True
        d.set_debug(False)
        sdk_logger.warning("Queue full, dropping %s.", "span")
        assert capsys.readouterr().err == ""
        d.set_debug(True)
        try:
            sdk_logger.warning("Transient error %s, retrying.", unique("code"))
            sdk_logger.warning("Transient error %s, retrying.", unique("code"))
        finally:
            d.set_debug(False)
        err = capsys.readouterr().err
        assert err.count("Transient error") == 1
