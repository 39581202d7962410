"""The event-driven set-up: only the app's worker; the ``telemetry`` fixture comes from the plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.sleep_vs_events.app import Worker


@pytest.fixture
def worker() -> Iterator[Worker]:
    running = Worker()
    yield running
    running.stop()
