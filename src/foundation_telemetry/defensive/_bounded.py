"""Calls with a deadline: run a possibly hanging call on a helper thread and stop waiting in time.

The stock SDK waits on exporters without limit in several places (``force_flush`` ignores its
timeout, exporter ``shutdown()`` may block, OTLP retries sleep through back-off). A
:class:`BoundedCall` runs the call on a daemon helper thread; the caller waits with a timeout and
abandons the call on expiry (the thread stays blocked until the call returns, or is frozen at
interpreter exit). When no thread can be started (interpreter shutdown), the call runs inline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._policy import HELPER_THREAD_PREFIX

__all__ = ["BoundedCall", "Deadline", "run_bounded"]

T = TypeVar("T")


class Deadline:
    """A point in ``time.monotonic()`` time; ``None`` budget means "no limit"."""

    __slots__ = ("at",)

    def __init__(self, budget: float | None) -> None:
        self.at = None if budget is None else time.monotonic() + max(budget, 0.0)

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` without a limit."""
        if self.at is None:
            return None
        return max(self.at - time.monotonic(), 0.0)

    def minus(self, seconds: float) -> Deadline:
        """Return a deadline *seconds* earlier than this one (still "no limit" without one)."""
        earlier = Deadline(None)
        earlier.at = None if self.at is None else self.at - seconds
        return earlier

    def earliest(self, other: Deadline | None) -> Deadline:
        """Return whichever of *self* and *other* expires first."""
        if other is None or other.at is None:
            return self
        if self.at is None or other.at < self.at:
            return other
        return self


class BoundedCall(Generic[T]):
    """One call of *fn* on a daemon helper thread, waited for with a deadline."""

    __slots__ = ("_done", "_fn", "_name", "error", "result")

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self._fn = fn
        self._name = name
        self._done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None

    def start(self, *, inline_fallback: bool = True) -> BoundedCall[T]:
        """Start the call; when the interpreter refuses new threads, run it inline (or skip it).

        Args:
            inline_fallback: ``False`` leaves the call not done (and not run) instead.
        """
        thread = threading.Thread(
            target=self._run, name=f"{HELPER_THREAD_PREFIX}-{self._name}", daemon=True
        )
        try:
            thread.start()
        except RuntimeError:  # "can't create new thread at interpreter shutdown"
            if inline_fallback:
                self._run()
        return self

    def _run(self) -> None:
        try:
            self.result = self._fn()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
            self.error = error
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        """Whether the call has returned or raised."""
        return self._done.is_set()

    def wait(self, deadline: Deadline) -> bool:
        """Wait until the call finishes or *deadline* passes; return whether it finished."""
        return self._done.wait(deadline.remaining())


def run_bounded(fn: Callable[[], Any], name: str, deadline: Deadline) -> BoundedCall[Any]:
    """Start *fn* on a helper thread and wait for it until *deadline*."""
    call: BoundedCall[Any] = BoundedCall(fn, name).start()
    call.wait(deadline)
    return call
