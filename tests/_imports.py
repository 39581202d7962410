"""What a fresh interpreter has imported after running a snippet: for "imports nothing of X" tests."""

from __future__ import annotations

import subprocess
import sys


def imported_after(code: str, *roots: str) -> list[str]:
    """Run *code* in a fresh interpreter; return the modules under the top-level *roots* it imported."""
    probe = (
        f"{code}\nimport sys as _sys\n"
        f"print(sorted(m for m in _sys.modules if m.split('.')[0] in {roots!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.strip().splitlines()[-1])
