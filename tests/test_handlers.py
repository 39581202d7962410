"""Handlers: attach/detach, glob patterns, isolation, auto-detach and concurrency."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from foundation_telemetry.events import emit
from foundation_telemetry.handlers import (
    attach,
    attach_many,
    detach,
    handler_states,
    handlers,
)


def _recorder(seen: list):
    return lambda name, measurements, metadata, config: seen.append(
        (name, dict(measurements), dict(metadata), config)
    )


class TestAttach:
    def test_handler_receives_name_measurements_metadata_config(self, pipeline):
        """A handler is called with (name, measurements, metadata, config)."""
        seen: list = []
        attach("h", "app.done", _recorder(seen), config={"k": 1})
        emit("app.done", {"duration": 2}, user="ann")
        assert seen == [("app.done", {"duration": 2}, {"user": "ann"}, {"k": 1})]

    def test_glob_pattern(self, pipeline):
        """A glob matches every event under the prefix and nothing else."""
        seen: list = []
        attach("retry", "foundation.retry.*", _recorder(seen))
        emit("foundation.retry.attempt_start")
        emit("foundation.retry.backoff")
        emit("foundation.service.started")
        assert [s[0] for s in seen] == [
            "foundation.retry.attempt_start",
            "foundation.retry.backoff",
        ]

    def test_attach_many(self, pipeline):
        """One handler id can listen to several patterns."""
        seen: list = []
        attach_many("multi", ["app.a", "app.b.*"], _recorder(seen))
        for name in ("app.a", "app.b.x", "app.c"):
            emit(name)
        assert [s[0] for s in seen] == ["app.a", "app.b.x"]

    def test_runs_in_emitting_thread(self, pipeline):
        """The handler runs synchronously in the thread that emitted."""
        threads: list = []
        attach("thread", "app.t", lambda *_: threads.append(threading.current_thread()))
        worker = threading.Thread(target=emit, args=("app.t",))
        worker.start()
        worker.join()
        assert threads == [worker]

    def test_duplicate_id_raises(self, pipeline):
        """Attaching a second handler with the same id is a clear error."""
        attach("dup", "app.*", lambda *_: None)
        with pytest.raises(ValueError, match=r"already attached.*detach it first"):
            attach("dup", "other.*", lambda *_: None)

    @pytest.mark.parametrize(
        ("args", "error", "match"),
        [
            (("", "a", print), TypeError, "handler_id"),
            (("x", "", print), TypeError, "non-empty str"),
            (("x", 3, print), TypeError, "pattern"),
            (("x", "a", "not callable"), TypeError, "callable"),
        ],
    )
    def test_bad_arguments(self, args, error, match):
        """Bad arguments raise a clear error naming the argument."""
        with pytest.raises(error, match=match):
            attach(*args)

    def test_bad_max_failures(self):
        """max_failures must be a positive int or None."""
        with pytest.raises(ValueError, match="max_failures"):
            attach("x", "a", print, max_failures=0)

    def test_attach_many_rejects_single_string(self):
        """attach_many with a bare string points to attach()."""
        with pytest.raises(TypeError, match="use attach"):
            attach_many("x", "app.*", print)

    def test_detach(self, pipeline):
        """After detach() the handler is no longer called; detaching twice returns False."""
        seen: list = []
        attach("d", "app.*", _recorder(seen))
        emit("app.one")
        assert detach("d") is True
        emit("app.two")
        assert [s[0] for s in seen] == ["app.one"]
        assert detach("d") is False

    def test_handlers_lists_attached(self, pipeline):
        """handlers() lists the attached handlers in attach order."""
        attach("first", "a.*", print)
        attach_many("second", ["b", "c"], print, config=3)
        listed = handlers()
        assert [(h.handler_id, h.patterns, h.state) for h in listed] == [
            ("first", ("a.*",), "attached"),
            ("second", ("b", "c"), "attached"),
        ]
        assert listed[1].config == 3

    def test_cache_invalidated_on_attach(self, pipeline):
        """A handler attached after a name was dispatched still receives that name."""
        first: list = []
        later: list = []
        attach("first", "app.x", _recorder(first))
        emit("app.x")
        attach("later", "app.*", _recorder(later))
        emit("app.x")
        assert len(first) == 2
        assert len(later) == 1


class TestIsolation:
    def test_raising_handler_does_not_affect_emitter_or_others(self, pipeline):
        """A raising handler is detached; the emitter and the next handler carry on."""
        seen: list = []

        def broken(*_):
            raise RuntimeError("handler bug")

        attach("broken", "app.*", broken)
        attach("good", "app.*", _recorder(seen))
        emit("app.one")
        emit("app.two")
        assert [s[0] for s in seen] == ["app.one", "app.two"]
        assert [h.handler_id for h in handlers()] == ["good"]

    def test_failure_event_emitted(self, telemetry):
        """Auto-detach emits foundation.telemetry.handler.failure with the details."""

        def broken(*_):
            raise ValueError("bad value")

        attach("broken", "app.*", broken)
        failure = telemetry.collect_event(
            "foundation.telemetry.handler.failure", lambda: emit("app.go"), timeout=10
        )
        assert failure.attributes["handler.id"] == "broken"
        assert failure.attributes["event.name"] == "app.go"
        assert failure.attributes["error.type"] == "ValueError"
        assert failure.attributes["error.message"] == "bad value"
        assert failure.attributes["failures"] == 1

    def test_unprintable_error_is_still_reported(self, telemetry):
        """A handler exception whose __str__ fails is reported as <unprintable Type>."""

        class Unprintable(Exception):
            def __str__(self) -> str:
                raise RuntimeError("no str")

        def broken(*_):
            raise Unprintable

        attach("unprintable", "app.*", broken)
        failure = telemetry.collect_event(
            "foundation.telemetry.handler.failure", lambda: emit("app.go"), timeout=10
        )
        expected = f"<unprintable {Unprintable.__qualname__}>"
        assert failure.attributes["error.message"] == expected
        assert handler_states()[-1].last_error == f"Unprintable: {expected}"

    def test_failure_in_another_thread_is_awaited(self, telemetry):
        """A handler failing in a worker thread is observed by waiting, not sleeping."""

        def broken(*_):
            raise RuntimeError("in worker")

        attach("worker-handler", "app.worker", broken)
        collector = telemetry.attach_collector(
            "foundation.telemetry.handler.failure", attributes={"handler.id": "worker-handler"}
        )
        worker = threading.Thread(target=emit, args=("app.worker",))
        worker.start()
        record = collector.wait(10)
        assert record.attributes["error.message"] == "in worker"
        assert record.thread == worker.name
        assert handlers() == []
        worker.join(10)

    def test_max_failures(self, pipeline):
        """A handler with max_failures=3 stays attached for two failures, then is detached."""
        calls: list = []

        def flaky(*args):
            calls.append(args[0])
            raise RuntimeError("again")

        attach("flaky", "app.*", flaky, max_failures=3)
        for _ in range(5):
            emit("app.go")
        assert len(calls) == 3
        assert len(pipeline.events("foundation.telemetry.handler.failure")) == 1
        (state,) = [h for h in handler_states() if h.handler_id == "flaky"]
        assert (state.state, state.failures, state.last_error) == (
            "failed",
            3,
            "RuntimeError: again",
        )

    def test_never_detach(self, pipeline):
        """max_failures=None keeps a failing handler attached."""

        def broken(*_):
            raise RuntimeError("x")

        attach("stubborn", "app.*", broken, max_failures=None)
        for _ in range(3):
            emit("app.go")
        assert [h.failures for h in handlers()] == [3]
        assert pipeline.events("foundation.telemetry.handler.failure") == []

    def test_failing_failure_handler_does_not_loop(self, pipeline):
        """A handler on the failure event that itself fails is detached once, without recursion."""

        def broken(*_):
            raise RuntimeError("x")

        attach("everything", "*", broken)
        emit("app.go")
        names = pipeline.event_names()
        assert names == ["app.go", "foundation.telemetry.handler.failure"]
        assert handlers() == []

    def test_keyboard_interrupt_propagates(self, pipeline):
        """A KeyboardInterrupt from a handler is the user's Ctrl-C and is not swallowed."""

        def interrupted(*_):
            raise KeyboardInterrupt

        attach("ctrl-c", "app.*", interrupted)
        with pytest.raises(KeyboardInterrupt):
            emit("app.go")


