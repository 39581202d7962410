"""The global state department: all process-wide state in ``_state``, reset by its one fork hook."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "foundation_telemetry"

_FORK_PROBE = """
import json, os, threading
from foundation_telemetry import _state, emit
from foundation_telemetry.correlation import correlated, correlation_id
from foundation_telemetry.defensive import SkipReason, skipped
from foundation_telemetry.defensive._ledger import count_skip
from foundation_telemetry.handlers import attach, handlers

count_skip("probe", SkipReason.UNEXPECTED, 3)
attach("inherited", "app.*", lambda *_: None)
with correlated("parent-id"):
    correlation_id()  # fills the hot-path cache with a parent context
seen = {}

def broken_callback():
    raise RuntimeError("a failing fork callback must not stop the others")

def callback():
    seen["counts_when_callback_ran"] = sum(_state.ledger.counts.values())

_state.on_fork_in_child(broken_callback)
_state.on_fork_in_child(callback)

# A parent thread holds the ledger's and the registry's locks while the fork happens.
held, release = threading.Event(), threading.Event()
def hold():
    with _state.ledger.lock, _state.handlers.lock:
        held.set()
        release.wait()
holder = threading.Thread(target=hold)
holder.start()
held.wait()
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    try:
        locks_free = not _state.ledger.lock.locked() and not _state.handlers.lock.locked()
        if not locks_free:  # anything below would block forever
            os.write(write_end, json.dumps({"locks_free": False}).encode())
            os._exit(0)
        report = {
            "locks_free": True,
            "pid_renewed": _state.process.pid == os.getpid(),
            "skipped_before": skipped(),
            "handlers": [info.handler_id for info in handlers()],
            "correlation_cache_cleared": _state.events.correlation == (None, None),
            **seen,
        }
        count_skip("probe", SkipReason.TIMEOUT)  # the new lock works
        report["skipped_after"] = skipped("probe")
        os.write(write_end, json.dumps(report).encode())
    finally:
        os._exit(0)
os.close(write_end)
release.set()
holder.join()
with os.fdopen(read_end) as pipe:
    child = json.loads(pipe.read())
os.waitpid(pid, 0)
print(json.dumps({"child": child, "parent_skipped": skipped("probe")}))
"""


def _python_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


class TestOneHome:
    def test_no_module_has_a_global_statement(self):
        """Process-wide state is a field of a _state holder: no module rebinds a global."""
        found = [
            f"{path.relative_to(PACKAGE)}:{node.lineno}"
            for path in _python_modules()
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Global)
        ]
        assert found == []

    def test_only_state_registers_a_fork_hook(self):
        """os.register_at_fork is called once in the package, by _state; others use on_fork_in_child."""
        callers = [
            str(path.relative_to(PACKAGE))
            for path in _python_modules()
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "register_at_fork"
        ]
        assert callers == ["_state.py"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
class TestForkReset:
    def test_child_starts_with_fresh_state_and_keeps_its_configuration(self):
        """A forked child gets new locks, its own pid, zero skips and a clean cache; handlers stay."""
        result = subprocess.run(
            [sys.executable, "-c", _FORK_PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout)
        assert outcome["child"] == {
            "locks_free": True,
            "pid_renewed": True,
            "skipped_before": 0,
            "handlers": ["inherited"],
            "correlation_cache_cleared": True,
            "counts_when_callback_ran": 0,
            "skipped_after": 1,
        }
        assert outcome["parent_skipped"] == 3
