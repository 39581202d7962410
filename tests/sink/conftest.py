"""Shared fixtures for the sink tests: a running sink and small helpers to talk to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from foundation_telemetry.sink import Sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as running:
        yield running
