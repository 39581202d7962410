"""Every Python example in the docs pages listed below runs as written.

A fenced ``python`` block is run according to the HTML comment just above it (invisible in the
built site):

- no comment: run as a script in a fresh interpreter; it must exit 0;
- ``<!-- docs-test: pytest -->``: saved as a test file and run by a real pytest, which must pass;
- ``<!-- docs-test: zero-code -->``: run as ``app.py`` under ``opentelemetry-instrument`` with
  our distro and configurator and the console span exporter; its span must be printed;
- ``<!-- docs-test: sleeps "fragment" -->``: a "before" example of a sleep; ``check-sleeps``
  must report it, with *fragment* in every message (``sleeps none``: must report nothing);
- ``<!-- docs-test: requires <module> -->``: run as a script, but only where the optional
  *module* is installed (an extra's dependency); skipped otherwise;
- ``<!-- docs-test: skip <reason> -->``: not run, and the reason is required.

Every page under docs/ and the README is read, so a new page's examples run without registering
it here.

A ``text`` block marked ``<!-- docs-test: check-sleeps-output -->`` must look exactly like the
checker's output.

Every block that is run must also pass ``check-sleeps``: the docs practise what they preach.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import foundation_telemetry
from foundation_telemetry.testing._check_sleeps import _Waits, check_source

ROOT = Path(__file__).resolve().parent.parent
PAGES = (
    *sorted(str(page.relative_to(ROOT / "docs")) for page in (ROOT / "docs").rglob("*.md")),
    "../README.md",
)
_SRC = str(Path(foundation_telemetry.__file__).resolve().parent.parent)
_BLOCK = re.compile(
    r"(?:<!-- docs-test: (?P<mode>\w[\w-]*)(?: (?P<arg>[^\n]*?))? -->\n)?"
    r"^```python[^\n]*\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
_MODES = {"script", "requires", "pytest", "zero-code", "sleeps", "skip"}
_QUIET = ("-o", "asyncio_default_fixture_loop_scope=function")


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    mode: str
    arg: str
    code: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def examples() -> list[Example]:
    found = []
    for page in PAGES:
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("code"))
            mode = match["mode"] or "script"
            found.append(Example(page, line, mode, match["arg"] or "", match["code"]))
    return found


ALL = examples()


def _clean_environ() -> dict[str, str]:
    """This process's environment without what pytest and xdist set for their own workers."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OTEL_"))}


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env={**_clean_environ(), "PYTHONPATH": _SRC, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def of_mode(*modes: str) -> list[Example]:
    return [example for example in ALL if example.mode in modes]


class TestExtraction:
    def test_every_page_exists_and_blocks_are_found(self) -> None:
        """The pages exist and the extractor finds the examples they contain."""
        assert {example.page for example in ALL} >= {
            "getting-started.md",
            "testing-migration.md",
            "testing.md",
            "defensive.md",
        }
        assert len(of_mode("pytest")) >= 10
        assert len(of_mode("sleeps")) >= 10

    def test_every_block_has_a_known_mode_and_skips_say_why(self) -> None:
        """A typo in a marker cannot silently skip an example."""
        assert {example.mode for example in ALL} <= _MODES
        assert all(example.arg.strip() for example in of_mode("skip", "requires"))

    def test_unmarked_fences_are_not_missed(self) -> None:
        """Every ```python fence on the pages is one of the extracted examples."""
        for page in PAGES:
            text = (ROOT / "docs" / page).read_text(encoding="utf-8")
            fences = len(re.findall(r"^```python", text, re.MULTILINE))
            assert fences == sum(example.page == page for example in ALL), page


@pytest.mark.parametrize("example", of_mode("script", "requires"), ids=str)
def test_script_examples_run(example: Example, tmp_path: Path) -> None:
    """A plain example runs to completion in a fresh interpreter, and does not sleep."""
    if example.mode == "requires" and not _installed(example.arg.strip()):
        pytest.skip(f"needs {example.arg.strip()} (an optional extra)")
    assert [str(f) for f in check_source(example.code, str(example))] == []
    (tmp_path / "example.py").write_text(example.code, encoding="utf-8")
    result = run([sys.executable, "example.py"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("example", of_mode("pytest"), ids=str)
def test_pytest_examples_pass(example: Example, tmp_path: Path) -> None:
    """A test example passes under a real pytest with our plugin, and does not sleep."""
    assert [str(f) for f in check_source(example.code, str(example))] == []
    (tmp_path / "test_example.py").write_text(example.code, encoding="utf-8")
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *_QUIET,
            "test_example.py",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[1-9]\d* passed(, \d+ warnings?)? in .*", summary), result.stdout


@pytest.mark.parametrize("example", of_mode("zero-code"), ids=str)
def test_zero_code_examples_run_under_opentelemetry_instrument(
    example: Example, tmp_path: Path
) -> None:
    """The documented zero-code command exports the app's span with our configurator."""
    (tmp_path / "app.py").write_text(example.code, encoding="utf-8")
    runner = Path(sys.executable).parent / "opentelemetry-instrument"
    result = run(
        [str(runner), sys.executable, "app.py"],
        tmp_path,
        OTEL_PYTHON_DISTRO="foundation_telemetry",
        OTEL_PYTHON_CONFIGURATOR="foundation_telemetry",
        OTEL_SERVICE_NAME="zero-code-example",
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    span_names = re.findall(r'"name": "([^"]+)"', result.stdout)
    assert "handle-order" in span_names, result.stdout
    assert '"service.name": "zero-code-example"' in result.stdout


def test_sample_checker_output_matches_what_the_checker_prints() -> None:
    """The output shown in the migration guide uses the checker's real format and messages."""
    text = (ROOT / "docs" / "testing-migration.md").read_text(encoding="utf-8")
    [sample] = re.findall(
        r"<!-- docs-test: check-sleeps-output -->\n```text\n(.*?)^```", text, re.S | re.M
    )
    message = "`time.sleep()` {reason}; {fix}"  # allow-sleep: the checker's message text
    possible = {message.format(reason=reason, fix=fix) for reason, fix in (w.value for w in _Waits)}
    lines = sample.splitlines()
    assert lines
    for line in lines:
        match = re.fullmatch(r"(?P<path>\S+\.py):(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)", line)
        assert match, line
        assert match["msg"] in possible, line


@pytest.mark.parametrize("example", of_mode("sleeps"), ids=str)
def test_sleep_examples_are_reported_as_documented(example: Example) -> None:
    """Each "before" example is caught by check-sleeps with the documented explanation."""
    messages = [finding.message for finding in check_source(example.code, str(example))]
    if example.arg == "none":
        assert messages == []
    else:
        fragment = example.arg.strip('"')
        assert messages
        assert all(fragment in message for message in messages), messages
