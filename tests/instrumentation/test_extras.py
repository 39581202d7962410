"""A missing extra is an ImportError that names it, in a real interpreter without the package.

The child interpreter blocks ``opentelemetry.instrumentation`` (``sys.modules[name] = None``,
which is how Python itself reports an absent module), as in an install without the extras.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

BLOCK = "import sys; sys.modules['opentelemetry.instrumentation'] = None; "


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + code], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("TenacityInstrumentor", "tenacity"),
        ("PyBreakerInstrumentor", "pybreaker"),
        ("SQLAlchemyPoolInstrumentor", "sqlalchemy"),
    ],
)
def test_each_instrumentor_names_its_extra(name, extra):
    """Importing one instrumentor loads only its module and names the extra to install."""
    result = run(f"from foundation_telemetry.instrumentation import {name}")
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ImportError: {name} needs the opentelemetry-instrumentation package (")
    assert last.endswith(f"): pip install 'foundation-telemetry[{extra}]'.")
    assert "pybreaker.py" not in result.stderr or extra == "pybreaker"


def test_the_package_itself_imports_without_the_extras():
    """`import foundation_telemetry.instrumentation` needs no extra; the names load on use."""
    result = run("import foundation_telemetry.instrumentation as i; print(sorted(i.__all__))")
    assert result.returncode == 0, result.stderr
    assert "TenacityInstrumentor" in result.stdout


def test_the_demo_command_names_the_demo_extra():
    """`foundation-telemetry demo` without the extra: one line naming it, exit status 2."""
    result = run("from foundation_telemetry.cli import main; sys.exit(main(['demo']))")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "foundation-telemetry demo needs the 'demo' extra: pip install 'foundation-telemetry[demo]' ("
    )
    assert "Traceback" not in result.stderr


def test_version_flag():
    """`foundation-telemetry --version` prints the installed version."""
    from importlib.metadata import version

    result = subprocess.run(
        [sys.executable, "-m", "foundation_telemetry.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"foundation-telemetry {version('foundation-telemetry')}"
