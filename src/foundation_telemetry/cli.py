"""The ``foundation-telemetry`` command: one entry point, one module per subcommand.

Subcommands live next to what they drive (the sink, the demo, the sleep checker) and are
imported only when chosen, so ``foundation-telemetry --help`` stays fast and optional extras are
needed only by the subcommand that uses them.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
from collections.abc import Sequence

__all__ = ["main"]

# name -> (module, help). Each module defines ``add_arguments(parser)`` and ``run(args) -> int``.
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("foundation_telemetry.demo._cli", "run the instrumented demo service"),
    "sink": ("foundation_telemetry.sink._cli", "run the embedded OTLP sink"),
    "check-sleeps": (
        "foundation_telemetry.testing._check_sleeps",
        "find sleeps used as waits in tests",
    ),
}


# Subcommands whose dependencies come with an extra.
_EXTRAS: dict[str, str] = {"demo": "demo", "sink": "sink"}


def _version() -> str:
    try:
        return importlib.metadata.version("foundation-telemetry")
    except importlib.metadata.PackageNotFoundError:  # running from a bare source tree
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="foundation-telemetry")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next(
        (arg for arg in (sys.argv[1:] if argv is None else argv) if not arg.startswith("-")), None
    )
    for name, (module_name, help_text) in _SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text)
        if name == chosen:
            try:
                module = importlib.import_module(module_name)
            except ImportError as error:
                extra = _EXTRAS.get(name)
                if extra is None:
                    raise
                print(
                    f"foundation-telemetry {name} needs the {extra!r} extra: "
                    f"pip install 'foundation-telemetry[{extra}]' ({error})",
                    file=sys.stderr,
                )
                return 2
            module.add_arguments(sub)
            sub.set_defaults(run_subcommand=module.run)
    args = parser.parse_args(argv)
    return int(args.run_subcommand(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
