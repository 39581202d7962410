"""Global state department: the package's process-wide mutable state, and its one fork hook.

Every value the package keeps for the whole process (what ``configure()`` installed, the handler
registry, the skip ledger, the shutdown coordinator's registry, debug mode, a few hot-path caches)
is a field of one of the small holder objects below, documented field by field. The module that
owns a holder binds it once (``_LEDGER = _state.ledger``) and reads and assigns its fields, so no
module needs a ``global`` statement and every piece of state can be found here by name. Do not
reload this module: the owners would keep the old holders.

A forked child starts from a copy of its parent's memory, including locks held by threads that do
not exist in the child and counts that are the parent's. :func:`_after_fork_in_child`, the only
fork hook the package registers with ``os``, resets it in one defined order: the process id, then
every holder (new locks first, then what belongs to the parent), then the callbacks that modules
owning per-object state registered with :func:`on_fork_in_child`, in registration order.

Not here: per-object state (each wrapper, service or recorder keeps its own, and registers a fork
callback when it needs one) and memo caches whose loss changes nothing but speed (the instrument
caches of ``metrics`` and ``events._spans``, the capture processors' thread-name cache).

This module imports nothing from the package: it is the bottom layer, with ``_otel``. Fields
that hold objects of upper layers are typed ``Any`` and say what they hold; their owner module
reads them through a typed function.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Final, NamedTuple, final

__all__ = [
    "HANDLER_HISTORY_LIMIT",
    "HandlerSnapshot",
    "IdentityWeakSet",
    "config",
    "debug",
    "events",
    "handlers",
    "ledger",
    "on_fork_in_child",
    "otlp_encoding",
    "process",
    "proxies",
    "recording",
    "shutdown",
]


class IdentityWeakSet:
    """A set of live objects compared by identity, holding no reference to them.

    ``weakref.WeakSet`` compares by ``==`` and ``hash``; the defensive wrappers compare equal to
    the component they wrap (and so to another wrapper of it), which would merge two wrappers
    into one entry.
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()

    def add(self, item: Any) -> None:
        self._items[id(item)] = item

    def __contains__(self, item: object) -> bool:
        return self._items.get(id(item)) is item

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)


HANDLER_HISTORY_LIMIT: Final = 100
"""Handlers detached after failures that are kept for ``health()``."""


@final
class _Process:
    """The process itself."""

    __slots__ = ("pid",)

    def __init__(self) -> None:
        self.pid: int = os.getpid()
        """This process's id, stamped on every event (``process.pid``); renewed in a child."""

    def reset_in_child(self) -> None:
        self.pid = os.getpid()


@final
class _Proxies:
    """The rebinding global providers ``_config._globals`` installs (once per process)."""

    __slots__ = ("install_lock", "installed")

    def __init__(self) -> None:
        self.installed: Any = None
        """The ``GlobalProxies`` installed as the OpenTelemetry globals, or ``None`` before.

        Never replaced once set; ``emit()`` reads its ``logger_provider`` on every event."""
        self.install_lock = threading.Lock()
        """Serialises the one installation."""

    def reset_in_child(self) -> None:
        self.install_lock = threading.Lock()


@final
class _Config:
    """What ``configure()`` built and the runtime-metrics binding (``_config``)."""

    __slots__ = (
        "active",
        "active_lock",
        "rejected",
        "rejected_lock",
        "runtime_metrics_lock",
        "runtime_metrics_provider",
    )

    def __init__(self) -> None:
        self.active: Any = None
        """The ``Telemetry`` the OpenTelemetry globals point at (``current()``), or ``None``."""
        self.active_lock = threading.Lock()
        """Serialises replacing :attr:`active`."""
        self.runtime_metrics_provider: weakref.ref[Any] | None = None
        """The ``MeterProvider`` the runtime-metrics instrumentor is bound to (weakly)."""
        self.runtime_metrics_lock = threading.Lock()
        """Serialises rebinding the runtime-metrics instrumentor."""
        self.rejected: dict[tuple[str, str, int], int] = {}
        """Exports an OTLP endpoint refused for good, by ``(signal, endpoint, HTTP status)``.

        The first of each key was reported on stderr; ``health()["otlp_rejected"]`` shows them."""
        self.rejected_lock = threading.Lock()
        """Serialises :attr:`rejected` (export threads of every signal write it)."""

    def reset_in_child(self) -> None:
        self.active_lock = threading.Lock()
        self.runtime_metrics_lock = threading.Lock()
        self.rejected_lock = threading.Lock()
        self.rejected = {}


@final
class _Events:
    """Hot-path caches of ``emit()`` (``events``)."""

    __slots__ = ("correlation", "logger")

    def __init__(self) -> None:
        self.correlation: tuple[Any, str | None] = (None, None)
        """The last OpenTelemetry context whose correlation id was looked up, and that id.

        A tuple is replaced atomically, so readers need no lock."""
        self.logger: tuple[object, Any] = (None, None)
        """The logger provider ``emit()`` last resolved its logger on, and that ``Logger``."""

    def reset_in_child(self) -> None:
        self.correlation = (None, None)


