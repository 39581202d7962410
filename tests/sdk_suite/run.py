"""Run OpenTelemetry's own test suites plain, with us installed, and with everything wrapped.

``make test-sdk-suite``: downloads the sdists (they ship ``tests/``) of the *installed*
``opentelemetry-sdk`` and ``opentelemetry-instrumentation``, and of
``opentelemetry-instrumentation-requests`` of the same contrib release: a contrib-style suite, its
tests built on ``opentelemetry.test.test_base.TestBase`` (``requests`` mocked by ``mocket``). It
builds two venvs under ``build/sdk-suite`` with the same pins (the OpenTelemetry versions and every
suite's extra test requirements), one without and one with this package (editable), and runs each
upstream suite three ways: plain, installed, and wrapped (``wrap_everything.py`` puts every
processor, reader and exporter the tests build into our ``Defensive*`` wrappers). An empty ini
(``-c``) keeps our pytest settings out. Any test whose outcome differs from the plain run is
re-run three times in both venvs to tell a flake from a change; a change fails the command.

Time gate: a contrib-style suite with this package installed runs within ``TIME_GATE`` of its time
without it. The suites it holds (requests and instrumentation; not the long SDK suite) get
``--timing-rounds`` extra pairs of runs, plain and installed alternating; each mode's fastest run
(its outcome run included) counts, so a burst of load on the machine slows a run, not the verdict.
A ratio above the gate fails the command.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import venv
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = ROOT / "build" / "sdk-suite"
RETRIES = 3
# The most a gated suite may take installed, as a multiple of its time plain (fastest of each).
TIME_GATE = 1.2
# Extra (plain, installed) pairs of timing runs of each gated suite, after its outcome runs.
TIMING_ROUNDS = 3
# What the upstream suites import besides the package under test (test-utils ships TestBase).
_PINNED = (
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-semantic-conventions",
    "opentelemetry-instrumentation",
    "opentelemetry-test-utils",
)
_TOOLS = ("pytest", "psutil")
# What the requests instrumentation's tests import from outside OpenTelemetry, pinned like the
# contrib repository's test-requirements.txt (bump by hand).
_REQUESTS_TEST_TOOLS = ("requests==2.34.2", "mocket==3.15.0")
_NOT_INHERITED = ("OTEL_", "FOUNDATION_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
# The one thing wrapping changes on purpose: a failure no longer reaches the caller. Each entry is
# a test that asserts exactly that failure propagating; it is reported, never silently passed.
INTENDED = {
    "tests/metrics/test_metrics.py::TestMeterProvider::test_shutdown": (
        "asserts that a metric reader's exception escapes MeterProvider.shutdown(); the "
        "wrapper contains and counts it (shutdown never raises)"
    ),
}


@dataclass
class Suite:
    """One upstream distribution whose ``tests/`` we run."""

    name: str
    distribution: str
    version: str
    # Pinned requirements its tests need beyond _PINNED; installed into both venvs.
    requirements: tuple[str, ...] = ()
    # Held to TIME_GATE (installed against plain).
    timed: bool = False
    source: Path = field(default_factory=Path)


def _suites() -> list[Suite]:
    """Every suite the runner knows, at the installed OpenTelemetry versions (``--suite`` names)."""
    contrib = metadata.version("opentelemetry-instrumentation")
    return [
        Suite("sdk", "opentelemetry-sdk", metadata.version("opentelemetry-sdk")),
        Suite("instrumentation", "opentelemetry-instrumentation", contrib, timed=True),
        Suite(
            "requests",
            "opentelemetry-instrumentation-requests",
            contrib,
            requirements=(
                # The package under test (the same release as its sdist) and its utilities.
                f"opentelemetry-instrumentation-requests=={contrib}",
                f"opentelemetry-util-http=={contrib}",
                *_REQUESTS_TEST_TOOLS,
            ),
            timed=True,
        ),
    ]


@dataclass
class Run:
    """Outcomes of one suite in one mode."""

    outcomes: dict[str, str]
    seconds: float

    @property
    def passed(self) -> set[str]:
        return {test for test, outcome in self.outcomes.items() if outcome == "passed"}


def _log(message: str) -> None:
    print(f"sdk-suite: {message}", flush=True)


def _pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "-q", *args], check=True)


def _fetch_source(suite: Suite) -> None:
    """Download and unpack the sdist of *suite* (cached under build/sdk-suite/src)."""
    sources = BUILD / "src"
    stem = f"{suite.distribution.replace('-', '_')}-{suite.version}"
    suite.source = sources / stem
    if (suite.source / "tests").is_dir():
        return
    sources.mkdir(parents=True, exist_ok=True)
    _log(f"downloading the {suite.distribution}=={suite.version} sdist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"{suite.distribution}=={suite.version}",
            "-d",
            str(sources),
        ],
        check=True,
    )
    archive = next(sources.glob(f"{stem}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(sources, filter="data")
    if not (suite.source / "tests").is_dir():
        msg = f"the {suite.distribution} sdist ships no tests/"
        raise SystemExit(msg)


def _venv(name: str, pins: list[str], *, ours: bool) -> Path:
    """Create (once per pin set) a venv under build/sdk-suite and return its python."""
    path = BUILD / name
    python = path / "bin" / "python"
    stamp = path / ".pins"
    wanted = "\n".join([*pins, f"ours={ours}"])
    if stamp.is_file() and stamp.read_text() == wanted:
        return python
    _log(f"building venv {name}")
    venv.EnvBuilder(clear=True, with_pip=True).create(path)
    _pip(python, *pins, *_TOOLS)
    if ours:
        # Editable, as a developer installs it; the OpenTelemetry pins are already satisfied.
        _pip(python, "-e", str(ROOT), *pins)
    stamp.write_text(wanted)
    return python


def _pytest(python: Path, suite: Suite, mode: str, tests: list[str] | None = None) -> Run:
    """Run *suite*'s tests (or just *tests*) in *mode*; return per-test outcomes."""
    out = BUILD / "outcomes" / f"{suite.distribution}-{mode}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    ini = BUILD / "empty.ini"
    ini.write_text("[pytest]\n")
    plugins = ["-p", "outcome_log"] + (
        ["-p", "wrap_everything"] if mode.startswith("wrapped") else []
    )
    # Byte code is cached (outside every source tree), as an installed package has its .pyc
    # files: without it every run would compile whatever it imports, ours included.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)},
        "PYTHONPATH": str(HERE),
        "SDK_SUITE_OUTCOMES": str(out),
        "PYTHONPYCACHEPREFIX": str(BUILD / "pycache"),
    }
    command = [
        str(python),
        "-m",
        "pytest",
        "-c",
        str(ini),
        "--rootdir",
        str(suite.source),
        "-q",
        "-p",
        "no:cacheprovider",
        *plugins,
        *(tests if tests is not None else ["tests"]),
    ]
    started = time.monotonic()
    subprocess.run(
        command,
        cwd=suite.source,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    seconds = time.monotonic() - started
    outcomes: dict[str, str] = {}
    if out.is_file():
        for line in out.read_text().splitlines():
            entry = json.loads(line)
            outcomes[entry["test"]] = entry["outcome"]
    return Run(outcomes, seconds)


def _changed(plain: Run, other: Run) -> set[str]:
    """Tests whose outcome differs (a test missing from one run counts as changed)."""
    tests = plain.outcomes.keys() | other.outcomes.keys()
    return {t for t in tests if plain.outcomes.get(t) != other.outcomes.get(t)}


def _confirm(
    changed: set[str], suite: Suite, plain_py: Path, py: Path, mode: str, plain: Run, other: Run
) -> set[str]:
    """Re-run the *changed* tests; keep those that differ from plain on every retry."""
    left = set(changed)
    for _ in range(RETRIES):
        if not left:
            break
        tests = sorted(left)
        again_plain = _pytest(plain_py, suite, "plain-retry", tests)
        again = _pytest(py, suite, f"{mode}-retry", tests)
        left = {
            t
            for t in left
            if again.outcomes.get(t, other.outcomes.get(t))
            != again_plain.outcomes.get(t, plain.outcomes.get(t))
        }
    return left


def _compare_mode(
    suite: Suite, plain_py: Path, ours_py: Path, mode: str, plain: Run, *, listed: bool
) -> tuple[Run, bool]:
    """Run *suite* in *mode* and report it against *plain*; return the run and if it changed."""
    run = _pytest(ours_py, suite, mode)
    changed = _changed(plain, run)
    confirmed = _confirm(changed, suite, plain_py, ours_py, mode, plain, run)
    intended = sorted(t for t in confirmed if mode == "wrapped" and t in INTENDED)
    confirmed -= set(intended)
    lost = sorted(t for t in confirmed if plain.outcomes.get(t) == "passed")
    for test in intended:
        _log(f"  intended difference: {test}: {INTENDED[test]}")
    flaky = changed - confirmed - set(intended)
    _log(
        f"{suite.distribution} {mode}: {len(run.passed)} passed in {run.seconds:.1f}s "
        f"({run.seconds / plain.seconds:.2f}x plain); {len(confirmed)} changed "
        f"({len(lost)} pass->fail), {len(intended)} intended, {len(flaky)} flaky"
    )
    for test in sorted(confirmed) if listed else []:
        print(f"    {plain.outcomes.get(test)} -> {run.outcomes.get(test)}: {test}")
    for test in sorted(flaky) if listed else []:
        print(f"    flaky, {plain.outcomes.get(test)} -> {run.outcomes.get(test)} once: {test}")
    return run, bool(confirmed)


def _compare(
    suite: Suite, plain_py: Path, ours_py: Path, modes: list[str], *, listed: bool
) -> tuple[Run, dict[str, Run], bool] | None:
    """Run *suite* plain and in each of *modes*; return the runs and whether an outcome changed.

    ``None`` when the plain run passed nothing (the runner itself is broken).
    """
    plain = _pytest(plain_py, suite, "plain")
    _log(
        f"{suite.distribution} {suite.version}: plain {len(plain.passed)} passed "
        f"of {len(plain.outcomes)} in {plain.seconds:.1f}s"
    )
    if not plain.passed:
        _log("the plain run passed nothing: the runner is broken")
        return None
    runs: dict[str, Run] = {}
    changed_any = False
    for mode in modes:
        runs[mode], changed = _compare_mode(suite, plain_py, ours_py, mode, plain, listed=listed)
        changed_any = changed_any or changed
    return plain, runs, changed_any


def _timing_runs(
    suite: Suite, pythons: dict[str, Path], first: dict[str, Run], rounds: int
) -> dict[str, list[float]] | None:
    """Wall times of each mode in *pythons*: its *first* run, then *rounds* interleaved ones.

    ``None`` when a timing run did not run the tests the plain run did (its time says nothing).
    """
    times = {mode: [first[mode].seconds] if mode in first else [] for mode in pythons}
    for _ in range(rounds):
        for mode, python in pythons.items():
            run = _pytest(python, suite, f"{mode}-timing")
            if run.outcomes.keys() != first["plain"].outcomes.keys():
                _log(
                    f"{suite.distribution} {mode} timing run ran {len(run.outcomes)} tests, "
                    f"not the {len(first['plain'].outcomes)} of the plain run"
                )
                return None
            times[mode].append(run.seconds)
    return times


def _time_gate(
    suite: Suite, plain_py: Path, ours_py: Path, first: dict[str, Run], rounds: int
) -> bool:
    """Hold *suite* to TIME_GATE: fastest installed run against fastest plain run; True if held."""
    pythons = {"plain": plain_py, "installed": ours_py}
    times = _timing_runs(suite, pythons, first, rounds)
    if times is None:
        _log(f"{suite.distribution} time gate: FAIL (a timing run was incomplete)")
        return False
    if not times["installed"]:
        _log(
            f"{suite.distribution} time gate: not measured (no installed run; see --timing-rounds)"
        )
        return True
    for mode, seconds in times.items():
        _log(f"{suite.distribution} {mode} times: {' '.join(f'{s:.2f}' for s in seconds)}s")
    ratio = min(times["installed"]) / min(times["plain"])
    verdict = "PASS" if ratio <= TIME_GATE else "FAIL"
    _log(
        f"{suite.distribution} time gate: min installed {min(times['installed']):.2f}s / "
        f"min plain {min(times['plain']):.2f}s = {ratio:.2f}x (limit {TIME_GATE:.2f}x): {verdict}"
    )
    return ratio <= TIME_GATE


def _pins(suites: list[Suite]) -> list[str]:
    """What both venvs install: the host's OpenTelemetry versions and every suite's requirements."""
    pins = [f"{name}=={metadata.version(name)}" for name in _PINNED if _installed(name)]
    if not any(p.startswith("opentelemetry-test-utils") for p in pins):
        pins.append(
            f"opentelemetry-test-utils=={metadata.version('opentelemetry-instrumentation')}"
        )
    # All suites', not just the selected ones': the venvs (and so the outcomes) do not depend on
    # --suite, and choosing another suite does not rebuild them.
    return [*pins, *(r for suite in suites for r in suite.requirements)]


def main(argv: list[str] | None = None) -> int:
    known = _suites()
    names = [suite.name for suite in known]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=names, action="append", help="default: all")
    parser.add_argument("--modes", default="installed,wrapped", help="compared with plain")
    parser.add_argument(
        "--list", action="store_true", help="print each changed (and each flaky) test"
    )
    parser.add_argument(
        "--timing-rounds",
        type=int,
        default=TIMING_ROUNDS,
        help=f"extra (plain, installed) runs of each time-gated suite (default: {TIMING_ROUNDS})",
    )
    args = parser.parse_args(argv)
    if args.timing_rounds < 0:
        parser.error("--timing-rounds must be 0 or more")
    modes = [m for m in args.modes.split(",") if m]
    wanted = args.suite or names
    suites = [suite for suite in known if suite.name in wanted]
    pins = _pins(known)
    started = time.monotonic()
    for suite in suites:
        _fetch_source(suite)
    plain_py = _venv("venv-plain", pins, ours=False)
    ours_py = _venv("venv-ours", pins, ours=True)
    failed = False
    for suite in suites:
        compared = _compare(suite, plain_py, ours_py, modes, listed=args.list)
        if compared is None:
            return 2
        plain, runs, changed = compared
        failed = failed or changed
        if suite.timed:
            held = _time_gate(
                suite, plain_py, ours_py, {"plain": plain, **runs}, args.timing_rounds
            )
            failed = failed or not held
    _log(f"done in {time.monotonic() - started:.0f}s")
    return 1 if failed else 0


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
