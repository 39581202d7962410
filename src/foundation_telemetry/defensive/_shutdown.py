"""The shutdown coordinator: flush and shut down every signal in parallel within one deadline.

Wrapped processors and readers register here when they are built. :func:`shutdown_all` and
:func:`flush_all` start every component's (and provider's) flush or shutdown on its own helper
thread at once and wait until one shared deadline. Shortly before it, every still-open exporter
wrapper is shut down, which interrupts OTLP retry back-off so stuck exports return in time. The same
sequence runs once at interpreter exit, from an ``atexit`` hook registered after ``logging`` was
imported, so it runs *before* ``logging.shutdown()`` (``atexit`` is last-in, first-out) and after
non-daemon threads were joined.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Final, Protocol, cast

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from .. import _state
from .._otel import _internals
from .._otel._compat import LoggerProvider
from ._bounded import BoundedCall, Deadline
from ._classify import set_exiting
from ._debug import guard_sdk_diagnostics
from ._ledger import SkipReason, mark_shutdown
from ._policy import contain

__all__ = [
    "ABORT_GRACE",
    "Abortable",
    "Coordinated",
    "abort_all_exporters",
    "abort_point",
    "active_deadline",
    "adopt_components",
    "default_timeout",
    "ensure_exit_hook",
    "exit_deadline",
    "exit_sequence_ran",
    "exit_started",
    "flush_all",
    "has_components",
    "register_component",
    "register_exporter",
    "register_for_exit",
    "register_telemetry",
    "run_exit_sequence",
    "set_shutdown_timeout",
    "shutdown_all",
    "shutdown_registered",
]

#: How long before the deadline exporters are aborted (their ``shutdown()`` sets an event that
#: ends retry back-off), so the exports and processors can still finish within the budget.
ABORT_GRACE = 0.2


class Coordinated(Protocol):
    """A wrapped processor or reader, as the coordinator drives it."""

    @property
    def component_name(self) -> str:
        """Name used in skip counts."""

    @property
    def shutdown_started(self) -> bool:
        """Whether shutdown was already started (by anyone)."""

    @property
    def shutdown_call(self) -> BoundedCall[Any] | None:
        """The shutdown started (by anyone), if one was."""

    def start_shutdown(self) -> BoundedCall[Any]:
        """Start (or return the already started) shutdown of the wrapped component."""

    def start_flush(self, deadline: Deadline) -> BoundedCall[Any] | None:
        """Start a flush bounded by *deadline*; ``None`` when already shut down."""

    def abandoned(self, call: BoundedCall[Any]) -> bool:
        """Whether the shutdown *call* gave up on work (unfinished, or its worker still stuck)."""

    def note_timeout(self, call: BoundedCall[Any], reason: SkipReason = ...) -> None:
        """Count what *call* (an abandoned shutdown) leaves behind, as *reason*."""


class Abortable(Protocol):
    """A wrapped exporter, as the coordinator drives it."""

    def abort(self) -> BoundedCall[Any] | None:
        """Shut the wrapped exporter down now; ``None`` when it already is."""


# The registry, the budget and the exit flags are _state.shutdown's fields.
_SHUTDOWN: Final = _state.shutdown


def register_component(component: Coordinated) -> None:
    """Have *component* shut down by the exit sequence and by :func:`shutdown_all`."""
    with _SHUTDOWN.lock:
        _SHUTDOWN.components.add(component)
    ensure_exit_hook()


def register_exporter(exporter: Abortable) -> None:
    """Have *exporter* aborted when a coordinated deadline is spent."""
    with _SHUTDOWN.lock:
        _SHUTDOWN.exporters.add(exporter)


def _any_open() -> bool:
    with _SHUTDOWN.lock:
        return any(not component.shutdown_started for component in _SHUTDOWN.components)


def has_components() -> bool:
    """Return whether any wrapped component is alive."""
    return len(_SHUTDOWN.components) > 0


def set_shutdown_timeout(timeout: float) -> None:
    """Set the total budget, in seconds, for shutdown at exit and for uncoordinated shutdowns.

    Raises:
        ValueError: *timeout* is not a positive number.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        msg = f"`timeout` must be a positive number of seconds, got {timeout!r}."
        raise ValueError(msg)
    _SHUTDOWN.default_timeout = float(timeout)


