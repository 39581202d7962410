"""Fork handling: a child process starts with fresh defensive state, not a copy of its parent's.

Registered with ``_state.on_fork_in_child`` (the package's one fork hook runs it after resetting
the process-wide state, which includes the coordinator's lock and deadline, the skip ledger and
debug dedup). In the child: exporter wrappers forget exports that were in flight on parent
threads, every wrapper gets new locks, and every :class:`DefensiveMetricReader` gets empty
aggregation storage so the child does not re-export its parent's cumulative values. The SDK
itself restarts batch workers (clearing their queues) and periodic reader threads.
"""

from __future__ import annotations

import contextlib

from .. import _state

__all__ = ["reset_child"]


def reset_child() -> None:
    """Reset every live wrapper's own state in a freshly forked child."""
    shutdown = _state.shutdown
    for owner in [*shutdown.components, *shutdown.exporters]:
        with contextlib.suppress(Exception):  # a child must start even if one reset fails
            owner._after_fork()


_state.on_fork_in_child(reset_child)
