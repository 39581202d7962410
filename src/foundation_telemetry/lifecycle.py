"""Service lifecycle events: started, stopped, restarted and periodic health checks.

:class:`ServiceLifecycle` (or the shorthand :func:`service_lifecycle`) announces a service's life
as the standard ``foundation.service.*`` events, so tests wait for readiness
(``wait_for_service_ready(name)``) instead of sleeping, and dashboards and alert rules see
services come and go. ``start()`` emits ``started`` and a first ``health_check``; a background
thread then runs the health check every ``health_interval`` seconds (``None`` turns it off and
leaves ``check_health()`` to the caller, which is how tests drive it without waiting);
``restart()`` and ``stop()`` emit ``restarted`` and ``stopped`` with a reason. It is a context
manager, sync and async.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Final, final

from . import taxonomy
from .defensive._ledger import SkipReason, count_skip
from .events import emit
from .events._context import SyncAndAsyncContext

__all__ = ["HealthCheck", "ServiceLifecycle", "service_lifecycle"]

HealthCheck = Callable[[], "bool | str"]
"""A health probe: ``True``/``"healthy"``, ``False``/``"unhealthy"``, or any other status text."""

HEALTHY: Final = "healthy"
UNHEALTHY: Final = "unhealthy"
UNKNOWN: Final = "unknown"
_COMPONENT: Final = "lifecycle"
_A = taxonomy.Attr


@final
class ServiceLifecycle(SyncAndAsyncContext["ServiceLifecycle"]):
    """Emit a service's lifecycle events and run its periodic health check.

    Args:
        name: The service name, carried as ``service.name`` on every event.
        health_check: The probe run for each ``health_check`` event; without one the service
            reports ``healthy`` while it runs. A probe that raises reports ``unhealthy``.
        health_interval: Seconds between background health checks, or ``None`` for none (call
            :meth:`check_health` yourself). The clock starts when :meth:`start` returns.

    Raises:
        ValueError: *name* is empty or *health_interval* is not a positive number.
        TypeError: *health_check* is not callable.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        name: str,
        *,
        health_check: HealthCheck | None = None,
        health_interval: float | None = 30.0,
    ) -> None:
        if not isinstance(name, str) or not name:
            msg = f"`name` must be a non-empty service name, got {name!r}."
            raise ValueError(msg)
        if health_check is not None and not callable(health_check):
            msg = f"`health_check` must be a callable returning bool or str, got {health_check!r}."
            raise TypeError(msg)
        if health_interval is not None and (
            isinstance(health_interval, bool)
            or not isinstance(health_interval, int | float)
            or not math.isfinite(health_interval)
            or health_interval <= 0
        ):
            msg = (
                f"`health_interval` must be a positive number of seconds or None, "
                f"got {health_interval!r}."
            )
            raise ValueError(msg)
        self.name = name
        self._probe = health_check
        self._interval = None if health_interval is None else float(health_interval)
        self._lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._status = UNKNOWN
        self._running = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"ServiceLifecycle({self.name!r}, {state}, status={self._status!r})"

    @property
    def running(self) -> bool:
        """Whether :meth:`start` was called and :meth:`stop` was not since."""
        return self._running

    @property
    def status(self) -> str:
        """The status reported by the last health check (``"unknown"`` before the first)."""
        return self._status

    def start(self) -> None:
        """Emit ``started`` and a first ``health_check``, then start the periodic checks.

        Raises:
            RuntimeError: the service is already running.
        """
        with self._lock:
            if self._running:
                msg = f"service {self.name!r} is already running; call stop() or restart()."
                raise RuntimeError(msg)
            self._running = True
        emit(taxonomy.SERVICE_STARTED, None, **{_A.SERVICE_NAME: self.name})
        self.check_health()
        self._start_loop()

    def stop(self, reason: str = "requested") -> None:
        """Stop the periodic checks and emit ``stopped`` with *reason*; a no-op when stopped."""
        with self._lock:
            if not self._running:
                return
            self._running = False
        self._stop_loop()
        emit(taxonomy.SERVICE_STOPPED, None, **{_A.SERVICE_NAME: self.name, _A.REASON: reason})

    def restart(self, reason: str = "requested") -> None:
        """Emit ``restarted`` with *reason*, restart the periodic checks and check health once.

        A stopped service is started (its one event is still ``restarted``).
        """
        with self._lock:
            self._running = True
        self._stop_loop()
        emit(taxonomy.SERVICE_RESTARTED, None, **{_A.SERVICE_NAME: self.name, _A.REASON: reason})
        self.check_health()
        self._start_loop()

    def check_health(self) -> str:
        """Run the health probe now, emit ``health_check`` and return the status."""
        status = self._probe_status()
        with self._status_lock:
            previous, self._status = self._status, status
        emit(
            taxonomy.SERVICE_HEALTH_CHECK,
            None,
            **{
                _A.SERVICE_NAME: self.name,
                _A.STATUS: status,
                _A.PREVIOUS_STATUS: previous,
                _A.HEALTHY: status == HEALTHY,
            },
        )
        return status

    def _probe_status(self) -> str:
        if self._probe is None:
            return HEALTHY
        try:
            result = self._probe()
        except Exception as error:  # noqa: BLE001 - a failing probe means unhealthy
            count_skip(_COMPONENT, SkipReason.UNEXPECTED, item=self.name, error=error)
            return UNHEALTHY
        if isinstance(result, bool):
            return HEALTHY if result else UNHEALTHY
        return str(result)

    def _start_loop(self) -> None:
        if self._interval is None:
            return
        self._stop = threading.Event()
        thread = threading.Thread(
            target=self._loop,
            args=(self._stop, self._interval),
            name=f"foundation-health-{self.name}",
            daemon=True,
        )
        self._thread = thread
        thread.start()

    def _stop_loop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def _loop(self, stop: threading.Event, interval: float) -> None:
        # Event.wait is the schedule: it returns early (True) the moment stop() is called.
        while not stop.wait(interval):
            self.check_health()

    def __enter__(self) -> ServiceLifecycle:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop("error" if exc_type is not None else "exited")


def service_lifecycle(
    name: str,
    *,
    health_check: HealthCheck | None = None,
    health_interval: float | None = 30.0,
) -> ServiceLifecycle:
    """Return a :class:`ServiceLifecycle` for *name*; use it as a (sync or async) context manager.

    .. versionadded:: 0.1.0
    """
    return ServiceLifecycle(name, health_check=health_check, health_interval=health_interval)