def default_timeout() -> float:
    """Return the configured shutdown budget in seconds."""
    return _SHUTDOWN.default_timeout


def active_deadline() -> Deadline | None:
    """Return the deadline of the coordinated flush or shutdown in progress, if any."""
    return cast("Deadline | None", _SHUTDOWN.active_deadline)


def adopt_components(provider: Any, components: Iterable[Any]) -> None:
    """Remember the *components* ``configure()`` added to *provider* (shutdown finds them here)."""
    with _SHUTDOWN.lock:
        _SHUTDOWN.adopted[provider] = (*_SHUTDOWN.adopted.get(provider, ()), *components)


def _read_components(provider: Any) -> tuple[Any, ...]:
    """Return the processors or readers of a provider built elsewhere (SDK internals, read)."""
    if isinstance(provider, TracerProvider):
        return _internals.span_processors_of(provider)
    if isinstance(provider, LoggerProvider):
        return _internals.log_record_processors_of(provider)
    if isinstance(provider, MeterProvider):
        return _internals.metric_readers_of(provider)
    return ()


def _providers_components(providers: Iterable[Any]) -> list[Any]:
    """Find the wrapped components held by *providers*."""
    found: list[Any] = []
    for provider in providers:
        provider = getattr(provider, "delegate", provider)  # our rebinding global proxies
        with _SHUTDOWN.lock:
            adopted = _SHUTDOWN.adopted.get(provider)
        candidates = _read_components(provider) if adopted is None else adopted
        with _SHUTDOWN.lock:
            found.extend(item for item in candidates if item in _SHUTDOWN.components)
    return found


def _start_all(
    starts: list[tuple[Any, Callable[[], BoundedCall[Any] | None]]],
) -> list[tuple[Any, BoundedCall[Any]]]:
    """Start every call (each on its own helper thread); a start that fails is skipped."""
    calls: list[tuple[Any, BoundedCall[Any]]] = []
    for owner, start in starts:
        try:
            call = start()
        except Exception:  # noqa: BLE001 - a broken component must not stop the others (an
            # interrupt does stop the starting: the coordinator counts what was started)
            continue
        if call is not None:
            calls.append((owner, call))
    return calls


def _wait_all(calls: list[tuple[Any, BoundedCall[Any]]], deadline: Deadline) -> bool:
    """Wait for every call until *deadline*; return whether all finished."""
    for _, call in calls:
        call.wait(deadline)
    return all(call.done for _, call in calls)


def _settle(
    calls: list[tuple[Any, BoundedCall[Any]]], *, shutdown: bool = False
) -> list[tuple[Any, BoundedCall[Any]]]:
    """Count the errors of finished calls; return the unfinished ones.

    For shutdowns, also those that finished but abandoned work (the component's ``abandoned``).
    """
    left: list[tuple[Any, BoundedCall[Any]]] = []
    for owner, call in calls:
        if call.done and call.error is not None:
            name = getattr(owner, "component_name", None) or type(owner).__name__
            contain(name, call.error, item="shutdown")
            continue
        abandoned = getattr(owner, "abandoned", None) if shutdown else None
        if (not call.done) if abandoned is None else abandoned(call):
            left.append((owner, call))
    return left


def abort_all_exporters() -> None:
    """Shut down every open exporter wrapper now (interrupting retry back-off); do not wait."""
    with _SHUTDOWN.lock:
        exporters = list(_SHUTDOWN.exporters)
    _start_all([(exporter, exporter.abort) for exporter in exporters])


def abort_point(deadline: Deadline, budget: float) -> Deadline:
    """When to stop waiting politely and abort exporters: a little before *deadline*."""
    return deadline.minus(min(ABORT_GRACE, budget * 0.2))