class HandlerSnapshot(NamedTuple):
    """The attached handlers, immutable: ``attach``/``detach`` swap in a new one under a lock."""

    handlers: tuple[Any, ...]
    """The attached ``events._dispatch._Handler`` objects, in attach order."""
    by_name: dict[str, tuple[Any, ...]]
    """Per event name, the handlers matching it (filled as names are seen)."""


class _DispatchDepth(threading.local):
    """How many handler dispatches are running in this thread (0: none).

    The count sits in a one-element list, ``cell``, so that dispatch reads the thread-local
    once (a thread-local attribute costs about 30 ns; a list item a few).
    """

    def __init__(self) -> None:
        self.cell = [0]

    @property
    def value(self) -> int:
        """The current depth."""
        return self.cell[0]


@final
class _Handlers:
    """The handler registry and its failure reports (``events._dispatch``)."""

    __slots__ = ("depth", "history", "lock", "pending", "pending_count", "snapshot")

    def __init__(self) -> None:
        self.snapshot = HandlerSnapshot((), {})
        """The current registry; ``emit()`` reads it without a lock."""
        self.lock = threading.Lock()
        """Serialises changes to the registry, handler failure counts and the fields below."""
        self.history: collections.deque[Any] = collections.deque(maxlen=HANDLER_HISTORY_LIMIT)
        """The handlers detached after failures, newest last, for ``handler_states()``."""
        self.pending: dict[int, list[dict[str, Any]]] = {}
        """Per thread id, the failure events waiting for the outermost dispatch to send them."""
        self.pending_count = 0
        """How many reports :attr:`pending` holds, so dispatch can check with one read."""
        self.depth = _DispatchDepth()
        """Per thread, how deep handler dispatch is nested (``value``; 0: not dispatching)."""

    def clear_failures_for_tests(self) -> None:
        """Forget failure history and pending reports (test isolation only; detach publicly)."""
        with self.lock:
            self.history.clear()
            self.pending = {}
            self.pending_count = 0

    def reset_in_child(self) -> None:
        self.lock = threading.Lock()
        mine = self.pending.get(threading.get_ident())  # the forking thread lives on
        self.pending = {} if mine is None else {threading.get_ident(): mine}
        self.pending_count = 0 if mine is None else len(mine)


