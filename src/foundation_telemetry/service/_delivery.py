"""Alert delivery: notifiers run on one background thread, contained and retried.

:class:`Dispatcher` takes the notifications an evaluation produced and calls their notifiers on
its own thread, so a slow webhook never holds up collection. A failing notifier is counted as a
skip (``BACKEND_UNAVAILABLE`` for :class:`~._notifiers.NotifierError` and ``OSError``, else
``UNEXPECTED``) and its delivery is retried with the next evaluation's batch, up to
``max_attempts``; after that it is logged and given up. Per-notifier counts feed ``health()``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence

from ..defensive._ledger import SkipReason, count_skip
from ._model import Alert
from ._notifiers import Notifier, NotifierError, notifier_name

__all__ = ["Dispatcher"]

_logger = logging.getLogger("foundation_telemetry.service")
_NOTIFIER = "service.notifier"


class _Job:
    __slots__ = ("alert", "attempts", "notifier")

    def __init__(self, notifier: Notifier, alert: Alert) -> None:
        self.notifier = notifier
        self.alert = alert
        self.attempts = 0


class Dispatcher:
    """Deliver alerts to notifiers on one background thread, with containment and retries."""

    def __init__(self, max_attempts: int = 3) -> None:
        self.max_attempts = max_attempts
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._retry: list[_Job] = []
        self._idle = threading.Condition()
        self._outstanding = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self.stats: dict[str, dict[str, int]] = {}

    def _stat(self, name: str, key: str) -> None:
        entry = self.stats.setdefault(name, {"delivered": 0, "failed": 0, "given_up": 0})
        entry[key] += 1

    def dispatch(self, deliveries: Sequence[tuple[Notifier, Alert]]) -> None:
        """Queue *deliveries* and the retries left over from earlier cycles."""
        with self._idle:
            if self._closed:
                for notifier, _ in deliveries:
                    count_skip(_NOTIFIER, SkipReason.SHUTDOWN, item=notifier_name(notifier))
                return
            jobs = self._retry + [_Job(n, a) for n, a in deliveries]
            self._retry = []
            if not jobs:
                return
            self._outstanding += len(jobs)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="foundation-telemetry-alerts", daemon=True
                )
                self._thread.start()
        for job in jobs:
            self._queue.put(job)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._deliver(job)
            finally:
                with self._idle:
                    self._outstanding -= 1
                    if self._outstanding == 0:
                        self._idle.notify_all()

    def _deliver(self, job: _Job) -> None:
        name = notifier_name(job.notifier)
        job.attempts += 1
        try:
            job.notifier(job.alert)
        except Exception as error:  # noqa: BLE001 - a notifier must never break alerting
            reason = (
                SkipReason.BACKEND_UNAVAILABLE
                if isinstance(error, NotifierError | OSError)
                else SkipReason.UNEXPECTED
            )
            count_skip(_NOTIFIER, reason, item=name, error=error)
            with self._idle:
                self._stat(name, "failed")
                if job.attempts < self.max_attempts and not self._closed:
                    self._retry.append(job)
                    return
                self._stat(name, "given_up")
            _logger.warning(
                "Notifier %s gave up on %s after %d attempt(s): %s",
                name,
                job.alert.summary(),
                job.attempts,
                error,
            )
        else:
            with self._idle:
                self._stat(name, "delivered")

    def reset_after_fork(self) -> None:
        """Forget the parent's worker thread and queue in a forked child (retries are kept)."""
        self._queue = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._outstanding = 0
        self._thread = None

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        """Return ``{notifier: {"delivered", "failed", "given_up"}}`` (a copy)."""
        with self._idle:
            return {name: dict(counts) for name, counts in self.stats.items()}

    @property
    def pending_retries(self) -> int:
        """How many deliveries wait for the next evaluation to be retried."""
        with self._idle:
            return len(self._retry)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued delivery was attempted; ``False`` if *timeout* passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop after the queued deliveries (bounded by *timeout*); later ones are skipped."""
        self.flush(timeout)
        with self._idle:
            self._closed = True
            dropped, self._retry = self._retry, []
            thread = self._thread
        for job in dropped:
            count_skip(_NOTIFIER, SkipReason.SHUTDOWN, item=notifier_name(job.notifier))
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
