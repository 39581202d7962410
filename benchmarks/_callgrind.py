"""Instruction counts of a child process under callgrind, whole and between two markers.

A child calls ``os.getppid()`` right before and right after the loop it wants measured;
``--dump-before=getppid`` makes callgrind write one file per (dump, thread), so the main thread's
second dump is the loop alone and the sum over every file is the whole process. Instruction
counts do not depend on the machine's load; the hash seed is fixed so that two runs of the same
child count the same.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks._procs import ROOT, cached_bytecode_env

__all__ = ["Counts", "between_markers", "measure", "missing"]

_HEADER = re.compile(rb"^(part|thread|summary):\s*(\d+)", re.MULTILINE)


@dataclass(frozen=True)
class Counts:
    """Instructions of one child: every thread of the process, and its main thread's loop."""

    whole: int
    loop: int


def between_markers(loop: Callable[[], None]) -> None:
    """The child's side: run *loop* between the two markers :func:`measure` splits at."""
    os.getppid()  # marker: the loop starts
    loop()
    os.getppid()  # marker: the loop ends


def missing() -> str | None:
    """Why instruction counts cannot be taken here, or ``None`` when valgrind is installed."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (apt-get install valgrind)"
    return None


def measure(module: str, args: Sequence[str], folder: Path, python: str | None = None) -> Counts:
    """Run ``python -m module *args`` under callgrind, its files in *folder* (created).

    *python* is the interpreter (default: this one), e.g. a peer benchmark's own venv.
    """
    folder.mkdir(parents=True)
    command = [
        "valgrind",
        "--tool=callgrind",
        "--separate-threads=yes",
        "--dump-before=getppid",
        f"--callgrind-out-file={folder}/cg.out",
        python or sys.executable,
        "-m",
        module,
        *args,
    ]
    env = cached_bytecode_env()
    env["PYTHONHASHSEED"] = "0"
    env.pop("OTEL_SDK_DISABLED", None)
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=env)
    whole = 0
    loop = 0
    parts = set()
    # A thread not dumped at a marker keeps counting into the final dump, so the sum over all
    # files is the whole process either way.
    for path in folder.iterdir():
        header = {key: int(value) for key, value in _HEADER.findall(path.read_bytes()[:4096])}
        if b"summary" not in header:
            continue
        count, part, thread = header[b"summary"], header.get(b"part", 0), header.get(b"thread", 0)
        parts.add(part)
        whole += count
        if part == 2 and thread == 1:  # dumped at the loop's end marker: the main thread's loop
            loop += count
    if max(parts, default=0) < 3:
        msg = f"expected the two getppid markers' dumps in {folder}, found parts {sorted(parts)}"
        raise RuntimeError(msg)
    return Counts(whole, loop)
