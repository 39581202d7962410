"""Sleep vs events: the same small suite, waiting with sleeps and waiting on our expectations.

Each version of the suite under ``benchmarks/sleep_vs_events/`` runs in fresh pytest processes,
alternating, several times; a run with any failing test is a flake (the code under test never
fails, only the waiting can). Each test runs ``REPEAT`` times and both import from byte code, as
an installed suite does. Suite time is pytest's own session time from its JUnit XML, so
interpreter start-up (the same for both) does not dilute the ratio. Targets: the event version
is >= 50% faster (time ratio <= 0.5) with 0 flaky runs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from benchmarks._harness import ComponentMissing, GroupResult, Settings, Target, require
from benchmarks._procs import ROOT, cached_bytecode_env

GROUP = "sleep_vs_events"
# Each test runs this many times (pytest-repeat), as a suite has many tests: the one-time import
# of the testing package at the fixture's first use is then paid once per session, as in a real
# suite, instead of weighing as much as the waiting it is not about.
REPEAT = 5
SUITES = {
    "sleeps": "benchmarks/sleep_vs_events/sleeps",
    "events": "benchmarks/sleep_vs_events/events",
}


def _run_suite(suite: str, xml_path: Path) -> dict[str, Any]:
    env = cached_bytecode_env()
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            SUITES[suite],
            "-q",
            "-p",
            "no:cacheprovider",
            f"--count={REPEAT}",
            f"--junitxml={xml_path}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    wall = time.perf_counter() - start
    root = ET.parse(xml_path).getroot()
    node = root if root.tag == "testsuite" else root.find("testsuite")
    if node is None:
        msg = f"no <testsuite> in the JUnit XML of the {suite} suite: {done.stdout[-2000:]}"
        raise RuntimeError(msg)
    tests = int(node.get("tests", "0"))
    failed = int(node.get("failures", "0")) + int(node.get("errors", "0"))
    if tests == 0:
        msg = f"the {suite} suite collected no tests: {done.stdout[-2000:]}{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return {
        "suite": suite,
        "tests": tests,
        "failed": failed,
        "suite_s": float(node.get("time", "nan")),
        "wall_s": wall,
        "returncode": done.returncode,
        "tail": done.stdout.splitlines()[-1:] if failed else [],
    }


def run(settings: Settings) -> GroupResult:
    """Run both suites alternately and compare time and flakes."""
    result = GroupResult(GROUP)
    names = ("sleep vs events: suite time, events / sleeps", "sleep vs events: flaky runs, events")
    try:
        require("foundation_telemetry.testing", "Recorder")
        if not any((ROOT / SUITES["events"]).glob("test_*.py")):
            raise ComponentMissing("benchmarks/sleep_vs_events/events (the event-driven suite)")
    except ComponentMissing as exc:
        result.skip(names, str(exc))
        return result
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sve-") as tmp:
        for index in range(settings.sleep_runs):
            order = ("sleeps", "events") if index % 2 == 0 else ("events", "sleeps")
            for suite in order:
                runs.append(_run_suite(suite, Path(tmp) / f"{suite}-{index}.xml"))
    result.extra["runs"] = runs

    def of(suite: str) -> list[dict[str, Any]]:
        return [r for r in runs if r["suite"] == suite]

    sleeps, events = of("sleeps"), of("events")
    sleeps_s = statistics.median(r["suite_s"] for r in sleeps)
    events_s = statistics.median(r["suite_s"] for r in events)
    flaky = {suite: sum(1 for r in of(suite) if r["failed"]) for suite in SUITES}
    result.add(
        Target(
            GROUP,
            names[0],
            events_s / sleeps_s,
            0.5,
            detail=(
                f"events {events_s:.2f} s, sleeps {sleeps_s:.2f} s per run of "
                f"{events[0]['tests']}/{sleeps[0]['tests']} tests (pytest session time, "
                f"median of {len(events)}); wall incl. start-up "
                f"{statistics.median(r['wall_s'] for r in events):.2f} / "
                f"{statistics.median(r['wall_s'] for r in sleeps):.2f} s"
            ),
        ),
        Target(
            GROUP,
            names[1],
            float(flaky["events"]),
            0.0,
            unit="runs",
            detail=f"of {len(events)} runs; the sleep version had {flaky['sleeps']} flaky runs",
        ),
    )
    return result
