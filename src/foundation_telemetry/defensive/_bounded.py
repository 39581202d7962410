"""Calls with a deadline: run a possibly hanging call on a helper thread and stop waiting in time.

The stock SDK waits on exporters without limit in several places (``force_flush`` ignores its
timeout, exporter ``shutdown()`` may block, OTLP retries sleep through back-off). A
:class:`BoundedCall` runs the call on a daemon helper thread; the caller waits with a timeout and
abandons the call on expiry (the thread stays blocked until the call returns, or is frozen at
interpreter exit). When no thread can be started (interpreter shutdown), the call runs inline.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._policy import HELPER_THREAD_PREFIX

__all__ = ["BoundedCall", "CallWorker", "Deadline", "run_bounded"]

T = TypeVar("T")
# The longest a wait on the main thread sleeps before it lets a pending signal handler run.
_SLICE = 0.1


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

    __slots__ = ("_cancelled", "_done", "_entered", "_fn", "_name", "error", "result")

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self._fn = fn
        self._name = name
        self._done = threading.Event()
        self._entered = threading.Event()
        self._cancelled = False
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

    def run(self) -> None:
        """Run the call here and now (a :class:`CallWorker` does this), unless cancelled."""
        if self._cancelled:
            self._done.set()
            return
        self._run()

    def cancel(self) -> None:
        """Do not run the call if it has not started yet (its caller gave up waiting)."""
        self._cancelled = True

    def _run(self) -> None:
        self._entered.set()
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

    def wait_entered(self, deadline: Deadline) -> bool:
        """Wait until the call has begun (its thread got to run it); return whether it has."""
        return self._entered.wait(deadline.remaining())

    def wait(self, deadline: Deadline) -> bool:
        """Wait until the call finishes or *deadline* passes; return whether it finished.

        On the main thread it waits in short slices: a signal (Ctrl-C) the OS delivered to
        another thread wakes nothing, and Python runs its handler on the main thread only when
        that thread wakes up.
        """
        if threading.current_thread() is not threading.main_thread():
            return self._done.wait(deadline.remaining())
        while True:
            remaining = deadline.remaining()
            if remaining is not None and remaining <= 0:
                return self._done.is_set()
            if self._done.wait(_SLICE if remaining is None else min(remaining, _SLICE)):
                return True


def run_bounded(fn: Callable[[], Any], name: str, deadline: Deadline) -> BoundedCall[Any]:
    """Start *fn* on a helper thread and wait for it until *deadline*."""
    call: BoundedCall[Any] = BoundedCall(fn, name).start()
    call.wait(deadline)
    return call


class CallWorker:
    """One daemon thread that runs calls one at a time, each waited for with a deadline.

    Cheaper than a thread per call on a hot path (an export under a ``SimpleSpanProcessor``):
    a call is a queue hand-off. The thread starts with the first call and ends with
    :meth:`close`, or when its owner is garbage-collected; it holds only its queue. A call that
    hangs blocks the ones behind it, which their callers then give up on at their deadline.
    """

    __slots__ = ("__weakref__", "_jobs", "_lock", "_name", "_thread")

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[BoundedCall[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, fn: Callable[[], T]) -> BoundedCall[T]:
        """Queue *fn* for the worker thread (started on first use); return its call."""
        call: BoundedCall[T] = BoundedCall(fn, self._name)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._jobs = queue.SimpleQueue()
                thread = threading.Thread(
                    target=_work,
                    args=(self._jobs,),
                    name=f"{HELPER_THREAD_PREFIX}-{self._name}",
                    daemon=True,
                )
                try:
                    thread.start()
                except RuntimeError:  # "can't create new thread at interpreter shutdown"
                    call.run()
                    return call
                self._thread = thread
                weakref.finalize(self, self._jobs.put, None)
            self._jobs.put(call)
        return call

    def close(self) -> None:
        """Let the thread end once the calls queued so far ran."""
        with self._lock:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread = None

    def reinit_after_fork(self) -> None:
        """Forget the parent's thread, lock and queued calls (in a forked child)."""
        self._lock = threading.Lock()
        self._jobs = queue.SimpleQueue()
        self._thread = None


def _work(jobs: queue.SimpleQueue[BoundedCall[Any] | None]) -> None:
    while (call := jobs.get()) is not None:
        call.run()