def _provider_shutdown_starter(provider: Any) -> Callable[[], BoundedCall[Any] | None]:
    def start() -> BoundedCall[Any] | None:
        return BoundedCall(provider.shutdown, "provider-shutdown").start()

    return start


# One group of a coordinated shutdown: its components, its providers and its budget in seconds.
_Group = tuple[list[Any], list[Any], float]
_Entry = tuple[Any, BoundedCall[Any], Deadline, float]


def _start_groups(groups: list[_Group], entries: list[_Entry]) -> None:
    """Start every group's shutdowns at once (into *entries*); each sees its group's deadline."""
    for components, providers, budget in groups:
        deadline = Deadline(budget).earliest(exit_deadline())
        _SHUTDOWN.active_deadline = deadline
        starts: list[tuple[Any, Callable[[], BoundedCall[Any] | None]]] = [
            (c, c.start_shutdown) for c in components if not c.shutdown_started
        ]
        starts += [(p, _provider_shutdown_starter(p)) for p in providers if p is not None]
        entries += [(owner, call, deadline, budget) for owner, call in _start_all(starts)]


def _latest(entries: list[_Entry]) -> Deadline:
    latest = Deadline(0.0)
    for _, _, deadline, _ in entries:
        if deadline.at is None or (latest.at is not None and deadline.at > latest.at):
            latest = deadline
    return latest


def _wait_groups(entries: list[_Entry], *, exiting: bool) -> BaseException | None:
    """Wait for each group until its deadline, aborting its exporters a little before it.

    Returns the interrupt (Ctrl-C) that stopped the waiting, if one did.
    """
    deadlines = sorted({id(e[2]): (e[2], e[3]) for e in entries}.values(), key=_deadline_key)
    try:
        for index, (deadline, budget) in enumerate(deadlines):
            calls = [(owner, call) for owner, call, d, _ in entries if d is deadline]
            # Abort a little before the deadline so that exports stuck in retry back-off end,
            # their processors finish, and everything still happens within the budget.
            if _wait_all(calls, abort_point(deadline, budget)):
                continue
            for owner, call in calls:
                abort = getattr(owner, "abort_exporters", None)
                if abort is not None and not call.done:
                    abort()
            if exiting and index == len(deadlines) - 1:
                abort_all_exporters()  # exporters no wrapped component holds, too
            _wait_all(calls, deadline)
    except BaseException as interrupt:  # noqa: BLE001 - Ctrl-C during shutdown: stop waiting
        return interrupt
    return None


# After an interrupt, how long the shutdowns already running get to finish before what they
# still hold is counted: those that were about to finish (most of them) lose nothing.
_INTERRUPT_GRACE = 0.05


def _grace(calls: list[tuple[Any, BoundedCall[Any]]]) -> None:
    with contextlib.suppress(BaseException):  # a second Ctrl-C ends the grace, nothing else
        _wait_all(calls, Deadline(_INTERRUPT_GRACE))


def _deadline_key(item: tuple[Deadline, float]) -> float:
    at = item[0].at
    return float("inf") if at is None else at


def _coordinate(groups: list[_Group], *, exiting: bool = False) -> bool:
    """Shut every group down at once, each within its own budget, all from one start."""
    previous = _SHUTDOWN.active_deadline
    entries: list[_Entry] = []
    try:
        try:
            _start_groups(groups, entries)
            latest = _latest(entries)
            if exiting:
                _SHUTDOWN.exit_deadline = latest
            _SHUTDOWN.active_deadline = latest
            interrupt = _wait_groups(entries, exiting=exiting)
        except BaseException as error:  # noqa: BLE001 - Ctrl-C before the waiting began
            interrupt = error
        calls = [(owner, call) for owner, call, _, _ in entries]
        if interrupt is not None:  # a shutdown started just before the interrupt is counted too
            listed = {id(owner) for owner, _ in calls}
            calls += [
                (c, c.shutdown_call)
                for components, _, _ in groups
                for c in components
                if id(c) not in listed and c.shutdown_call is not None
            ]
            _grace(calls)
            if exiting:  # nothing else waits at this exit: Ctrl-C means now
                _SHUTDOWN.exit_deadline = Deadline(0.0)
        left = _settle(calls, shutdown=True)
        reason = SkipReason.TIMEOUT if interrupt is None else SkipReason.INTERRUPTED
        for owner, call in left:
            note = getattr(owner, "note_timeout", None)
            if note is not None:  # providers hold no items of their own: not counted
                note(call, reason)
        for owner, _ in calls:
            settled = getattr(owner, "mark_settled", None)
            if settled is not None:
                settled()
        return not left and interrupt is None
    finally:
        _SHUTDOWN.active_deadline = previous


