"""One mixin for the context managers that serve ``with`` and ``async with`` alike.

``span()``, ``correlated()`` and ``ServiceLifecycle`` do nothing that could block on entry or
exit, so their ``async with`` is their ``with``: :class:`SyncAndAsyncContext` provides
``__aenter__``/``__aexit__`` from the class's own ``__enter__``/``__exit__``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Generic, TypeVar

__all__ = ["SyncAndAsyncContext"]

_T_co = TypeVar("_T_co", covariant=True)


class SyncAndAsyncContext(Generic[_T_co]):
    """Mix in for ``async with`` support; the subclass writes ``__enter__`` (returning *T*)."""

    __slots__ = ()

    def __enter__(self) -> _T_co:  # pragma: no cover - every subclass writes its own
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # pragma: no cover - every subclass writes its own
        raise NotImplementedError

    async def __aenter__(self) -> _T_co:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
