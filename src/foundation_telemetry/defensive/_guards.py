"""The logic every wrapper shares: bounded shutdown/flush for components, guarded export for exporters.

:class:`GuardedComponent` is the base of the processor and reader wrappers: shutdown and flush run
on helper threads against the coordinator's deadline (or the default budget), are idempotent, and
count what they abandon. :class:`GuardedExporter` is the base of the exporter wrappers: it counts
exceptions and non-success results per item, tracks the exporter's state for ``health()``, can
bound each export with a deadline, and after shutdown drops and counts instead of exporting.
The per-signal modules add only the signal's hook signatures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from opentelemetry import context as otel_context

from .. import _state
from .._otel import _internals
from . import _shutdown
from ._batch import Batching
from ._bounded import BoundedCall, CallWorker, Deadline
from ._breaker import Breaker
from ._classify import classify, exit_sequence_ran
from ._ledger import SkipReason, count_skip, mark_shutdown, set_component_state
from ._policy import ContainsOwnFailures, contain
from ._skip_metric import ComponentName

__all__ = [
    "GuardedComponent",
    "GuardedExporter",
    "Transparent",
    "component_name",
    "require_methods",
]

R = TypeVar("R")
_COUNTED: Any = object()  # a bounded export that timed out and was already counted
_SUPPRESS_KEY = _internals.SUPPRESS_INSTRUMENTATION_KEY
_LEDGER = _state.ledger  # its ``last_dropped`` and ``rejections`` fields
# Failures that say the backend is not there (they open the breaker); others say nothing of it.
_UNAVAILABLE = frozenset({SkipReason.BACKEND_UNAVAILABLE, SkipReason.TIMEOUT})


def component_name(inner: object, name: str | None) -> str:
    """Return *name*, or a readable default derived from the wrapped object's class.

    The name belongs to no pipeline until ``configure()`` adopts the wrapper (its skips then
    count in that pipeline's ``foundation.telemetry.skipped`` metric).
    """
    if name is not None:
        if not isinstance(name, str) or not name:
            msg = f"`name` must be a non-empty string, got {name!r}."
            raise ValueError(msg)
        return ComponentName(name)
    return ComponentName(type(inner).__name__)


def require_methods(inner: object, argument: str, kind: str, methods: tuple[str, ...]) -> None:
    """Accept any object with *kind*'s methods (the SDK duck-types its components too).

    Raises:
        TypeError: *inner* lacks one of *methods*; the message names the argument and them.
    """
    missing = [m for m in methods if not callable(getattr(inner, m, None))]
    if inner is None or missing:
        needs = f" (an object with {', '.join(methods)})" if methods else ""
        lacks = f" without {', '.join(missing)}" if missing else ""
        msg = f"`{argument}` must be a {kind}{needs}, got {type(inner).__name__}{lacks}."
        raise TypeError(msg)


class Transparent:
    """What makes a wrapper stand in for the wrapped component wherever the SDK or a user looks.

    Attributes the wrapper does not define are read from the wrapped object
    (``reader.exporter``, ``processor.span_exporter``); ``isinstance`` sees the wrapped class as
    well as the wrapper's own.
    """

    _inner_obj: object

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        inner = self.__dict__.get("_inner_obj")
        return type(self) if inner is None else type(inner)

    def __getattr__(self, name: str) -> Any:
        # Only called for names the wrapper lacks; dunders and our own fields never forward.
        if name.startswith("__") or name == "_inner_obj":
            raise AttributeError(name)
        return getattr(self._inner_obj, name)

    # Equal to (and hashed as) the wrapped component, as a transparent object proxy is: code that
    # compares what it handed in with what a processor holds (``processor.span_exporter ==
    # exporter``) finds the same thing.
    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        inner = self.__dict__.get("_inner_obj")
        return NotImplemented if inner is None else bool(inner == other)

    def __hash__(self) -> int:
        inner = self.__dict__.get("_inner_obj")
        try:
            return object.__hash__(self) if inner is None else hash(inner)
        except TypeError:  # an unhashable component: the wrapper still goes into sets
            return object.__hash__(self)


def _deadline(timeout_millis: float | None = None) -> Deadline:
    """Return the budget for one flush or shutdown, capped by a coordinated deadline.

    Without *timeout_millis*, a coordinated shutdown's own deadline is the budget; once the exit
    sequence ran, nothing waits past its deadline.
    """
    active = _shutdown.active_deadline()
    if timeout_millis is None and active is not None:
        return active
    budget = _shutdown.default_timeout() if timeout_millis is None else timeout_millis / 1000
    return Deadline(budget).earliest(active).earliest(_shutdown.exit_deadline())


def _exporter_of(inner: object) -> object:
    """Return the exporter a processor or reader holds (ours or the SDK's), or ``None``."""
    if isinstance(inner, Batching):
        return inner.exporter
    return _internals.exporter_of(inner)


def _worker_outlived_shutdown(inner: object) -> bool:
    """Whether a batch processor's or periodic reader's own thread is still running.

    Their ``shutdown()`` joins that thread with a timeout and then returns regardless, so a
    shutdown that *finished* can still have abandoned the final export the thread is stuck in.
    """
    if isinstance(inner, Batching):
        return inner.worker_alive
    return _internals.stock_batch_worker_alive(inner) or _internals.periodic_reader_thread_alive(
        inner
    )


class GuardedComponent(Transparent):
    """Shutdown and flush handling shared by the processor and reader wrappers."""

    # Whether shutting down delivers something of its own (a reader's final collection), lost
    # when the shutdown is abandoned even though nothing was queued.
    _final_delivery = False
    # The per-item hooks: while open, served by the inner processor's own methods (one of ours
    # that contains its own failures) or by the closures of ``_guarded_hooks``.
    _open_hooks: tuple[str, ...] = ()
    _guarded: dict[str, Callable[..., None]]

    def _init_guard(self, inner: object, name: str | None) -> None:
        self._name = component_name(inner, name)
        self._inner_obj = inner
        if isinstance(inner, ContainsOwnFailures):
            inner.component_name = self._name  # its own counts go under the wrapper's name
        # A stock batch processor's full queue silently pushes its oldest item out; the wrapper
        # only reads the queue's length and counts what the SDK's own check would drop.
        self._stock_queue = _internals.stock_batch_queue(inner)
        self._queue_max = _internals.stock_batch_capacity(inner) or 0
        self._closed = False
        self._drop_late = False
        self._guard_lock = threading.Lock()
        self._shutdown_call: BoundedCall[Any] | None = None
        self._timeout_noted = False
        self._settled = False  # a shutdown was waited for to its end: never wait again
        mark_shutdown(False)
        self._bind_open_hooks(inner)
        _shutdown.register_component(self)

    def _bind_open_hooks(self, inner: object) -> None:
        """Serve the per-item hooks from the instance while open, until shutdown starts.

        A processor of ours that contains its own failures is called directly (no wrapper
        frame); any other through closures that hold what they need in cells: a class with
        ``__getattr__`` (``Transparent``) gets no attribute-lookup specialisation, so each
        ``self.`` lookup in a method would cost more than the whole call.
        """
        self._guarded = self._guarded_hooks()
        if isinstance(inner, ContainsOwnFailures):
            self.__dict__.update(
                (h, getattr(inner, h))
                for h in self._open_hooks
                if callable(getattr(inner, h, None))
            )
        else:
            self.__dict__.update(self._guarded)

    def _guarded_hooks(self) -> dict[str, Callable[..., None]]:
        """Each hook as a closure that forwards, contains and counts (no late-item check)."""
        return {}

    def _unbind_open_hooks(self) -> None:
        """Give the hooks back to the wrapper's own methods, which drop and count late items."""
        for hook in self._open_hooks:
            self.__dict__.pop(hook, None)

    @property
    def component_name(self) -> str:
        """Name used for this component in skip counts and ``health()``."""
        return self._name

    def held_exporter(self) -> object:
        """Return the exporter the wrapped processor or reader holds (``None`` when unknown)."""
        return _exporter_of(self._inner_obj)

    def _inner_shutdown(self, timeout_millis: float) -> None:
        raise NotImplementedError

    def _inner_flush(self, timeout_millis: float) -> bool:
        raise NotImplementedError

    def _drops_late_items(self) -> bool:
        """Whether an item arriving now is dropped: shut down by our coordinator or at exit."""
        return self._closed and (self._drop_late or exit_sequence_ran())

    def _dropped(self, item: str | None, count: int = 1, *, source: object = None) -> None:
        """Count an item arriving after shutdown, once however many wrappers see *source*.

        A provider hands the same span (or log record) to each of its processors in turn on
        the same thread; the first wrapper counts it, the others recognise it.
        """
        if source is not None:
            last = _LEDGER.last_dropped
            if getattr(last, "item", None) is source:
                return
            last.item = source
        count_skip(self._name, SkipReason.SHUTDOWN, count, item=item)

    def _stock_queue_full(self) -> bool:
        """Whether a stock batch processor's queue is full, so its next item pushes one out.

        The same check the SDK makes before it appends; the worker taking a batch at that very
        moment can make it count one item too many or too few.
        """
        queue = self._stock_queue
        return queue is not None and len(queue) >= self._queue_max

    @property
    def shutdown_started(self) -> bool:
        """Whether shutdown was already started (by anyone)."""
        return self._shutdown_call is not None

    @property
    def shutdown_call(self) -> BoundedCall[Any] | None:
        """The shutdown started (by anyone), if one was."""
        return self._shutdown_call

    def start_shutdown(self, *, coordinated: bool = True) -> BoundedCall[Any]:
        """Start (once) the wrapped component's shutdown on a helper thread and return the call.

        Args:
            coordinated: ``True`` (our shutdown coordinator): items arriving later are dropped
                and counted. ``False`` (the SDK or the user called ``shutdown()``): they still
                go to the wrapped component, as they would without the wrapper.
        """
        with self._guard_lock:
            if self._shutdown_call is None:
                self._closed = True
                self._drop_late = coordinated
                self._unbind_open_hooks()
                budget = _deadline().remaining() or 0.0
                exporter = _exporter_of(self._inner_obj)
                if isinstance(exporter, GuardedExporter):
                    exporter.final_attempt()  # one attempt for the final export, no back-off

                def run() -> None:
                    with _suppressed():
                        self._inner_shutdown(budget * 1000)

                # Stored before it starts: an interrupt inside start() (Thread.start waits for
                # the thread) must still find the call, to count what it abandons.
                self._shutdown_call = BoundedCall(run, f"{self._name}-shutdown")
                self._shutdown_call.start()
            return self._shutdown_call

    def start_flush(self, deadline: Deadline) -> BoundedCall[Any] | None:
        """Start a flush on a helper thread; ``None`` once shut down.

        A flush asks for delivery now: an open breaker lets its next export probe at once.
        """
        if self._closed:
            return None
        exporter = _exporter_of(self._inner_obj)
        if isinstance(exporter, GuardedExporter):
            exporter.probe_now()
        millis = (deadline.remaining() or 0.0) * 1000

        def run() -> bool:
            with _suppressed():
                return self._inner_flush(millis) is not False

        return BoundedCall(run, f"{self._name}-flush").start()

    def _after_fork(self) -> None:
        """Forget the parent's locks; restart our own batch worker (called in a forked child)."""
        self._guard_lock = threading.Lock()
        if isinstance(self._inner_obj, Batching):
            self._inner_obj.reinit_after_fork()

    def abandoned(self, call: BoundedCall[Any]) -> bool:
        """Whether the shutdown *call* gave up on work: unfinished, or its worker thread still stuck."""
        if not call.done:
            return True
        return call.error is None and _worker_outlived_shutdown(self._inner_obj)

    def mark_settled(self) -> None:
        """Record that a shutdown was waited for (finished or abandoned): later calls return."""
        self._settled = True

    def note_timeout(self, call: BoundedCall[Any], reason: SkipReason = SkipReason.TIMEOUT) -> None:
        """Count (once) the items an abandoned shutdown leaves in the component, as *reason*."""
        with self._guard_lock:
            if self._timeout_noted:
                return
            self._timeout_noted = True
        inner = self._inner_obj
        if isinstance(inner, Batching):
            # Our own processor hands over exactly what it gives up on, once.
            lost = inner.abandon()
            if lost:
                count_skip(self._name, reason, lost, item="shutdown")
            return
        queued = _internals.stock_batch_queued(inner)
        exporter = _exporter_of(inner)
        if isinstance(exporter, GuardedExporter):
            # The batch it is stuck exporting is counted here, and not again when it fails.
            lost = (queued or 0) + exporter.claim_inflight()
        else:
            lost = max(queued or 0, 1)  # unknown contents: at least what it was holding
        if not lost and queued is None and self._final_delivery:
            lost = 1  # a reader's final collection, not exported: one lost delivery
        if lost:
            count_skip(self._name, reason, lost, item="shutdown")

    def abort_exporters(self) -> None:
        """Shut down the wrapped component's own defensive exporter now (ends retry back-off)."""
        exporter = _exporter_of(self._inner_obj)
        if isinstance(exporter, GuardedExporter):
            exporter.abort()

    def _bounded_shutdown(self, timeout_millis: float | None = None) -> None:
        """``shutdown()`` for the SDK: start or join the shutdown, bounded, never raising.

        A shutdown already waited for (by the coordinator or an earlier call) is not waited for
        again. Called at exit before our own exit hook ran (an SDK ``shutdown_on_exit`` hook
        registered later than ours), it runs the whole exit sequence first, so every provider
        shuts down at once within one deadline instead of one full budget after another.
        """
        if self._settled:
            return
        try:
            if _shutdown.exit_started() and not _shutdown.exit_sequence_ran():
                _shutdown.run_exit_sequence()
                if self._settled:
                    return
            call = self.start_shutdown(coordinated=False)
            # Never longer than the configured shutdown budget, whatever the SDK caller passes.
            deadline = _deadline(timeout_millis).earliest(_deadline())
            budget = deadline.remaining() or 0.0
            if not call.wait(_shutdown.abort_point(deadline, budget)):
                self.abort_exporters()
                call.wait(deadline)
            if call.done and call.error is not None:
                contain(self._name, call.error, item="shutdown")
            elif self.abandoned(call):
                self.note_timeout(call)
        except BaseException as error:  # noqa: BLE001 - shutdown never raises
            contain(self._name, error, item="shutdown")
        finally:
            self._settled = True

    def _bounded_flush(self, timeout_millis: float | None) -> bool:
        """``force_flush()`` for the SDK: bounded by *timeout_millis*, never raising.

        A late flush is given up one millisecond after *timeout_millis*: the SDK's
        multi-processor passes its remaining time floored to whole milliseconds and moves on to
        the next processor unless its own deadline has passed, so giving up exactly at
        *timeout_millis* would have it flush the next one while this one still runs.
        """
        give_up = None if timeout_millis is None else timeout_millis + 1
        try:
            call = self.start_flush(_deadline(timeout_millis))
            if call is None:
                return False
            if not call.wait(_deadline(give_up)):
                # As without the wrapper, the component's own flush has been called when this
                # returns, even when a loaded machine gave its thread no time before the deadline.
                call.wait_entered(Deadline(_shutdown.default_timeout()))
                return False  # nothing is lost yet: the items stay queued
            if call.error is not None:
                contain(self._name, call.error, item="force_flush")
                return False
            return call.result is not False
        except BaseException as error:  # noqa: BLE001 - flushing never raises
            contain(self._name, error, item="force_flush")
            return False


class _suppressed:
    """Suppress instrumentation around a call and always detach, even on BaseException."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = otel_context.attach(otel_context.set_value(_SUPPRESS_KEY, True))

    def __exit__(self, *exc: object) -> None:
        otel_context.detach(self._token)


class GuardedExporter(Transparent, Generic[R]):
    """Export, shutdown and flush handling shared by the three exporter wrappers."""

    # Whether ``export(batch)`` is served by a closure from the instance while fast (open,
    # unbounded, healthy): the same reason as ``GuardedComponent._bind_open_hooks``.
    _fast_export_hook = False

    def _init_guard(
        self,
        inner: object,
        name: str | None,
        export_timeout: float | None,
        success: R,
        failure: R,
    ) -> None:
        if export_timeout is not None and (
            isinstance(export_timeout, bool)
            or not isinstance(export_timeout, int | float)
            or export_timeout <= 0
        ):
            msg = f"`export_timeout` must be a positive number of seconds or None, got {export_timeout!r}."
            raise ValueError(msg)
        self._name = component_name(inner, name)
        self._inner_obj = inner
        self._export_timeout = export_timeout
        self._success = success
        self._failure = failure
        self._closed = False
        self._aborted = False
        self._state = "idle"
        self._hung: BoundedCall[Any] | None = None  # an export abandoned at its deadline
        # The batch being exported, in a one-slot list: the fast path writes it through a
        # closure cell (an attribute store on a ``Transparent`` instance costs several times more).
        self._inflight: list[Any] = [None]
        self._claimed: Any = None  # the in-flight batch an abandoned shutdown counted
        self._claim_lock = threading.Lock()  # a batch is counted by the processor or by us
        # Open, unbounded and healthy ("ok"): a success needs no bookkeeping at all.
        self._fast = False
        self._fast_path: Callable[[Any], R] | None = None  # built on the first switch to fast
        self._inner_export: Callable[[Any], R] = self._export_inner
        self._stop_lock = threading.Lock()
        self._stop_call: BoundedCall[Any] | None = None
        self._breaker = Breaker(self._name)
        self._worker = CallWorker(f"{self._name}-export")  # bounded exports run there
        set_component_state(self._name, "idle")
        _shutdown.register_exporter(self)

    @property
    def component_name(self) -> str:
        """Name used for this exporter in skip counts and ``health()``."""
        return self._name

    @property
    def state(self) -> str:
        """``idle``, ``ok``, ``failing``, ``hung`` or ``shutdown``."""
        return self._state

    def _after_fork(self) -> None:
        """Forget the parent's locks and in-flight exports (called in a forked child)."""
        self._stop_lock = threading.Lock()
        self._claim_lock = threading.Lock()
        self._hung = None
        self._worker.reinit_after_fork()
        self._breaker.reinit_after_fork()
        if self._state == "hung":
            self._set_state("idle")

    def _set_state(self, state: str, error: BaseException | None = None) -> None:
        self._set_fast(state == "ok" and not self._closed and self._export_timeout is None)
        if self._state != state or error is not None:
            self._state = state
            set_component_state(self._name, state, error=error)

    def _set_fast(self, fast: bool) -> None:
        if fast and self._fast_path is None:
            self._fast_path = self._fast_export()  # set before _fast: a reader of one finds both
        self._fast = fast
        if self._fast_export_hook:
            if fast:
                self.__dict__["export"] = self._fast_path
            else:
                self.__dict__.pop("export", None)

    def _fast_export(self) -> Callable[[Any], R]:
        """Return the export of an open, unbounded, healthy exporter as a closure.

        Served from the instance as ``export`` while fast (signal wrappers with
        ``_fast_export_hook``) and called by :meth:`_guarded_export` otherwise. A thread that
        looked the closure up just before a state change still runs it once; a failure there
        is counted as on the slow path.
        """
        inflight, inner_export, success = self._inflight, self._inner_export, self._success
        export_raised, export_result = self._export_raised, self._export_result

        def export(batch: Any) -> R:
            inflight[0] = batch
            try:
                result = inner_export(batch)
            except BaseException as error:  # noqa: BLE001 - _export_raised applies the policy
                return export_raised(batch, error)
            inflight[0] = None
            if result is success:
                return result
            return export_result(batch, result)

        return export

    def _export_inner(self, batch: Any) -> R:
        raise NotImplementedError

    def _count(self, batch: Any) -> int:
        return len(batch)

    def _describe(self, batch: Any) -> str:
        return f"{self._count(batch)} item(s)"

    def _guarded_export(self, batch: Any) -> R:
        """Export *batch*; count every item not delivered; return the inner result or FAILURE.

        A success from a healthy, open, unbounded exporter takes :meth:`_fast_export` (the
        span and log wrappers serve it as ``export`` itself: it is the per-span cost under a
        ``SimpleSpanProcessor``); everything else goes through the slow-path helpers below.
        """
        if not self._fast:
            return self._export_slow(batch)
        return self._fast_path(batch)  # type: ignore[misc]  # set whenever _fast is

    @property
    def breaker_state(self) -> str:
        """The backend-down breaker: ``closed``, ``open`` or ``half_open`` (one probe running)."""
        return self._breaker.state

    def probe_now(self) -> None:
        """Let the next export reach the backend even while the breaker waits out its back-off."""
        self._breaker.probe_now()

    def final_attempt(self) -> None:
        """Let the exports still to come make one attempt each, without retry back-off.

        Called when the processor or reader holding this exporter starts shutting down, so a
        final flush against a backend that refuses connections ends at once instead of retrying.
        """
        self._breaker.quiet = True  # the events would only arrive after their pipeline closed
        _internals.end_exporter_retries(self._inner_obj)

    def _export_slow(self, batch: Any) -> R:
        if self._closed:
            self._skip(SkipReason.TIMEOUT if self._aborted else SkipReason.SHUTDOWN, batch)
            return self._failure
        hung = self._hung
        if hung is not None and not hung.done:  # an abandoned export still hangs
            self._skip(SkipReason.TIMEOUT, batch)
            return self._failure
        if not self._breaker.admit():
            self._skip(SkipReason.BACKEND_UNAVAILABLE, batch)
            return self._failure
        self._inflight[0] = batch
        rejections = _LEDGER.rejections
        try:
            if self._export_timeout is None:
                result = self._inner_export(batch)
            else:
                result = self._export_bounded(batch)
        except BaseException as error:  # noqa: BLE001 - _export_raised applies the policy
            return self._export_raised(batch, error)
        self._inflight[0] = None
        if result is not self._success and _LEDGER.rejections != rejections:
            return self._export_rejected(batch, result)
        return self._export_result(batch, result)

    def _export_rejected(self, batch: Any, result: R) -> R:
        """Count a batch the backend refused as misconfigured; the breaker stays closed."""
        self._breaker.record(available=True)
        self._set_state("failing")
        self._skip(SkipReason.REJECTED, batch)
        return result

    def _export_raised(self, batch: Any, error: BaseException) -> R:
        """Count a batch lost to *error*; re-raise only under the interrupt policy."""
        self._inflight[0] = None
        self._breaker.record(available=classify(error) not in _UNAVAILABLE)
        self._set_state("failing", error)
        if self._claimed is batch:  # an abandoned shutdown already counted this batch
            return self._failure
        if contain(
            self._name,
            error,
            item=self._safe(self._describe, batch, "?"),
            count=self._safe(self._count, batch, 1),
        ):
            raise error
        return self._failure

    def _export_result(self, batch: Any, result: Any) -> R:
        """Handle anything but a success from a healthy exporter: state, counts, the result."""
        if result is self._success:
            self._breaker.record(available=True)
            self._set_state("ok")
            return result
        if result is _COUNTED:
            self._breaker.record(available=False)
            return self._failure
        if self._claimed is batch:
            return self._failure
        if not isinstance(result, type(self._failure)):
            # Not an export result (None, True, a mock): handed back as is, like the SDK does;
            # only an explicit False says the batch was lost.
            self._breaker.record(available=True)
            if result is False:
                self._set_state("failing")
                self._skip(SkipReason.CONTRACT_VIOLATION, batch)
            return result  # type: ignore[no-any-return]
        reason = SkipReason.TIMEOUT if self._aborted else SkipReason.BACKEND_UNAVAILABLE
        if self._closed and not self._aborted:
            reason = SkipReason.SHUTDOWN
        self._breaker.record(available=False)
        self._set_state("failing")
        self._skip(reason, batch)
        return result

    def claim_inflight(self) -> int:
        """Return the size of the batch being exported now, which its caller counts instead."""
        with self._claim_lock:
            batch = self._inflight[0]
            if batch is None:
                return 0
            self._claimed = batch
        return int(self._safe(self._count, batch, 1))

    def _skip(self, reason: SkipReason, batch: Any) -> None:
        count = self._safe(self._count, batch, 1)
        if count:  # an empty batch loses nothing
            count_skip(self._name, reason, count, item=self._safe(self._describe, batch, "?"))

    @staticmethod
    def _safe(fn: Callable[[Any], Any], batch: Any, default: Any) -> Any:
        try:
            return fn(batch)
        except BaseException:  # noqa: BLE001 - describing a malformed batch must not fail
            return default

    def _export_bounded(self, batch: Any) -> Any:
        """Export on the worker thread, waited for until the export deadline.

        Concurrent exports (a ``SimpleSpanProcessor`` on several threads) queue behind each
        other; only while an export abandoned at its deadline still hangs are new ones counted
        instead of queued behind it.
        """
        hung = self._hung
        if hung is not None and not hung.done:
            self._skip(SkipReason.TIMEOUT, batch)
            return _COUNTED
        call = self._worker.submit(lambda: self._inner_export(batch))
        deadline = Deadline(self._export_timeout).earliest(_shutdown.active_deadline())
        if not call.wait(deadline):
            call.cancel()  # still queued behind another export: it never runs
            self._hung = call
            self._set_state("hung")
            with self._claim_lock:  # unless an abandoning processor counted it already
                claimed = self._claimed is batch
                self._inflight[0] = None
            if not claimed:
                self._skip(SkipReason.TIMEOUT, batch)
            return _COUNTED
        if call.error is not None:
            raise call.error
        return call.result

    def _inner_shutdown(self) -> None:
        raise NotImplementedError

    def _inner_flush(self, timeout_millis: float) -> bool:
        raise NotImplementedError

    def _start_stop(self) -> BoundedCall[Any] | None:
        with self._stop_lock:
            if self._stop_call is not None:
                return None
            self._closed = True
            self._set_fast(False)
            self._breaker.quiet = True
            self._worker.close()
            self._stop_call = BoundedCall(self._inner_shutdown, f"{self._name}-shutdown").start()
            return self._stop_call

    def abort(self) -> BoundedCall[Any] | None:
        """Shut the wrapped exporter down now (interrupts OTLP back-off); ``None`` if already."""
        self._aborted = True
        return self._start_stop()

    def _bounded_exporter_shutdown(self, timeout_millis: float | None) -> None:
        """Shut the wrapped exporter down first, then wait (bounded) for it; never raises."""
        try:
            call = self._start_stop()
            if call is None:
                return
            if not call.wait(_deadline(timeout_millis)):
                count_skip(self._name, SkipReason.TIMEOUT, item="shutdown")
            elif call.error is not None:
                contain(self._name, call.error, item="shutdown")
            self._set_state("shutdown")
        except BaseException as error:  # noqa: BLE001 - shutdown never raises
            contain(self._name, error, item="shutdown")

    def _bounded_exporter_flush(self, timeout_millis: float | None) -> bool:
        if self._closed:
            return False
        try:
            call = BoundedCall(
                lambda: self._inner_flush((_deadline(timeout_millis).remaining() or 0.0) * 1000),
                f"{self._name}-flush",
            ).start()
            if not call.wait(_deadline(timeout_millis)):
                return False
            if call.error is not None:
                contain(self._name, call.error, item="force_flush")
                return False
            return call.result is not False
        except BaseException as error:  # noqa: BLE001 - flushing never raises
            contain(self._name, error, item="force_flush")
            return False
