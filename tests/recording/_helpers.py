"""Emission helpers shared by the testing-package tests."""

from __future__ import annotations

from typing import Any

from opentelemetry import _logs


def emit_event(name: str, **attributes: Any) -> None:
    """Emit a log-based event through the global (rebinding) logger provider."""
    _logs.get_logger("tests.testing").emit(event_name=name, attributes=attributes)
