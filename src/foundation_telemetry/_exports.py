"""Public names report their public module: reprs, tracebacks and docs show the import path.

Implementation lives in private modules (``recording/_waits.py``); users import from the public
package (``foundation_telemetry.testing``). Each public package ends its ``__init__`` with
:func:`fixup_module_metadata`, as trio does, so ``Wait.__module__`` reads
``foundation_telemetry.testing`` instead of the private file it was written in. A name exported
by several public modules keeps the first public home it gets (the package imported first, e.g.
``recording`` before ``testing``, which imports it).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["fixup_module_metadata", "is_private_module"]

_PACKAGE: Final = __name__.partition(".")[0]


def is_private_module(module: str) -> bool:
    """Return whether *module* is one of this package's private modules (a ``_`` component)."""
    parts = module.split(".")
    return parts[0] == _PACKAGE and any(part.startswith("_") for part in parts[1:])


def _members(cls: type) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, value in vars(cls).items():
        if isinstance(value, property):
            value = value.fget
        elif isinstance(value, classmethod | staticmethod):
            value = value.__func__
        out.append((name, value))
    return out


def fixup_module_metadata(module_name: str, namespace: Mapping[str, Any]) -> None:
    """Rewrite ``__module__`` (and ``__qualname__``) of the classes and functions in ``__all__``.

    Only objects that still report one of this package's private modules are changed, and the
    methods of a changed class with them.
    """
    seen: set[int] = set()

    def fix(qualname: str, name: str, obj: Any) -> None:
        if id(obj) in seen or not (isinstance(obj, type) or inspect.isfunction(obj)):
            return
        seen.add(id(obj))
        if not is_private_module(obj.__module__):
            return
        obj.__module__ = module_name
        if "." not in obj.__name__:
            obj.__name__ = name
            obj.__qualname__ = qualname
        if isinstance(obj, type):
            for member_name, member in _members(obj):
                fix(f"{qualname}.{member_name}", member_name, member)

    for name in namespace.get("__all__", ()):
        fix(name, name, namespace[name])
