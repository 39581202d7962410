"""Run a real pytest session in a subprocess, as a user's suite runs: our plugin, one process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_inner_pytest(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``pytest -q`` on *args* in *cwd* (no cache, no random order, no xdist); never raises."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-p",
            "no:xdist",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