def shutdown_all(
    tracer_provider: Any = None,
    meter_provider: Any = None,
    logger_provider: Any = None,
    timeout: float | None = None,
) -> bool:
    """Shut down the three providers together within *timeout* seconds in total.

    Every wrapped processor and reader of the providers is shut down (which exports what it still
    holds: batch processors drain their queue, periodic readers collect once more), each on its
    own helper thread, all at once; the providers' own ``shutdown()`` runs alongside. When the
    budget is spent, waiting stops, what was left is counted as ``TIMEOUT`` and the exporters of
    the components left are shut down to interrupt retry back-off. Once the exit sequence ran, it
    waits no longer than the exit deadline. Idempotent; never raises.

    Args:
        tracer_provider: An SDK ``TracerProvider`` (or ``None``).
        meter_provider: An SDK ``MeterProvider`` (or ``None``).
        logger_provider: An SDK ``LoggerProvider`` (or ``None``).
        timeout: Total budget in seconds; default :func:`set_shutdown_timeout`'s value (3 s).

    Returns:
        ``True`` when everything finished in time.
    """
    providers = [tracer_provider, meter_provider, logger_provider]
    try:
        components = _providers_components(p for p in providers if p is not None)
        budget = _SHUTDOWN.default_timeout if timeout is None else timeout
        return _coordinate([(components, providers, budget)])
    except BaseException:  # noqa: BLE001 - shutdown never raises into the application
        return False
    finally:
        # A reconfiguration shuts the previous pipelines down after building new ones: telemetry
        # is only "shut down" when no wrapped component is left open.
        mark_shutdown(not _any_open())


def flush_all(
    tracer_provider: Any = None,
    meter_provider: Any = None,
    logger_provider: Any = None,
    timeout: float | None = None,
) -> bool:
    """Flush the three providers' wrapped components in parallel within *timeout* seconds.

    Returns:
        ``True`` when every flush finished in time and reported success.
    """
    providers = [p for p in (tracer_provider, meter_provider, logger_provider) if p is not None]
    try:
        components = _providers_components(providers)
        deadline = Deadline(_SHUTDOWN.default_timeout if timeout is None else timeout)
        calls = [c.start_flush(deadline) for c in components]
        ok = True
        for call in calls:
            if call is not None:
                ok = call.wait(deadline) and call.error is None and call.result is not False and ok
        return ok
    except BaseException:  # noqa: BLE001 - flushing never raises into the application
        return False


def register_telemetry(telemetry: Any) -> None:
    """Have the exit sequence shut *telemetry*'s providers down within its own budget.

    Every ``Telemetry`` registers (``configure()`` with or without ``set_global``, ``harden()``);
    at exit each one's components get ``telemetry.settings.shutdown_timeout`` seconds, all
    counted from the same start, so the exit takes as long as the largest budget, not their sum.
    """
    with _SHUTDOWN.lock:
        _SHUTDOWN.telemetries.add(telemetry)
    ensure_exit_hook()


