"""Tests for ``foundation-telemetry check-sleeps``: real files in a temporary directory, real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import foundation_telemetry
from foundation_telemetry.cli import main
from foundation_telemetry.testing._check_sleeps import Finding, check_source

_SRC = str(Path(foundation_telemetry.__file__).resolve().parent.parent)


def findings(code: str) -> list[Finding]:
    return check_source(textwrap.dedent(code), "t.py")


def positions(code: str) -> list[tuple[int, int]]:
    return [(finding.line, finding.col) for finding in findings(code)]


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": _SRC}
    return subprocess.run(
        [sys.executable, "-m", "foundation_telemetry.cli", "check-sleeps", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestDetection:
    @pytest.mark.parametrize(
        ("imports", "call"),
        [
            ("import time", "time.sleep(1)"),  # allow-sleep: checker input, never run
            ("import time as t", "t.sleep(1)"),
            ("from time import sleep", "sleep(1)"),
            ("from time import sleep as nap", "nap(1)"),
            ("import asyncio", "asyncio.sleep(0.5)"),  # allow-sleep: checker input, never run
            ("import asyncio as aio", "aio.sleep(0.5)"),
            ("from asyncio import sleep", "sleep(0.5)"),
            ("import trio", "trio.sleep(1)"),
            ("import trio", "trio.sleep_until(5)"),
            ("import anyio", "anyio.sleep(1)"),
            ("from anyio import sleep", "sleep(delay=1)"),
            ("import gevent", "gevent.sleep(1)"),
        ],
    )
    def test_sleep_calls_are_found_through_their_aliases(self, imports: str, call: str) -> None:
        """Every sleep is found however it was imported, at its 1-based line and column."""
        code = f"{imports}\n\ndef test_x():\n    x = 1\n    {call}\n"
        assert positions(code) == [(5, 5)]

    def test_import_inside_a_function_is_resolved(self) -> None:
        """An import local to the test function still resolves the alias."""
        code = """
        def test_x():
            from time import sleep
            sleep(0.1)
        """
        assert positions(code) == [(4, 5)]

    @pytest.mark.parametrize(
        "code",
        [
            "def sleep(n): pass\nsleep(1)\n",
            "import time\nclock.sleep(1)\n",
            "import time\nx = 'time.sleep(1)'\n",  # allow-sleep: checker input, never run
            "import time\n# time.sleep(1)\n",  # allow-sleep: checker input, never run
            "import time\nf = time.sleep\n",
            "import mymod\nmymod.time.sleep(1)\n",  # allow-sleep: checker input, never run
        ],
    )
    def test_things_that_are_not_sleep_calls_are_ignored(self, code: str) -> None:
        """Other functions named sleep, strings, comments and bare references are not reported."""
        assert findings(code) == []

    @pytest.mark.parametrize(
        "call",
        [
            "asyncio.sleep(0)",
            "asyncio.sleep(0.0)",  # allow-sleep: checker input, never run
            "asyncio.sleep(delay=0)",  # allow-sleep: checker input, never run
            "asyncio.sleep(0, result)",  # allow-sleep: checker input, never run
            "trio.sleep(0)",
            "trio.sleep(seconds=0)",
        ],
    )
    def test_a_zero_sleep_in_async_code_is_a_yield_and_allowed(self, call: str) -> None:
        """Sleeping zero seconds in an async library is a checkpoint, not a wait."""
        code = f"import asyncio, trio\n\nasync def test_x():\n    await {call}\n"
        assert findings(code) == []

    def test_a_zero_sleep_in_a_while_loop_is_a_busy_wait(self) -> None:
        """``while not ready: await asyncio.sleep(0)`` polls, so it is reported."""
        code = """
        import asyncio

        async def test_x(state):
            while not state.ready:
                await asyncio.sleep(0)
        """
        [finding] = findings(code)
        assert finding.line == 6
        assert finding.message.startswith(
            "`asyncio.sleep()` polls a condition in a loop; "  # allow-sleep: checker input, never run
        )  # allow-sleep: checker input, never run

    @pytest.mark.parametrize(
        "call",
        [
            "asyncio.sleep(0.01)",  # allow-sleep: checker input, never run
            "asyncio.sleep(delay=1, result=0)",  # allow-sleep: checker input, never run
        ],
    )
    def test_a_nonzero_async_sleep_is_reported(self, call: str) -> None:
        """Only the duration decides, not any other argument that happens to be 0."""
        assert positions(f"import asyncio\n\nasync def test_x():\n    await {call}\n") == [(4, 11)]

    def test_a_zero_time_sleep_is_reported(self) -> None:
        """``time.sleep(0)`` yields the GIL, not a scheduler turn; it is reported like any sleep."""
        assert positions("import time\ntime.sleep(0)\n") == [(2, 1)]


class TestEventWaitInDisguise:
    def test_waiting_on_a_fresh_event_is_reported(self) -> None:
        """``threading.Event().wait(n)`` can never be woken, so it is a sleep."""
        code = "import threading\nthreading.Event().wait(0.5)\n"
        [finding] = findings(code)
        assert finding.message.startswith("`threading.Event().wait()` is a sleep in disguise")

    def test_a_local_event_that_is_only_waited_on_is_reported(self) -> None:
        """A local event whose only use is a timed ``wait`` is a sleep in disguise."""
        code = """
        from threading import Event

        def test_x():
            pause = Event()
            pause.wait(timeout=1)
        """
        [finding] = findings(code)
        assert finding.line == 6
        assert finding.message.startswith("`pause.wait()` is a sleep in disguise")

    @pytest.mark.parametrize(
        "use",
        ["threading.Thread(target=done.set).start()", "done.set()", "worker(done)"],
    )
    def test_an_event_that_something_can_set_is_a_real_wait(self, use: str) -> None:
        """Once the event escapes (set, passed on), its wait is event-driven and allowed."""
        code = f"""
        import threading

        def test_x(worker):
            done = threading.Event()
            {use}
            assert done.wait(5)
        """
        assert findings(code) == []

    def test_a_module_level_event_that_is_only_waited_on_is_reported(self) -> None:
        """A module-level event nothing sets is a sleep wherever it is waited on."""
        code = """
        import threading

        PAUSE = threading.Event()

        def test_x():
            PAUSE.wait(0.2)
        """
        assert positions(code) == [(7, 5)]

    def test_an_event_set_in_a_nested_function_is_a_real_wait(self) -> None:
        """A closure that sets the event counts as a use, so its wait is not reported."""
        code = """
        import threading

        def test_x(register):
            done = threading.Event()

            def callback():
                done.set()

            register(callback)
            assert done.wait(5)
        """
        assert findings(code) == []

    def test_an_untimed_wait_is_not_a_delay(self) -> None:
        """``Event().wait()`` without a timeout would hang, not delay; it is out of scope."""
        assert findings("import threading\nthreading.Event().wait()\n") == []


class TestAllowComment:
    def test_a_reasoned_allow_comment_suppresses_the_report(self) -> None:
        """``# allow-sleep: why`` marks a sleep that is the feature."""
        code = "import time\ntime.sleep(2)  # allow-sleep: the slow exporter is the fault here\n"
        assert findings(code) == []

    def test_the_allow_comment_only_covers_its_own_line(self) -> None:
        """A sleep on the next line is still reported."""
        code = "import time\ntime.sleep(2)  # allow-sleep: slow exporter\ntime.sleep(3)\n"
        assert positions(code) == [(3, 1)]

    def test_the_allow_comment_may_sit_on_any_line_of_a_multiline_call(self) -> None:
        """A call split over lines can carry the comment on its last line."""
        code = "import time\ntime.sleep(\n    2,\n)  # allow-sleep: fault injection\n"
        assert findings(code) == []

    @pytest.mark.parametrize("comment", ["# allow-sleep", "# allow-sleep:", "# allow-sleep:   "])
    def test_an_allow_comment_without_a_reason_is_reported_and_does_not_allow(
        self, comment: str
    ) -> None:
        """A bare ``allow-sleep`` is itself a finding, and the sleep is still reported."""
        code = f"import time\ntime.sleep(2)  {comment}\n"
        found = findings(code)
        assert [(f.line, f.col) for f in found] == [(2, 1), (2, 18)]
        assert found[1].message.startswith("`allow-sleep` needs a reason")

    def test_allow_sleep_inside_a_string_is_not_a_comment(self) -> None:
        """Only real comments count, not text that happens to contain the marker."""
        code = "import time\ntime.sleep(2); x = '# allow-sleep: no'\n"
        assert positions(code) == [(2, 1)]


