"""The record store: a bounded, thread-safe ring of captured entries, and the waiters it wakes.

Store protocol (what the query and expectation API needs from a store, and what the sink uses):

* ``RecordBuffer.append(kind, item, scope=0, thread=None)`` adds one entry, thread-safely. *item*
  is either a record view (``SpanRecord``, ``EventRecord``, ``MetricPoint``; what the sink
  appends) or what the Recorder captured (turned into views once, lazily, ``_views``).
* Every entry gets the next sequence number; ``next_seq`` is the number the next entry will get.
  ``read(since)`` returns the entries from sequence *since* on, plus how many of them the ring
  already dropped (``capacity`` bounds it; ``overflowed`` counts all drops).
* ``add_waiter(w)`` / ``remove_waiter(w)``: ``w.wake()`` is called after each append, outside
  the buffer lock, from the appending thread. :class:`ThreadWaiter` and :class:`AsyncWaiter`
  are the two waiters: a blocked thread and a blocked asyncio task.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from typing import Any, Final, Protocol, TypeAlias

from ._records import RecordKind

__all__ = ["DEFAULT_CAPACITY", "AsyncWaiter", "Entry", "RecordBuffer", "ThreadWaiter", "Waiter"]

DEFAULT_CAPACITY: Final = 50_000
"""How many entries a buffer keeps before the oldest are dropped (and counted)."""


Entry: TypeAlias = "list[Any]"
"""One captured item: ``[kind, item, scope, thread_name]``; a list, so that the record views of
*item* can replace it once built (``_views.CachedViews``)."""


class Waiter(Protocol):
    """Something woken after each append (called from the appending thread, never locked).

    ``kinds`` limits the wake-ups to entries of those kinds (``None``: every entry), so a test
    waiting for a span end is not woken by span starts or metric measurements.
    """

    kinds: frozenset[RecordKind] | None

    def wake(self) -> None:
        """Note that new entries may have arrived; must be cheap and must not raise."""


class ThreadWaiter:
    """Blocks a thread until the next append, on one raw lock used as a one-slot signal.

    The lock is held while nothing happened: :meth:`wake` releases it, :meth:`wait` blocks
    acquiring it, :meth:`arm` takes it back without blocking. Each is one C call, where a
    ``threading.Event`` runs its ``Condition`` in Python on both sides of the wake-up.
    """

    __slots__ = ("_signal", "kinds")

    def __init__(self, kinds: frozenset[RecordKind] | None = None) -> None:
        self._signal = threading.Lock()
        self._signal.acquire()
        self.kinds = kinds

    def wake(self) -> None:
        """Release a blocked :meth:`wait` (the next one returns at once if nobody waits yet)."""
        try:  # noqa: SIM105 - suppress() would build a context manager on every append
            self._signal.release()
        except RuntimeError:  # already woken since the last arm(): one signal is enough
            pass

    def arm(self) -> None:
        """Forget earlier wake-ups; call before looking at the buffer, then :meth:`wait`."""
        self._signal.acquire(False)

    def wait(self, timeout: float | None) -> bool:
        """Block until woken or *timeout* seconds passed; ``True`` when woken."""
        if timeout is None:
            return self._signal.acquire()
        return self._signal.acquire(True, min(max(timeout, 0.0), threading.TIMEOUT_MAX))


class AsyncWaiter:
    """Wakes an asyncio task from any thread through ``loop.call_soon_threadsafe``."""

    __slots__ = ("_event", "_loop", "_scheduled", "kinds")

    def __init__(
        self,
        kinds: frozenset[RecordKind] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._scheduled = False
        self.kinds = kinds

    def wake(self) -> None:
        """Schedule the event to be set on the waiter's loop (coalesced)."""
        if self._scheduled:
            return
        self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._fire)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self._scheduled = False

    def _fire(self) -> None:
        self._scheduled = False
        self._event.set()

    def arm(self) -> None:
        """Forget earlier wake-ups; call before looking at the buffer, then :meth:`wait`."""
        self._event.clear()

    async def wait(self, timeout: float | None) -> bool:
        """Wait until woken or *timeout* seconds passed; ``True`` when woken."""
        try:
            async with asyncio.timeout(timeout):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


class RecordBuffer:
    """A bounded, thread-safe ring of captured entries with sequence numbers and wake-ups.

    ``scope`` is the isolation token stamped on new entries that have no scoped parent; the
    pytest fixture advances it per test with :meth:`new_scope`.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            msg = f"`capacity` must be a positive int, got {capacity!r}."
            raise ValueError(msg)
        self.capacity: Final = capacity
        self._lock = threading.Lock()
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._appended = 0
        self._cleared = 0
        self._overflowed = 0
        self._waiters: tuple[Waiter, ...] = ()
        self.scope = 0

    @property
    def next_seq(self) -> int:
        """The sequence number the next appended entry gets."""
        return self._appended

    @property
    def first_seq(self) -> int:
        """The sequence number of the oldest entry still kept (``next_seq`` when empty)."""
        return self._appended - len(self._entries)

    @property
    def overflowed(self) -> int:
        """How many entries the ring dropped because it was full."""
        return self._overflowed

    def append(
        self, kind: RecordKind, item: Any, scope: int = 0, thread: str | None = None
    ) -> None:
        """Add one entry and wake the waiters (outside the lock)."""
        self._store([kind, item, scope, thread])

    def _store(self, entry: Entry) -> None:
        lock = self._lock
        entries = self._entries
        lock.acquire()
        try:
            if len(entries) == self.capacity:
                self._overflowed += 1
            entries.append(entry)
            self._appended += 1
        finally:
            lock.release()
        waiters = self._waiters
        if waiters:
            kind = entry[0]
            for waiter in waiters:
                kinds = waiter.kinds
                if kinds is None or kind in kinds:
                    waiter.wake()

    def read(self, since: int = 0) -> tuple[int, list[Entry], int]:
        """Return ``(first_seq, entries, dropped)`` for the entries from sequence *since* on.

        *dropped* counts entries at or after *since* that are no longer in the buffer (the ring
        overflowed or :meth:`clear` discarded them).
        """
        with self._lock:
            if since == self._appended - 1 and self._entries:
                return since, [self._entries[-1]], 0  # the usual look: one new entry
            first = self._appended - len(self._entries)
            start = max(since, first)
            wanted = self._appended - start
            if wanted <= 0:
                return start, [], max(0, first - since)
            tail = list(itertools.islice(reversed(self._entries), wanted))
        tail.reverse()
        return start, tail, max(0, first - since)

    def clear(self) -> None:
        """Drop every entry (sequence numbers keep counting)."""
        with self._lock:
            self._cleared += len(self._entries)
            self._entries.clear()

    def new_scope(self) -> int:
        """Start a new isolation scope, drop the old entries, and return the scope token."""
        self.clear()
        self.scope += 1
        return self.scope

    def add_waiter(self, waiter: Waiter) -> None:
        """Call ``waiter.wake()`` after every future append."""
        with self._lock:
            self._waiters = (*self._waiters, waiter)

    def remove_waiter(self, waiter: Waiter) -> None:
        """Stop waking *waiter* (no error if it was not added)."""
        with self._lock:
            waiters = list(self._waiters)
            if waiter in waiters:
                waiters.remove(waiter)
                self._waiters = tuple(waiters)
