"""Checks every public module's exports test runs: `__all__`, public homes, final classes.

A public module is checked three ways: its `__all__` is sorted the way ruff sorts it (RUF022:
SCREAMING_CASE, then CamelCase, then the rest) and lists exactly its public names; every class
and function it exports reports a public module (`fixup_module_metadata`) from which that name
really imports; and every exported class is `@final` unless it is listed as open, with the
reason it may be subclassed.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
import types
from collections.abc import Mapping
from typing import Any

import pytest

from foundation_telemetry._exports import is_private_module


def _ruff_order(name: str) -> tuple[int, list[Any]]:
    if name.isupper():
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return group, natural


def check_all(module_name: str, *, reexports_only: bool) -> None:
    """`__all__` is sorted, unique, and names the public names.

    *reexports_only*: the module only re-exports (a package `__init__`), so every public name in
    its namespace must be in `__all__`; otherwise every class and function defined there must.
    """
    module = importlib.import_module(module_name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_ruff_order), "`__all__` is not sorted like RUF022"
    assert len(set(exported)) == len(exported), "`__all__` has duplicates"
    assert all(hasattr(module, name) for name in exported)
    namespace = {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_")
        # a callable module (``handlers``) is a public name like a function
        and (callable(value) or not isinstance(value, types.ModuleType))
        and name != "annotations"
    }
    if reexports_only:
        assert set(namespace) == set(exported), set(namespace) ^ set(exported)
    else:
        defined = {
            name
            for name, value in namespace.items()
            if (inspect.isclass(value) or inspect.isfunction(value))
            and value.__module__ == module_name
        }
        assert defined <= set(exported), f"defined but not exported: {defined - set(exported)}"


def check_public_homes(module_name: str) -> None:
    """Each exported class and function reports a public module it can be imported from."""
    module = importlib.import_module(module_name)
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        home = value.__module__
        assert not is_private_module(home), f"{name} reports the private module {home}"
        found: Any = importlib.import_module(home)
        for part in value.__qualname__.split("."):
            found = getattr(found, part)
        assert found is value, f"{home}.{value.__qualname__} is not {name}"


def _final(cls: type) -> bool:
    if issubclass(cls, enum.Enum) and len(cls) > 0:
        return True  # an enum with members cannot be subclassed at all
    return bool(getattr(cls, "__final__", False))


def check_final(module_name: str, open_classes: Mapping[str, str]) -> None:
    """Every exported class is final, except the open ones (each with its reason)."""
    module = importlib.import_module(module_name)
    classes = {name for name in module.__all__ if inspect.isclass(getattr(module, name))}
    assert set(open_classes) <= classes, "an open class that is not exported"
    not_final = {name for name in classes if not _final(getattr(module, name))}
    assert not_final == set(open_classes)


def exports_tests(modules: Mapping[str, tuple[bool, Mapping[str, str]]]) -> type:
    """Return a test class running the three checks on each of *modules*.

    *modules* maps a module name to (only re-exports?, its open classes with their reasons).
    """

    @pytest.mark.parametrize("module_name", list(modules))
    class TestExports:
        def test_all(self, module_name: str) -> None:
            """`__all__` is sorted like ruff sorts it and names the public names."""
            check_all(module_name, reexports_only=modules[module_name][0])

        def test_public_homes(self, module_name: str) -> None:
            """Every exported class and function reports a public module it imports from."""
            check_public_homes(module_name)

        def test_final(self, module_name: str) -> None:
            """Exported classes are final unless they are meant to be subclassed."""
            check_final(module_name, modules[module_name][1])

    return TestExports