class TestExplanation:
    @pytest.mark.parametrize(
        ("code", "reason", "replacement"),
        [
            (
                "do()\ntime.sleep(1)\nassert exporter.get_finished_spans()",
                "waits for a span",
                "telemetry.expect_span(",
            ),
            (
                "do()\nif slow:\n    time.sleep(1)\nassert exporter.get_finished_spans()",  # allow-sleep: checker input, never run
                "waits for a span",
                "telemetry.expect_span(",
            ),
            (
                "do()\ntime.sleep(1)\nassert reader.get_metrics_data()",
                "waits for a metric",
                "wait_for_metric_threshold(",
            ),
            (
                "do()\ntime.sleep(1)\nassert recorder.events",
                "waits for an event or log record",
                "assert_telemetry_event(",
            ),
            (
                "proc = subprocess.Popen(cmd)\ntime.sleep(1)\nconnect()",
                "waits for a service to start",
                "wait_for_service_ready(",
            ),
            (
                "t = threading.Thread(target=work)\nt.start()\ntime.sleep(1)\nassert done",
                "waits for another thread",
                "threading.Event",
            ),
            (
                "while not ready():\n    time.sleep(0.1)",  # allow-sleep: checker input, never run
                "polls a condition in a loop",
                "wait_for(predicate",
            ),
            (
                "for _ in range(50):\n    if ready():\n        break\n    time.sleep(0.1)",  # allow-sleep: checker input, never run
                "polls a condition in a loop",
                "wait_for(predicate",
            ),
            (
                "while not exporter.get_finished_spans():\n    time.sleep(0.1)",  # allow-sleep: checker input, never run
                "waits for a span",
                "telemetry.expect_span(",
            ),
            ("x = 1\ntime.sleep(1)\nassert x", "is a fixed delay", "# allow-sleep: why"),
            (
                "assert name.startswith('a')\ntime.sleep(1)\nassert done",
                "is a fixed delay",
                "# allow-sleep: why",
            ),
            (
                "do()\ntime.sleep(1)\nassert isinstance(got, SpanRecord)",
                "waits for a span",
                "telemetry.expect_span(",
            ),
            (
                "do()\ntime.sleep(1)\nassert 'shipped' in caplog.text",
                "waits for an event or log record",
                "telemetry.assert_telemetry_event(",
            ),
            (
                "event = threading.Event()\ntime.sleep(1)\nassert event.is_set()",
                "is a fixed delay",
                "# allow-sleep: why",
            ),
        ],
    )
    def test_each_sleep_is_explained_with_its_event_driven_replacement(
        self, code: str, reason: str, replacement: str
    ) -> None:
        """The message says what the sleep appears to wait for and what to use instead."""
        body = textwrap.indent(code, "    ")
        [finding] = findings(f"import subprocess, threading, time\n\ndef test_x():\n{body}\n")
        expected = f"`time.sleep()` {reason}; "  # allow-sleep: message text, never run
        assert finding.message.startswith(expected)
        assert replacement in finding.message

    def test_an_async_sleep_after_starting_a_task_points_to_awaiting_it(self) -> None:
        """In async code, waiting for a background task is answered with ``await``."""
        code = (
            "import asyncio\n"
            "\n"
            "async def test_x():\n"
            "    task = asyncio.create_task(work())\n"
            "    await asyncio.sleep(0.2)\n"  # allow-sleep: checker input, never run
            "    assert state.done\n"
        )
        [finding] = findings(code)
        assert "waits for another task; `await` the task" in finding.message

    def test_a_for_loop_without_an_early_exit_is_not_a_poll(self) -> None:
        """Spacing out actions in a plain ``for`` loop is a fixed delay, not a poll."""
        code = "import time\nfor i in range(3):\n    send(i)\n    time.sleep(0.1)\n"  # allow-sleep: checker input, never run
        [finding] = findings(code)
        assert "is a fixed delay" in finding.message