def register_for_exit(telemetry: Any) -> None:
    """Make *telemetry* (a ``Telemetry``) the one the exit sequence shuts down, with its budget.

    Its ``settings.shutdown_timeout`` also becomes the budget of wrapped components that no
    registered ``Telemetry`` holds (:func:`set_shutdown_timeout`). The SDK's diagnostics become
    ours too from here (``configure()``/``harden()`` pipelines only).
    """
    guard_sdk_diagnostics()
    timeout = getattr(getattr(telemetry, "settings", None), "shutdown_timeout", None)
    if timeout is not None:
        set_shutdown_timeout(timeout)
    _SHUTDOWN.exit_telemetry = weakref.ref(telemetry)
    register_telemetry(telemetry)


def exit_started() -> bool:
    """Whether the interpreter's exit sequence has begun (``atexit`` hooks are running).

    ``threading`` marks the main thread stopped before it runs the ``atexit`` hooks (on the main
    thread), so this is also true inside the SDK's own exit hooks that run before ours. Other
    threads still running while the interpreter joins them do not count as the exit.
    """
    if _SHUTDOWN.exiting:
        return True
    main = threading.main_thread()
    return threading.current_thread() is main and not main.is_alive()


def exit_sequence_ran() -> bool:
    """Whether the exit (or pytest-finish) sequence already ran."""
    return _SHUTDOWN.exited


def exit_deadline() -> Deadline | None:
    """Return the exit sequence's deadline once it started (later shutdowns wait no longer)."""
    return cast("Deadline | None", _SHUTDOWN.exit_deadline)


def _exit_groups(components: list[Any], timeout: float | None) -> list[_Group]:
    """One group per live ``Telemetry`` with its own budget; the rest with the default one."""
    exit_telemetry = _SHUTDOWN.exit_telemetry
    with _SHUTDOWN.lock:
        telemetries = list(_SHUTDOWN.telemetries)
    first = exit_telemetry() if exit_telemetry is not None else None
    if first is not None and first in telemetries:
        telemetries.remove(first)
        telemetries.insert(0, first)
    groups: list[_Group] = []
    claimed: set[int] = set()
    for telemetry in telemetries:
        if getattr(telemetry, "is_shut_down", False):
            continue
        providers = [
            getattr(telemetry, name, None)
            for name in ("tracer_provider", "meter_provider", "logger_provider")
        ]
        owned = [c for c in _providers_components(p for p in providers if p is not None)]
        owned = [c for c in owned if id(c) not in claimed]
        claimed.update(id(c) for c in owned)
        budget = telemetry.settings.shutdown_timeout if timeout is None else timeout
        groups.append((owned, providers, budget))
    rest = [c for c in components if id(c) not in claimed]
    if rest:
        groups.append((rest, [], _SHUTDOWN.default_timeout if timeout is None else timeout))
    return groups


def shutdown_registered(timeout: float | None = None) -> bool:
    """Shut down every live wrapped component (the exit and pytest-finish sequence).

    Each registered ``Telemetry`` gets its own ``shutdown_timeout`` and the remaining components
    the default budget, all from one start; afterwards every shutdown waits no longer than that
    one exit deadline, so a repeated ``shutdown()`` (an SDK exit hook, a user's) returns at once.
    """
    with _SHUTDOWN.lock:
        if _SHUTDOWN.exited:
            return True
        _SHUTDOWN.exited = True
        components = list(_SHUTDOWN.components)
    try:
        return _coordinate(_exit_groups(components, timeout), exiting=True)
    except BaseException:  # noqa: BLE001 - runs at exit
        return False
    finally:
        mark_shutdown()


def run_exit_sequence() -> None:
    """Run the exit sequence: what the ``atexit`` hook runs (also when an SDK hook runs first)."""
    set_exiting(True)
    shutdown_registered()


def _at_exit() -> None:
    run_exit_sequence()


def ensure_exit_hook() -> None:
    """Register the exit sequence once (after ``logging``, so it runs before logging's own hook)."""
    if _SHUTDOWN.exit_hook_registered:
        return
    _SHUTDOWN.exit_hook_registered = True
    atexit.register(_at_exit)
