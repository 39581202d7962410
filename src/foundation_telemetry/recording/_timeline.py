"""What a source recorded since its origin, kept up to date incrementally for "since the start" waits.

The domain waits and ``wait_for_metric_threshold`` count records from the start of the test, so
each of them used to read every entry from the origin again: sequential waits cost O(N²). A
:class:`Timeline` (one per source, origin and scope) reads each entry once, keeps what a watch
reading from the origin would have counted (the received tail, totals) and an index of the
records by name. A watch starting at the origin then copies that state and is fed only the
indexed records with its names (in entry order), then reads on from where the timeline got to:
the same records, the same order, the same failure text, at a cost that does not grow with the
test. The timeline is only used while nothing since the origin was dropped from the ring (or
cleared); otherwise the watch reads the ring from the origin as before.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Final, TypeAlias

from ._buffer import Entry, RecordBuffer
from ._matchers import Record
from ._records import RecordKind
from ._views import entry_records

__all__ = ["KEEP_RECEIVED", "Posting", "Timeline", "timeline_of"]

KEEP_RECEIVED: Final = 2_000
"""How many of the latest received entries a watch keeps for its failure report."""

Posting: TypeAlias = "tuple[int, int, RecordKind, Record, bool]"
"""``(seq, index in the entry, entry kind, record, foreign)``: one indexed record."""

_MEMO: Final = "_telemetry_timeline_memo"


class Timeline:
    """The records since *origin* in *buffer*, read once each (see the module docstring)."""

    def __init__(self, buffer: RecordBuffer, scope: int | None, origin: int) -> None:
        self.buffer = buffer
        self.scope = scope
        self.origin = origin
        self.cursor = origin
        self.received: deque[Entry] = deque(maxlen=KEEP_RECEIVED)
        self.received_total = 0
        self.foreign_total = 0
        self.by_name: dict[Any, list[Posting]] = {}
        self.lock = threading.Lock()

    def complete(self) -> bool:
        """Whether every entry since the origin is still in the ring (none dropped or cleared)."""
        return self.buffer.first_seq <= self.origin

    def advance(self) -> None:
        """Read the entries appended since the last call (call with :attr:`lock` held)."""
        first, entries, _ = self.buffer.read(self.cursor)
        scope = self.scope
        by_name = self.by_name
        received = self.received
        span_start = RecordKind.SPAN_START
        for offset, entry in enumerate(entries):
            foreign = scope is not None and entry[2] != scope
            if foreign:
                self.foreign_total += 1
            else:
                received.append(entry)
                self.received_total += 1
            kind = entry[0]
            if kind is span_start:
                continue
            seq = first + offset
            for index, record in enumerate(entry_records(entry, spans=False)):
                posting = (seq, index, kind, record, foreign)
                postings = by_name.get(record.name)
                if postings is None:
                    by_name[record.name] = [posting]
                else:
                    postings.append(posting)
        self.cursor = first + len(entries)

    def postings(
        self, names: Iterable[str], kinds: frozenset[RecordKind] | None
    ) -> Iterator[tuple[Record, bool]]:
        """Return the indexed records named any of *names*, of entry *kinds*, in entry order.

        The index is copied now (call with :attr:`lock` held), so later reads never show twice.
        """
        lists = [list(self.by_name.get(name, ())) for name in dict.fromkeys(names)]
        return _kept(heapq.merge(*lists, key=_order), kinds)


def _kept(
    postings: Iterator[Posting], kinds: frozenset[RecordKind] | None
) -> Iterator[tuple[Record, bool]]:
    for _seq, _index, kind, record, foreign in postings:
        if kinds is None or kind in kinds:
            yield record, foreign


def _order(posting: Posting) -> tuple[int, int]:
    return posting[0], posting[1]


def timeline_of(
    buffer: RecordBuffer, source: object, scope: int | None, origin: int
) -> Timeline | None:
    """Return the source's timeline for this buffer, scope and origin, or ``None`` if unusable."""
    timeline: Timeline | None = getattr(source, _MEMO, None)
    if (
        timeline is None
        or timeline.buffer is not buffer
        or timeline.scope != scope
        or timeline.origin != origin
    ):
        timeline = Timeline(buffer, scope, origin)
        try:
            setattr(source, _MEMO, timeline)
        except AttributeError:  # a source with __slots__: no timeline, read from the origin
            return None
    if not timeline.complete():
        return None
    return timeline
