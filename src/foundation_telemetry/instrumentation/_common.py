"""What the three instrumentors share: their skeleton, reversible patches, error naming and a guard.

Each instrumentor patches a few methods of a third-party class and must put them back exactly on
``uninstrument()``; :class:`Patches` records the originals and restores only what it installed,
and :class:`PatchingInstrumentor` is the ``instrument``/``uninstrument`` skeleton around it
(dependency check, telemetry switched off before the originals come back).
Telemetry code runs inside the library's call path, so :func:`guarded` turns any failure of ours
into a counted skip instead of an exception in the application.
"""

from __future__ import annotations

import abc
import functools
import logging
from collections.abc import Callable, Collection
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from ..defensive._ledger import SkipReason, count_skip

__all__ = [
    "Patches",
    "PatchingInstrumentor",
    "dependency_conflict",
    "error_type",
    "guarded",
    "instrumentation_version",
]

_logger = logging.getLogger("foundation_telemetry.instrumentation")

_F = TypeVar("_F", bound=Callable[..., Any])

# Marks a function installed by Patches so uninstrument never removes someone else's wrapper.
_MARKER = "__foundation_telemetry_patch__"


def instrumentation_version() -> str:
    """Return this package's version, reported as the instrumentation scope version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("foundation-telemetry")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def dependency_conflict(requirements: Collection[str], instrumentor: str) -> bool:
    """Whether *requirements* are unmet; logs why at debug level.

    ``opentelemetry-instrument`` skips the per-instrumentor dependency check (it only checks the
    distribution's ``instruments`` extra, which would tie all three libraries together), so each
    instrumentor checks its own library again before patching anything.
    """
    conflict = get_dependency_conflicts(list(requirements))
    if conflict is None:
        return False
    _logger.debug("%s not applied: %s", instrumentor, conflict)
    return True


def error_type(error: BaseException) -> str:
    """Return the ``error.type`` of *error*: its fully qualified class name (builtins bare)."""
    cls = type(error)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def guarded(component: str) -> Callable[[_F], _F]:
    """Run the decorated telemetry hook so that it never raises into the instrumented library.

    A failure is counted as a ``SkipReason.UNEXPECTED`` skip of *component* and the hook returns
    ``None``.
    """

    def decorate(fn: _F) -> _F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - telemetry must not break the application
                count_skip(component, SkipReason.UNEXPECTED, item=fn.__name__, error=error)
                return None

        return run  # type: ignore[return-value]

    return decorate


class Patches:
    """A set of attribute replacements on classes that can be undone exactly once.

    ``install(owner, name, make)`` replaces ``owner.name`` with ``make(original)``; ``restore()``
    puts every original back, newest first, leaving alone any attribute someone else has since
    replaced.
    """

    def __init__(self) -> None:
        self._installed: list[tuple[type, str, Any, Any]] = []

    def install(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        """Replace ``owner.<name>`` (looked up on *owner* itself) with ``make(original)``."""
        original = owner.__dict__[name]
        replacement = make(original)
        setattr(replacement, _MARKER, True)
        setattr(owner, name, replacement)
        self._installed.append((owner, name, original, replacement))

    def restore(self) -> None:
        """Undo every ``install`` that is still in place."""
        while self._installed:
            owner, name, original, replacement = self._installed.pop()
            if owner.__dict__.get(name) is replacement:
                setattr(owner, name, original)

    def __bool__(self) -> bool:
        return bool(self._installed)


class Switchable(Protocol):
    """An instrumentor's telemetry: ``active`` is ``False`` once it is uninstrumented."""

    active: bool


_T = TypeVar("_T", bound=Switchable)


class PatchingInstrumentor(BaseInstrumentor, Generic[_T]):  # type: ignore[misc]
    """The skeleton of an instrumentor that patches its library.

    ``_instrument`` checks the library again (see :func:`dependency_conflict`), then lets
    :meth:`_apply` build the telemetry and install its patches; ``_uninstrument`` switches the
    telemetry off first (a wrapper someone else stacked on ours may still call it), lets
    :meth:`_release` undo what is not a patch (listeners), then restores the originals. Both are
    safe to call twice, as ``BaseInstrumentor`` promises.
    """

    requirements: ClassVar[Collection[str]] = ()
    _patches: Patches | None = None
    _telemetry: _T | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        """Return the library versions this instruments."""
        return self.requirements

    def _instrument(self, **kwargs: Any) -> None:
        if dependency_conflict(self.instrumentation_dependencies(), type(self).__name__):
            return
        patches = Patches()
        self._telemetry = self._apply(patches, **kwargs)
        self._patches = patches

    def _uninstrument(self, **kwargs: Any) -> None:
        del kwargs
        telemetry, self._telemetry = self._telemetry, None
        if telemetry is not None:
            telemetry.active = False
            self._release(telemetry)
        patches, self._patches = self._patches, None
        if patches is not None:
            patches.restore()

    @abc.abstractmethod
    def _apply(self, patches: Patches, **kwargs: Any) -> _T:
        """Build the telemetry and install its patches (*kwargs* are ``instrument()``'s)."""

    def _release(self, telemetry: _T) -> None:
        """Undo what :meth:`_apply` set up besides its patches (nothing by default)."""

    def _meter(self, kwargs: dict[str, Any]) -> metrics.Meter:
        """Return this instrumentation's meter (from ``meter_provider=`` if given)."""
        return metrics.get_meter(
            type(self).__module__, instrumentation_version(), kwargs.get("meter_provider")
        )

    def _tracer(self, kwargs: dict[str, Any]) -> trace.Tracer:
        """Return this instrumentation's tracer (from ``tracer_provider=`` if given)."""
        return trace.get_tracer(
            type(self).__module__, instrumentation_version(), kwargs.get("tracer_provider")
        )
