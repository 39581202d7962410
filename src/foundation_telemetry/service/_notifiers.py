"""Notifiers: where an alert goes once it fires, escalates or resolves.

A notifier is any callable taking an :class:`~._model.Alert`. Three are provided: a
:class:`CallbackNotifier` (a function, with a name for health reports), a :class:`LogNotifier`
(one ``logging`` record per alert, at a level that follows the severity) and a
:class:`WebhookNotifier` (an HTTP ``POST`` of the alert as JSON, with a timeout and quick retries,
over the standard library's ``urllib``). A notifier reports failure by raising; the dispatcher in
``_delivery`` contains that, counts it and retries the delivery on later evaluations.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, final

from ._model import Alert

__all__ = [
    "CallbackNotifier",
    "LogNotifier",
    "Notifier",
    "NotifierError",
    "WebhookNotifier",
    "notifier_name",
]

Notifier = Callable[[Alert], object]

_LEVELS = {
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


@final
class NotifierError(Exception):
    """A notifier could not deliver an alert; the message says where and why."""


def notifier_name(notifier: Notifier) -> str:
    """Return a readable name for *notifier* (for logs, health and skip items)."""
    name = getattr(notifier, "name", None)
    if isinstance(name, str):
        return name
    return getattr(notifier, "__qualname__", None) or type(notifier).__name__


@final
class CallbackNotifier:
    """Call *fn* with each alert.

    Args:
        fn: called with the :class:`Alert`; raising means "not delivered" (it is retried).
        name: shown in health reports and skip counts (default: the function's name).
    """

    def __init__(self, fn: Callable[[Alert], object], *, name: str | None = None) -> None:
        if not callable(fn):
            msg = f"`fn` must be callable (it receives the Alert), got {fn!r}."
            raise TypeError(msg)
        self._fn = fn
        self.name = name or getattr(fn, "__qualname__", None) or repr(fn)

    def __call__(self, alert: Alert) -> None:
        self._fn(alert)

    def __repr__(self) -> str:
        return f"CallbackNotifier({self.name!r})"


@final
class LogNotifier:
    """Log each alert through ``logging`` (logger *logger*, level from the severity).

    Resolutions are logged at INFO. The record's ``extra`` carries the alert as ``alert``.
    """

    def __init__(self, logger: str | logging.Logger = "foundation_telemetry.alerts") -> None:
        self._logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.name = f"log:{self._logger.name}"

    def __call__(self, alert: Alert) -> None:
        level = logging.INFO if alert.resolved else _LEVELS.get(alert.severity, logging.WARNING)
        self._logger.log(level, "%s", alert.summary(), extra={"alert": alert.as_dict()})

    def __repr__(self) -> str:
        return f"LogNotifier({self._logger.name!r})"


@final
class WebhookNotifier:
    """POST each alert as JSON (:meth:`Alert.as_dict`) to *url*.

    Args:
        url: an ``http://`` or ``https://`` URL.
        timeout: seconds for each attempt (connect and read).
        retries: further attempts after a failed one, within the same delivery.
        backoff: seconds before the first retry, doubled for each next one (``0``: none).
        headers: extra request headers (e.g. an authorization header).

    A response outside 2xx, a refused connection or a timeout is a failure; when every attempt
    fails, :class:`NotifierError` is raised and the service retries on a later evaluation.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.5,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            msg = f"`url` must be an http:// or https:// URL, got {url!r}."
            raise ValueError(msg)
        if not timeout > 0:
            msg = f"`timeout` must be > 0, got {timeout!r}."
            raise ValueError(msg)
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            msg = f"`retries` must be an int >= 0, got {retries!r}."
            raise ValueError(msg)
        if not backoff >= 0:
            msg = f"`backoff` must be >= 0, got {backoff!r}."
            raise ValueError(msg)
        self.url = url
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = float(backoff)
        self.headers = {"Content-Type": "application/json", **dict(headers or {})}
        self.name = f"webhook:{url}"

    def __call__(self, alert: Alert) -> None:
        body = json.dumps(alert.as_dict(), default=str).encode()
        delay = self.backoff
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt and delay:
                time.sleep(delay)  # allow-sleep: the retry backoff is the feature
                delay *= 2
            try:
                self._post(body)
            except (OSError, urllib.error.URLError, ValueError) as error:
                last = error
            else:
                return
        msg = f"POST {self.url} failed after {self.retries + 1} attempt(s): {last}"
        raise NotifierError(msg) from last

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            status: Any = response.status
            response.read()
        if not 200 <= int(status) < 300:  # urlopen raises for most, not for 1xx/3xx leftovers
            msg = f"unexpected HTTP status {status}"
            raise ValueError(msg)

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.url!r})"
