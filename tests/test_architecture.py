"""The core never imports the layers built on it (testing, service, sink, instrumentation, demo).

``make lint`` checks the same statically on every import path (the import-linter contracts in
pyproject.toml); these tests check what a real process loads on the main runtime paths.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

OUTER_LAYERS = ("testing", "service", "sink", "instrumentation", "demo")

_REPORT_LOADED = f"""
loaded = sorted(
    name for name in sys.modules
    if name.startswith("foundation_telemetry.")
    and name.split(".")[1] in {OUTER_LAYERS!r}
)
print("loaded:", loaded, "pytest" in sys.modules)
"""

_PATHS = {
    "import": """
        import sys
        import foundation_telemetry
        """,
    "configure-none": """
        import sys
        import foundation_telemetry as ft

        telemetry = ft.configure("arch", exporter="none")
        ft.emit("arch.checked", {"n": 1}, kind="test")
        with ft.span("arch.span"):
            ft.counter("arch.count").add(1)
        ft.attach("arch-handler", "arch.*", lambda *args: None)
        ft.detach("arch-handler")
        ft.health()
        telemetry.shutdown()
        """,
    "configure-memory": """
        import sys
        import foundation_telemetry as ft

        telemetry = ft.configure("arch", exporter="memory")
        ft.emit("arch.checked", {"n": 1})
        with ft.span("arch.span"):
            ft.counter("arch.count").add(1)
        assert telemetry.recorder.events("arch.checked")
        assert telemetry.recorder.spans("arch.span")
        telemetry.shutdown()
        """,
}


def _run(code: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *options, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestDependencyDirection:
    @pytest.mark.parametrize("path", sorted(_PATHS))
    def test_the_core_path_loads_no_outer_layer(self, path):
        """Importing the package, configure() with 'none' or 'memory' and using it load no outer package and no pytest."""
        result = _run(textwrap.dedent(_PATHS[path]) + _REPORT_LOADED)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "loaded: [] False"

    def test_importtime_shows_no_outer_layer(self):
        """`python -X importtime -c "import foundation_telemetry"` lists the core and none of the outer packages."""
        result = _run("import foundation_telemetry", "-X", "importtime")
        assert result.returncode == 0, result.stderr
        modules = [
            line.rsplit("|", 1)[-1].strip()
            for line in result.stderr.splitlines()
            if line.startswith("import time:") and "|" in line
        ]
        ours = {name for name in modules if name.startswith("foundation_telemetry")}
        assert {"foundation_telemetry", "foundation_telemetry._state"} <= ours
        outer = sorted(name for name in ours if "." in name and name.split(".")[1] in OUTER_LAYERS)
        assert outer == []
        assert "pytest" not in modules
