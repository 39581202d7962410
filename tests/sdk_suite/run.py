"""Run OpenTelemetry's own test suites plain, with us installed, and with everything wrapped.

``make test-sdk-suite``: downloads the sdists of the *installed* ``opentelemetry-sdk`` and
``opentelemetry-instrumentation`` (they ship ``tests/``), builds two venvs under
``build/sdk-suite`` (the same OpenTelemetry pins, one without and one with this package), and runs
each upstream suite three ways: plain, installed, and wrapped (``wrap_everything.py`` puts every
processor, reader and exporter the tests build into our ``Defensive*`` wrappers). An empty ini
(``-c``) keeps our pytest settings out. Any test whose outcome differs from the plain run is
re-run three times in both venvs to tell a flake from a change; a change fails the command.
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
# What the upstream suites import besides the package under test (test-utils ships TestBase).
_PINNED = (
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-semantic-conventions",
    "opentelemetry-instrumentation",
    "opentelemetry-test-utils",
)
_TOOLS = ("pytest", "psutil")
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

    distribution: str
    version: str
    source: Path = field(default_factory=Path)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--suite", choices=["sdk", "instrumentation"], action="append", help="default: both"
    )
    parser.add_argument("--modes", default="installed,wrapped", help="compared with plain")
    parser.add_argument("--list", action="store_true", help="print each changed test")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    wanted = args.suite or ["sdk", "instrumentation"]
    suites = [
        Suite(f"opentelemetry-{name}", metadata.version(f"opentelemetry-{name}")) for name in wanted
    ]
    pins = [f"{name}=={metadata.version(name)}" for name in _PINNED if _installed(name)]
    if not any(p.startswith("opentelemetry-test-utils") for p in pins):
        pins.append(
            f"opentelemetry-test-utils=={metadata.version('opentelemetry-instrumentation')}"
        )
    started = time.monotonic()
    for suite in suites:
        _fetch_source(suite)
    plain_py = _venv("venv-plain", pins, ours=False)
    ours_py = _venv("venv-ours", pins, ours=True)
    failed = False
    for suite in suites:
        plain = _pytest(plain_py, suite, "plain")
        _log(
            f"{suite.distribution} {suite.version}: plain {len(plain.passed)} passed "
            f"of {len(plain.outcomes)} in {plain.seconds:.1f}s"
        )
        if not plain.passed:
            _log("the plain run passed nothing: the runner is broken")
            return 2
        for mode in modes:
            run = _pytest(ours_py, suite, mode)
            changed = _changed(plain, run)
            confirmed = _confirm(changed, suite, plain_py, ours_py, mode, plain, run)
            intended = sorted(t for t in confirmed if mode == "wrapped" and t in INTENDED)
            confirmed -= set(intended)
            lost = sorted(t for t in confirmed if plain.outcomes.get(t) == "passed")
            for test in intended:
                _log(f"  intended difference: {test}: {INTENDED[test]}")
            _log(
                f"{suite.distribution} {mode}: {len(run.passed)} passed in {run.seconds:.1f}s "
                f"({run.seconds / plain.seconds:.2f}x plain); {len(confirmed)} changed "
                f"({len(lost)} pass->fail), {len(changed) - len(confirmed)} flaky"
            )
            for test in sorted(confirmed) if args.list else []:
                print(f"    {plain.outcomes.get(test)} -> {run.outcomes.get(test)}: {test}")
            failed = failed or bool(confirmed)
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
