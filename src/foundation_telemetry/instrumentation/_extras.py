"""Name the extra to install when an integration's dependency is missing.

Imported before anything third-party in each integration module, so a missing package is an
``ImportError`` that says ``pip install 'foundation-telemetry[tenacity]'`` instead of a raw
``No module named 'opentelemetry.instrumentation'`` from whichever module happened to load first.
"""

from __future__ import annotations

__all__ = ["missing_extra"]


def missing_extra(extra: str, what: str, package: str, error: ImportError) -> ImportError:
    """Return the ``ImportError`` to raise for *what*: the missing *package* and the *extra*."""
    msg = (
        f"{what} needs the {package} package ({error}): "
        f"pip install 'foundation-telemetry[{extra}]'."
    )
    return ImportError(msg, name=error.name)
