"""The core never imports the layers built on it (testing, service, sink, instrumentation, demo)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

OUTER_LAYERS = ("testing", "service", "sink", "instrumentation", "demo")


class TestDependencyDirection:
    def test_using_the_core_loads_no_outer_layer(self):
        """Configuring, emitting, spanning and shutting down imports none of the outer packages."""
        code = textwrap.dedent(
            f"""
            import sys
            import foundation_telemetry as ft

            telemetry = ft.configure("arch", exporter="none")
            ft.emit("arch.checked", {{"n": 1}}, kind="test")
            with ft.span("arch.span"):
                ft.counter("arch.count").add(1)
            ft.attach("arch-handler", "arch.*", lambda *args: None)
            ft.detach("arch-handler")
            ft.health()
            telemetry.shutdown()
            loaded = sorted(
                name for name in sys.modules
                if name.split(".")[:2][-1] in {OUTER_LAYERS!r}
                and name.startswith("foundation_telemetry.")
            )
            print("loaded:", loaded)
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "loaded: []"
