"""Fast constructors for the frozen record dataclasses, for the views a woken waiter builds.

A frozen dataclass's ``__init__`` sets each of its fields through ``object.__setattr__``: for a
``SpanRecord`` (26 fields) that is most of the cost of a view, paid before a woken test gets
control back. :func:`fast_constructor` returns a function with the same keyword arguments and
defaults that fills the slots through their descriptors instead, about twice as fast, and builds
an object equal in every way to what the class itself builds (no ``__post_init__`` is skipped:
the record classes have none, and :func:`fast_constructor` refuses a class that does).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["fast_constructor"]

T = TypeVar("T")

_MISSING: Any = object()


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    """Return ``build(**fields) -> cls`` for a frozen, slotted dataclass without ``__post_init__``.

    Every argument is keyword-only; the defaults (and default factories) are the dataclass's.
    """
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        msg = f"{cls.__name__} must be a slotted dataclass."
        raise TypeError(msg)
    if hasattr(cls, "__post_init__"):
        msg = f"{cls.__name__} has a __post_init__ a fast constructor would skip."
        raise TypeError(msg)
    names: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_MISSING": _MISSING}
    parameters, body = [], []
    for index, field in enumerate(dataclasses.fields(cls)):
        name = field.name
        names[f"_set{index}"] = getattr(cls, name).__set__
        if field.default is not dataclasses.MISSING:
            names[f"_default{index}"] = field.default
            parameters.append(f"{name}=_default{index}")
        elif field.default_factory is not dataclasses.MISSING:
            names[f"_factory{index}"] = field.default_factory
            parameters.append(f"{name}=_MISSING")
            body.append(f"    if {name} is _MISSING:\n        {name} = _factory{index}()")
        else:
            parameters.append(name)
        body.append(f"    _set{index}(record, {name})")
    source = (
        f"def build(*, {', '.join(parameters)}):\n"
        "    record = _new(_cls)\n" + "\n".join(body) + "\n    return record\n"
    )
    exec(source, names)
    build: Callable[..., T] = names["build"]
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    build.__doc__ = f"Build a {cls.__name__} (same keywords and defaults) without its __init__."
    return build