class TestCommandLine:
    def test_findings_are_printed_as_path_line_col_message_and_exit_1(self, tmp_path: Path) -> None:
        """The real command prints one ``path:line:col: message`` line each and exits 1."""
        sleeping = "import time\n\ndef test_a():\n    time.sleep(1)\n"  # allow-sleep: checker input
        (tmp_path / "test_a.py").write_text(sleeping)
        (tmp_path / "pkg").mkdir()
        (tmp_path / "pkg" / "test_b.py").write_text("from asyncio import sleep as s\ns(2)\n")
        (tmp_path / "notes.txt").write_text("time.sleep(1)\n")  # allow-sleep: checker input
        result = run_cli("test_a.py", "pkg", cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        lines = result.stdout.splitlines()
        assert [line.split(": ", 1)[0] for line in lines] == [
            "test_a.py:4:5",
            f"{Path('pkg', 'test_b.py')}:2:1",
        ]
        fixed_delay = "`asyncio.sleep()` is a fixed delay;"  # allow-sleep: message text
        assert lines[1].split(": ", 1)[1].startswith(fixed_delay)
        assert "2 finding(s) in 2 file(s)" in result.stderr
        assert "docs/testing-migration.md" in result.stderr

    def test_a_clean_tree_exits_0_and_prints_nothing(self, tmp_path: Path) -> None:
        """Event-driven tests and allowed sleeps pass silently."""
        (tmp_path / "test_ok.py").write_text(
            "import threading, time\n\n"
            "def test_ok():\n"
            "    done = threading.Event()\n"
            "    threading.Thread(target=done.set).start()\n"
            "    assert done.wait(5)\n"
            "    time.sleep(0.01)  # allow-sleep: the delay is what is measured\n"
        )
        result = run_cli(tmp_path, cwd=tmp_path)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    def test_hidden_and_cache_directories_are_skipped(self, tmp_path: Path) -> None:
        """Virtual environments and caches under a directory are not checked."""
        for hidden in (".venv", "__pycache__"):
            (tmp_path / hidden).mkdir()
            (tmp_path / hidden / "x.py").write_text("import time\ntime.sleep(1)\n")
        result = run_cli(".", cwd=tmp_path)
        assert (result.returncode, result.stdout) == (0, "")

    def test_a_missing_path_exits_2(self, tmp_path: Path) -> None:
        """A path that does not exist is an error, not a clean result."""
        result = run_cli("nowhere", cwd=tmp_path)
        assert result.returncode == 2
        assert "check-sleeps: nowhere: no such file or directory" in result.stderr

    def test_a_file_that_does_not_parse_exits_2_and_others_are_still_checked(
        self, tmp_path: Path
    ) -> None:
        """A syntax error is reported with its position; the remaining files are still checked."""
        (tmp_path / "a_broken.py").write_text("def f(:\n")
        (tmp_path / "b_sleepy.py").write_text("import time\ntime.sleep(1)\n")
        result = run_cli(tmp_path, cwd=tmp_path)
        assert result.returncode == 2
        assert f"{tmp_path / 'a_broken.py'}:1:" in result.stderr
        assert "cannot parse" in result.stderr
        assert result.stdout.startswith(f"{tmp_path / 'b_sleepy.py'}:2:1: ")

    def test_a_file_given_twice_is_reported_once(self, tmp_path: Path) -> None:
        """Overlapping paths (a directory and a file in it) do not duplicate findings."""
        (tmp_path / "test_a.py").write_text("import time\ntime.sleep(1)\n")
        result = run_cli(".", "test_a.py", cwd=tmp_path)
        assert result.stdout.count("test_a.py:2:1:") == 1

    def test_a_coding_cookie_is_honoured(self, tmp_path: Path) -> None:
        """A latin-1 file with its coding declaration is read like the interpreter reads it."""
        source = "# -*- coding: latin-1 -*-\nimport time\nname = 'caf\xe9'\ntime.sleep(1)\n"
        (tmp_path / "test_latin.py").write_bytes(source.encode("latin-1"))
        result = run_cli("test_latin.py", cwd=tmp_path)
        assert (result.returncode, result.stdout[:18]) == (1, "test_latin.py:4:1:")

    def test_no_path_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Calling it without a path explains the usage instead of checking nothing."""
        with pytest.raises(SystemExit) as exit_info:
            main(["check-sleeps"])
        assert exit_info.value.code == 2
        assert "PATH" in capsys.readouterr().err

    def test_main_returns_the_exit_status(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """In-process ``main()`` gives the same status and lines as the command."""
        target = tmp_path / "test_t.py"
        target.write_text("import time as t\nt.sleep(3)  # allow-sleep\n")
        assert main(["check-sleeps", str(target)]) == 1
        out = capsys.readouterr().out.splitlines()
        assert [line.split(": ", 1)[0] for line in out] == [f"{target}:2:1", f"{target}:2:15"]
