"""The browser assets the sink's viewer and the pytest HTML report share (no Python logic).

``waterfall.js`` draws spans as a trace waterfall and ``viewer.css`` styles it; both ship in the
wheel and need no network. :func:`asset` reads one as text, for serving or for inlining into a
self-contained HTML file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["asset"]


@cache
def asset(name: str) -> str:
    """Return the text of the bundled asset *name* (e.g. ``"waterfall.js"``)."""
    return (resources.files(__name__) / name).read_text(encoding="utf-8")
