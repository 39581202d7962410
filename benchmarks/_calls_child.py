"""One wrapper-cost operation run under callgrind by ``benchmarks.bench_spans``.

``python -m benchmarks._calls_child OP N`` builds the operations of ``benchmarks._wrapper_ops``,
runs *OP* a few times (so the interpreter has specialised it), then calls ``os.getppid()``
(callgrind's dump marker) before and after *N* more calls on the main thread. *OP* is a hook
operation (``export_wrapped``) or ``pipeline_plain`` / ``pipeline_wrapped`` (one span each).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from benchmarks import _callgrind as callgrind
from benchmarks._wrapper_ops import hook_ops, pipeline_ops

WARMUP = 64


def main(name: str, count: int) -> None:
    op: Callable[[], object]
    if name.startswith("pipeline_"):
        op, _ = pipeline_ops()[name.removeprefix("pipeline_")]
    else:
        op = hook_ops()[name]
    for _ in range(WARMUP):
        op()

    def loop() -> None:
        for _ in range(count):
            op()

    callgrind.between_markers(loop)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
