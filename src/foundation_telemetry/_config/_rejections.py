"""Permanent OTLP/HTTP errors: reported once on stderr, with the fix, then counted.

An OTLP endpoint that answers 400, 401, 403, 404, 405, 413 or 415 is misconfigured, not down:
every later export will be refused the same way, so the data would be lost without a word (the
SDK's own error log is only shown in debug mode). The OTLP/HTTP exporters ``configure()`` builds
send through a ``requests.Session`` whose response hook notices these answers: the first one per
signal, endpoint and status writes ONE warning line naming the endpoint, the status and the fix;
the rest are counted in ``health()["otlp_rejected"]``. Outages (connection refused, 429, 5xx)
stay silent, as the defensive layer counts them already.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from .. import _state
from ..defensive import register_health_source
from ..defensive._debug import LOGGER_NAME

if TYPE_CHECKING:
    import requests

__all__ = ["PERMANENT_STATUSES", "rejected", "session_for"]

_CONFIG: Final = _state.config
_logger = logging.getLogger(LOGGER_NAME)

_BASE_URL_FIX: Final = (
    "give configure(endpoint=) or OTEL_EXPORTER_OTLP_ENDPOINT the collector's base URL (such "
    "as 'http://localhost:4318'; the /v1/{signal} path is added), or set "
    "OTEL_EXPORTER_OTLP_{upper}_ENDPOINT to the full URL"
)
_FIXES: Final = {
    400: "the collector could not decode the request: check that `protocol` "
    "(OTEL_EXPORTER_OTLP_PROTOCOL) matches the port (4318 http/protobuf, 4317 grpc)",
    401: "the endpoint needs credentials: pass them with `headers` (OTEL_EXPORTER_OTLP_HEADERS)",
    403: "the credentials were refused: check the token in `headers` (OTEL_EXPORTER_OTLP_HEADERS)",
    404: "nothing receives OTLP at this path: " + _BASE_URL_FIX,
    405: "this URL does not accept POST: point at the collector's OTLP/HTTP receiver; "
    + _BASE_URL_FIX,
    413: "the request is larger than the collector accepts: lower OTEL_BSP_MAX_EXPORT_BATCH_SIZE "
    "(OTEL_BLRP_ for logs) or raise the collector's request size limit",
    415: "the collector does not accept OTLP/protobuf here: check `protocol` and the endpoint",
}
PERMANENT_STATUSES: Final = frozenset(_FIXES)
"""HTTP statuses that mean misconfiguration: retrying will never deliver."""


def _record(signal: str, endpoint: str, status: int, reason: str) -> None:
    key = (signal, endpoint, status)
    with _CONFIG.rejected_lock:
        first = key not in _CONFIG.rejected
        _CONFIG.rejected[key] = _CONFIG.rejected.get(key, 0) + 1
        _state.ledger.rejections += 1
    if first:
        register_health_source("otlp_rejected", rejected)
        fix = _FIXES[status].format(signal=signal, upper=signal.upper())
        _logger.warning(
            "WARNING: the OTLP endpoint %s rejected %s with HTTP %d %s, so they are lost: %s. "
            'Further rejections are counted silently in health()["otlp_rejected"].',
            endpoint,
            signal,
            status,
            reason,
            fix,
        )


def session_for(signal: str, endpoint: str) -> requests.Session:
    """Return a session for the OTLP/HTTP exporter of *signal* that reports permanent errors."""

    def on_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        try:
            if response.status_code in PERMANENT_STATUSES:
                _record(signal, endpoint, response.status_code, response.reason or "")
        except Exception:  # noqa: BLE001 - a report must never break an export
            pass

    import requests  # only OTLP/HTTP needs it (~70 ms to import)

    session = requests.Session()
    session.hooks["response"].append(on_response)
    return session


def rejected() -> dict[str, dict[str, Any]]:
    """Return ``{endpoint: {"signal": ..., "rejected": {status: exports}}}`` (the health part)."""
    with _CONFIG.rejected_lock:
        items = sorted(_CONFIG.rejected.items())
    report: dict[str, dict[str, Any]] = {}
    for (signal, endpoint, status), count in items:
        entry = report.setdefault(endpoint, {"signal": signal, "rejected": {}})
        entry["rejected"][status] = count
    return report