class TestConcurrency:
    def test_slow_handler_does_not_block_other_threads(self, pipeline):
        """A handler blocked in one thread does not stop emits and handlers in another."""
        entered = threading.Event()
        release = threading.Event()
        fast_seen: list = []

        def slow(name, *_):
            if name == "app.slow":
                entered.set()
                assert release.wait(10)

        attach("slow", "app.slow", slow)
        attach("fast", "app.fast", _recorder(fast_seen))
        blocked = threading.Thread(target=emit, args=("app.slow",))
        blocked.start()
        assert entered.wait(10)
        emit("app.fast")
        assert [s[0] for s in fast_seen] == ["app.fast"]
        release.set()
        blocked.join(10)
        assert not blocked.is_alive()

    def test_detach_while_emitting(self, pipeline):
        """Detaching from inside a running handler stops later calls without breaking dispatch."""
        seen: list = []

        def once(name, *_):
            seen.append(name)
            detach("once")

        attach("once", "app.*", once)
        attach("after", "app.*", _recorder(seen))
        emit("app.a")
        emit("app.b")
        assert seen == ["app.a", ("app.a", {}, {}, None), ("app.b", {}, {}, None)]

    def test_detach_from_another_thread_during_dispatch(self, pipeline):
        """A handler detached while another thread is mid-dispatch is not called afterwards."""
        inside = threading.Event()
        detached = threading.Event()
        late_calls: list = []

        def blocker(*_):
            inside.set()
            assert detached.wait(10)

        attach("blocker", "app.go", blocker)
        attach("victim", "app.go", lambda *args: late_calls.append(args[0]))
        emitter = threading.Thread(target=emit, args=("app.go",))
        emitter.start()
        assert inside.wait(10)
        assert detach("victim")
        detached.set()
        emitter.join(10)
        assert late_calls == []

    def test_attach_and_detach_race_with_emitters(self, pipeline):
        """Emitting from 4 threads while another attaches and detaches never raises or loses events."""
        stop = threading.Event()
        counts = [0] * 4
        errors: list = []

        def emitter(index: int) -> None:
            try:
                while not stop.is_set():
                    emit("race.go", worker=index)
                    counts[index] += 1
            except BaseException as error:  # noqa: BLE001 - the assertion below reports it
                errors.append(error)

        threads = [threading.Thread(target=emitter, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for round_ in range(200):
            attach(f"h{round_}", "race.*" if round_ % 2 else "other.*", lambda *_: None)
            detach(f"h{round_}")
        stop.set()
        for thread in threads:
            thread.join(10)
        assert errors == []
        assert len(pipeline.events("race.go")) == sum(counts)


class TestHealth:
    def test_handler_states_in_health_report(self, pipeline):
        """health() lists attached handlers and ones detached after failures."""
        from foundation_telemetry.defensive import health

        def broken(*_):
            raise RuntimeError("down")

        attach("ok-handler", "app.*", lambda *_: None)
        attach("bad-handler", "app.*", broken)
        emit("app.go")
        report = {entry["handler_id"]: entry for entry in health()["handlers"]}
        assert report["ok-handler"]["state"] == "attached"
        assert report["bad-handler"]["state"] == "failed"
        assert report["bad-handler"]["last_error"] == "RuntimeError: down"


class TestRecursion:
    def test_nested_failure_is_reported_after_the_outermost_dispatch(self, pipeline):
        """A handler failing in an emit made by another handler is reported once the outer dispatch ends."""

        def outer(*_):
            emit("app.inner")
            emit("app.after")

        def inner(*_):
            raise ValueError("inner")

        attach("outer", "app.outer", outer)
        attach("inner", "app.inner", inner)
        emit("app.outer")
        assert pipeline.event_names() == [
            "app.outer",
            "app.inner",
            "app.after",
            "foundation.telemetry.handler.failure",
        ]

    def test_dispatch_depth_is_per_thread_and_back_to_zero(self, pipeline):
        """The dispatch depth counts nesting in this thread only and returns to 0 after a failure."""
        from foundation_telemetry import _state

        depths: list[int] = []

        def record_depth(*_):
            depths.append(_state.handlers.depth.value)
            if len(depths) == 1:
                worker = threading.Thread(target=lambda: emit("app.depth"))
                worker.start()
                worker.join()
                raise RuntimeError("after the worker")

        attach("depth", "app.depth", record_depth, max_failures=None)
        emit("app.depth")
        assert depths == [1, 1]
        assert _state.handlers.depth.value == 0

    def test_handler_emitting_its_own_event_is_contained(self, pipeline):
        """A handler that re-emits the event it handles hits the recursion limit, is detached, and the emitter is unharmed."""

        def echo(name, *_):
            emit(name)

        attach("echo", "app.echo", echo)
        emit("app.echo")
        assert handlers() == []
        (failure,) = pipeline.events("foundation.telemetry.handler.failure")
        assert failure.attributes["error.type"] == "RecursionError"


_SPELLINGS_PROBE = """
import sys
{first}
import foundation_telemetry as ft
import foundation_telemetry.handlers as h
from foundation_telemetry import handlers
from foundation_telemetry.handlers import HandlerInfo

h.attach("probe", "app.*", lambda *_: None)
listings = [ft.handlers(), handlers(), h(), h.handlers()]
print(all([info.handler_id for info in listed] == ["probe"] for listed in listings))
print(isinstance(ft.handlers()[0], HandlerInfo), h is sys.modules["foundation_telemetry.handlers"])
print(ft.handlers is h, handlers is h, callable(h))
"""

_TYPED_USE = """
import foundation_telemetry as ft
import foundation_telemetry.handlers as h
from foundation_telemetry import handlers
from foundation_telemetry.handlers import HandlerInfo

listed: list[HandlerInfo] = ft.handlers()
again: list[HandlerInfo] = handlers()
h.attach("typed", "app.*", lambda name, measurements, metadata, config: None)
ids: list[str] = [info.handler_id for info in h.handlers()]
"""


class TestModuleName:
    @pytest.mark.parametrize(
        "first",
        [
            "",
            "import foundation_telemetry.handlers",
            "from foundation_telemetry.handlers import attach",
        ],
        ids=["package-first", "module-first", "name-first"],
    )
    def test_every_spelling_works_whatever_is_imported_first(self, first):
        """ft.handlers(), handlers(), the module called, h.attach and HandlerInfo all work in a fresh process."""
        result = subprocess.run(
            [sys.executable, "-c", _SPELLINGS_PROBE.format(first=first)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.stderr == ""
        assert result.stdout.split() == ["True", "True", "True", "True", "True", "True"]

    def test_handler_info_reports_the_public_module(self):
        """HandlerInfo says foundation_telemetry.handlers, where users import it from."""
        from foundation_telemetry.handlers import HandlerInfo

        assert HandlerInfo.__module__ == "foundation_telemetry.handlers"

    def test_top_level_handlers_lists_attached(self, pipeline):
        """`foundation_telemetry.handlers()` lists the attached handlers; so does the module, called."""
        import foundation_telemetry
        import foundation_telemetry.handlers as module

        attach("listed", "app.*", _recorder([]))
        assert [info.handler_id for info in foundation_telemetry.handlers()] == ["listed"]
        assert module() == handlers() == foundation_telemetry.handlers()

    def test_type_checkers_see_the_function(self, tmp_path):
        """mypy --strict accepts ft.handlers() as list[HandlerInfo] and h.attach on the module."""
        from mypy import api

        (tmp_path / "typed_use.py").write_text(_TYPED_USE)
        stdout, stderr, status = api.run(
            [
                "--strict",
                "--no-incremental",
                "--cache-dir",
                str(tmp_path / "cache"),
                str(tmp_path / "typed_use.py"),
            ]
        )
        assert (status, stderr) == (0, ""), stdout
