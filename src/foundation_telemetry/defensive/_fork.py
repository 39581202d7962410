"""Fork handling: a child process starts with fresh defensive state, not a copy of its parent's.

Registered with ``os.register_at_fork(after_in_child=...)`` (nothing runs before the fork, so no
thread is started or lock taken there). In the child: the coordinator's and every wrapper's locks
are new, exporter wrappers forget exports that were in flight on parent threads, and every
:class:`DefensiveMetricReader` gets empty aggregation storage so the child does not re-export its
parent's cumulative values. The skip ledger and debug dedup are reset by their own modules. The
SDK itself restarts batch workers (clearing their queues) and periodic reader threads.
"""

from __future__ import annotations

import contextlib
import os

from . import _shutdown

__all__ = ["reset_child"]


def reset_child() -> None:
    """Reset coordinator and wrapper state in a freshly forked child."""
    _shutdown._reset_for_fork()
    for owner in [*_shutdown._components, *_shutdown._exporters]:
        with contextlib.suppress(Exception):  # a child must start even if one reset fails
            owner._after_fork()


os.register_at_fork(after_in_child=reset_child)