@final
class _Ledger:
    """The skip ledger and the health report's parts (``defensive._ledger``)."""

    __slots__ = (
        "breaker_listeners",
        "counts",
        "last_dropped",
        "listeners",
        "lock",
        "rejections",
        "shut_down",
        "skip_metric_providers",
        "sources",
        "states",
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        """Guards :attr:`counts`, :attr:`states`, :attr:`sources` and :attr:`listeners`."""
        self.counts: collections.Counter[tuple[str, Any]] = collections.Counter()
        """Items not delivered, by ``(component, SkipReason)``; a child starts at zero."""
        self.listeners: tuple[Callable[..., None], ...] = ()
        """Called for every skip (debug logging); replaced as a whole, read without the lock."""
        self.last_dropped = threading.local()
        """Per thread, the last item dropped after shutdown (``.item``): the next wrapper on the
        same provider, called with the same span or record, does not count it again."""
        self.rejections = 0
        """Exports a backend refused as misconfigured (a permanent OTLP error such as 404): the
        exporter wrapper compares it around an export to count the loss as ``REJECTED`` and to
        keep its backend-down breaker closed (the backend is there; retrying cannot help)."""
        self.breaker_listeners: tuple[Callable[[str, str, str], None], ...] = ()
        """Called with (component, from, to) when an exporter's backend-down breaker moves
        (``events`` emits ``foundation.telemetry.exporter.state_change``); replaced as a whole."""
        self.states: dict[str, dict[str, Any]] = {}
        """Exporter states by component (``ok``, ``failing``...); a child starts empty."""
        self.sources: dict[str, Callable[[], Any]] = {}
        """Extra ``health()`` parts by key (``"handlers"``...)."""
        self.shut_down = False
        """Whether telemetry was shut down (``health()["shutdown"]``)."""
        self.skip_metric_providers: weakref.WeakSet[Any] = weakref.WeakSet()
        """The ``MeterProvider`` s the ``foundation.telemetry.skipped`` metric is installed on."""

    def reset_in_child(self) -> None:
        self.lock = threading.Lock()
        self.counts.clear()
        self.states.clear()


@final
class _Debug:
    """Debug mode (``defensive._debug``)."""

    __slots__ = ("enabled", "seen", "seen_lock")

    def __init__(self) -> None:
        self.enabled = False
        """Whether each new (component, reason) skip is logged (``set_debug``); its first value
        comes from ``FOUNDATION_TELEMETRY_DEBUG`` when ``defensive._debug`` is imported."""
        self.seen: set[tuple[str, Any]] = set()
        """The (component, SkipReason) pairs already logged; a child logs them again."""
        self.seen_lock = threading.Lock()
        """Guards :attr:`seen`."""

    def reset_in_child(self) -> None:
        self.seen_lock = threading.Lock()
        self.seen.clear()


@final
class _Shutdown:
    """The shutdown coordinator and the exit sequence (``defensive._shutdown``)."""

    __slots__ = (
        "active_deadline",
        "adopted",
        "components",
        "default_timeout",
        "exit_deadline",
        "exit_hook_registered",
        "exit_telemetry",
        "exited",
        "exiting",
        "exporters",
        "lock",
        "pytest_sessions",
        "telemetries",
    )

    def __init__(self) -> None:
        self.components = IdentityWeakSet()
        """Every live wrapped processor and reader (``Coordinated``)."""
        self.adopted: weakref.WeakKeyDictionary[Any, tuple[Any, ...]] = weakref.WeakKeyDictionary()
        """What ``configure()`` added to each provider it built (providers built elsewhere are read)."""
        self.exporters = IdentityWeakSet()
        """Every live exporter wrapper (``Abortable``), aborted when a deadline is spent."""
        self.lock = threading.Lock()
        """Guards :attr:`components`, :attr:`exporters` and :attr:`exited`."""
        self.default_timeout = 3.0
        """The shutdown budget in seconds (``configure(shutdown_timeout=...)``)."""
        self.active_deadline: Any = None
        """The ``Deadline`` of the coordinated flush or shutdown in progress, if any."""
        self.exit_hook_registered = False
        """Whether the ``atexit`` exit sequence is registered."""
        self.exited = False
        """Whether the exit (or pytest-finish) sequence already ran."""
        self.exit_telemetry: weakref.ref[Any] | None = None
        """The ``Telemetry`` the exit sequence shuts down (weakly)."""
        self.telemetries: weakref.WeakSet[Any] = weakref.WeakSet()
        """Every live ``Telemetry`` (``configure()``, ``harden()``), each with its own budget."""
        self.exit_deadline: Any = None
        """Once the exit sequence started: the ``Deadline`` every later shutdown is capped by."""
        self.exiting = False
        """Whether the interpreter's exit sequence has started (classification reads it)."""
        self.pytest_sessions = 0
        """How many pytest sessions are running in this process (``pytester`` nests them)."""

    def reset_in_child(self) -> None:
        self.lock = threading.Lock()
        self.active_deadline = None


@final
class _Recording:
    """The recording and expectation defaults (``recording``)."""

    __slots__ = ("default_timeout", "full_failures", "session_recorders")

    def __init__(self) -> None:
        self.default_timeout: float | None = None
        """The unscaled default expectation timeout in seconds set by ``set_default_timeout``;
        ``None``: ``recording._timeouts.DEFAULT_TIMEOUT``."""
        self.session_recorders: weakref.WeakSet[Any] = weakref.WeakSet()
        """The ``Recorder`` s that attach to the providers of every ``configure()``."""
        self.full_failures = False
        """Whether failure messages list every received record (``pytest -vv``) instead of a
        capped, grouped summary."""

    def reset_in_child(self) -> None:
        """Keep everything: a child keeps its parent's defaults and session recorders."""


@final
class _OtlpEncoding:
    """What the direct OTLP encoder did, per signal (``otlp._fallback``)."""

    __slots__ = ("direct", "fallback", "last_fallback")

    def __init__(self) -> None:
        self.direct: collections.Counter[str] = collections.Counter()
        """Batches the direct encoder wrote, by signal (``"traces"``...); a child starts at zero."""
        self.fallback: collections.Counter[str] = collections.Counter()
        """Batches handed to the stock encoder instead, by signal; a child starts at zero."""
        self.last_fallback: str | None = None
        """Why the most recent batch was handed over (the input the direct encoder refused)."""

    def reset_in_child(self) -> None:
        self.direct.clear()
        self.fallback.clear()
        self.last_fallback = None


process: Final = _Process()
proxies: Final = _Proxies()
config: Final = _Config()
events: Final = _Events()
handlers: Final = _Handlers()
ledger: Final = _Ledger()
debug: Final = _Debug()
shutdown: Final = _Shutdown()
recording: Final = _Recording()
otlp_encoding: Final = _OtlpEncoding()

# The reset order of a forked child: the process id first, then every holder.
_HOLDERS: Final = (
    process,
    proxies,
    config,
    events,
    handlers,
    ledger,
    debug,
    shutdown,
    recording,
    otlp_encoding,
)
_fork_callbacks: list[Callable[[], None]] = []


def on_fork_in_child(callback: Callable[[], None]) -> None:
    """Call *callback* in every forked child, after the holders above were reset.

    For modules that own per-object state (wrappers, services). Callbacks run in registration
    order; one that raises is skipped, so the child always starts.
    """
    _fork_callbacks.append(callback)


def _after_fork_in_child() -> None:
    for holder in _HOLDERS:
        with contextlib.suppress(Exception):  # a child must start even if one reset fails
            holder.reset_in_child()
    for callback in list(_fork_callbacks):
        with contextlib.suppress(Exception):
            callback()


os.register_at_fork(after_in_child=_after_fork_in_child)
