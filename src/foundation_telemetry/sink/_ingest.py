"""What the sink does with one export request, whichever transport carried it.

The gRPC and HTTP front ends only translate: they authenticate with `Ingest.authorized`, hand the
body to `Ingest.handle`, and map the returned `Outcome` onto their own status codes. Parsing,
fault injection, partial success, decoding and delivery to the store happen here once, so the two
transports cannot drift apart, and the counters in `SinkStats` cover both.
"""

from __future__ import annotations

import enum
import hmac
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from google.protobuf.message import Message

from ._decode import DecodeFailure, Record, Signal, decode_records, parse_request
from ._faults import Action, Faults

__all__ = ["Ingest", "Outcome", "SinkStats", "Status"]


class Status(enum.Enum):
    """How a request ended; each transport maps it onto its own codes."""

    OK = "ok"
    INVALID = "invalid"
    UNAUTHENTICATED = "unauthenticated"
    UNAVAILABLE = "unavailable"
    DROP = "drop"


@dataclass(frozen=True)
class Outcome:
    """The result of one request: a response message on success, a reason otherwise."""

    status: Status
    response: Message | None = None
    message: str = ""
    retry_after: float | None = None


@dataclass
class SinkStats:
    """Counters over the sink's lifetime (a snapshot; both transports together).

    ``accepted`` and ``rejected`` count items (spans, data points, log records) per signal
    name; ``refused`` counts whole requests answered with an error, by reason
    (``invalid``, ``unauthenticated``, ``unsupported_media_type``, ``too_large``, ``timeout``,
    ``headers_too_large``, ``overloaded``, ``unavailable``, ``dropped``); ``http_statuses``
    counts every OTLP/HTTP answer by status code, including those the HTTP layer gives before
    a request reaches the sink (400, 408, 431, 503).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``http_statuses``.
    """

    requests: int = 0
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    http_statuses: dict[int, int] = field(default_factory=dict)

    def copy(self) -> SinkStats:
        """Return an independent snapshot."""
        return SinkStats(
            self.requests,
            dict(self.accepted),
            dict(self.rejected),
            dict(self.refused),
            dict(self.http_statuses),
        )


Deliver = Callable[[Signal, Sequence[Record]], None]


class Ingest:
    """The transport-neutral request handler shared by the gRPC and HTTP receivers."""

    def __init__(self, *, token: str | None, faults: Faults, deliver: Deliver) -> None:
        self._expected = None if token is None else token.encode()
        self.faults = faults
        self._deliver = deliver
        self._lock = threading.Lock()
        self._stats = SinkStats()

    @property
    def stats(self) -> SinkStats:
        """A snapshot of the counters."""
        with self._lock:
            return self._stats.copy()

    def authorized(self, authorization: str | None) -> bool:
        """Whether a request with this ``authorization`` header value may export."""
        if self._expected is None:
            return True
        # The auth scheme is case-insensitive (RFC 9110 section 11.1); the token is not.
        scheme, _, token = (authorization or "").strip().partition(" ")
        given = token.strip().encode("utf-8", "replace")
        return scheme.lower() == "bearer" and hmac.compare_digest(given, self._expected)

    def refuse(self, reason: str, status: int | None = None) -> None:
        """Count a request a transport refused before it reached `handle` (size, type, token).

        *status* is the HTTP status it was answered with, when it came over HTTP.
        """
        with self._lock:
            self._stats.requests += 1
            self._stats.refused[reason] = self._stats.refused.get(reason, 0) + 1
            if status is not None:
                statuses = self._stats.http_statuses
                statuses[status] = statuses.get(status, 0) + 1

    def count_status(self, status: int) -> None:
        """Count one HTTP answer whose request is already counted (or is not an export)."""
        with self._lock:
            statuses = self._stats.http_statuses
            statuses[status] = statuses.get(status, 0) + 1

    def handle(self, signal: Signal, body: bytes, *, json_encoded: bool = False) -> Outcome:
        """Parse, apply faults, decode and deliver one request body."""
        try:
            request = parse_request(signal, body, json_encoded=json_encoded)
        except DecodeFailure as error:
            self.refuse("invalid")
            return Outcome(Status.INVALID, message=str(error))
        return self.handle_message(signal, request)

    def handle_message(self, signal: Signal, request: Message) -> Outcome:
        """Apply faults to, decode and deliver an already parsed request."""
        verdict = self.faults.next_verdict(signal)
        if verdict.delay:
            time.sleep(verdict.delay)  # allow-sleep: the injected slowness is the feature
        if verdict.action is Action.UNAVAILABLE:
            self.refuse("unavailable")
            return Outcome(
                Status.UNAVAILABLE,
                message="sink unavailable (fault injection)",
                retry_after=verdict.retry_after,
            )
        if verdict.action is Action.DROP:
            self.refuse("dropped")
            return Outcome(Status.DROP, message="connection dropped (fault injection)")
        try:
            records = decode_records(signal, request)
        except DecodeFailure as error:
            self.refuse("invalid")
            return Outcome(Status.INVALID, message=str(error))
        rejected = min(verdict.reject, len(records))
        if rejected:
            records = records[: len(records) - rejected]
        self._deliver(signal, records)
        name = signal.name.lower()
        with self._lock:
            self._stats.requests += 1
            self._stats.accepted[name] = self._stats.accepted.get(name, 0) + len(records)
            if rejected:
                self._stats.rejected[name] = self._stats.rejected.get(name, 0) + rejected
        message = verdict.message if rejected else ""
        return Outcome(Status.OK, signal.response(rejected, message))
