"""Notifiers: webhook (real local HTTP server), logging and callback delivery."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from foundation_telemetry.defensive import SkipReason, skipped
from foundation_telemetry.service import (
    Alert,
    AlertRule,
    CallbackNotifier,
    LogNotifier,
    NotifierError,
    WebhookNotifier,
)

from .conftest import FakeClock, make_service


class Hook:
    """A real HTTP server on 127.0.0.1 that records POSTs and answers with scripted statuses."""

    def __init__(self, port: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.statuses: list[int] = []
        self.hold: threading.Event | None = None
        self.received = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if hook.hold is not None:
                    hook.hold.wait(30)
                status = hook.statuses.pop(0) if hook.statuses else 200
                hook.bodies.append(json.loads(body))
                hook.headers.append(dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                hook.received.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "rule": "busy",
        "metric": "requests",
        "condition": "rate > 5",
        "severity": "error",
        "reason": "fired",
        "value": 7.5,
        "threshold": 5.0,
        "started_at": 10.0,
        "at": 10.0,
        "labels": {"team": "core"},
        "fingerprint": "busy@10",
    }
    fields.update(changes)
    return Alert(**fields)


class TestWebhookNotifier:
    def test_posts_json(self, hook: Hook) -> None:
        """The alert is POSTed as JSON with the given headers."""
        WebhookNotifier(hook.url, headers={"Authorization": "Bearer t"})(alert())
        (body,) = hook.bodies
        assert body["rule"] == "busy"
        assert body["status"] == "firing"
        assert body["value"] == 7.5
        assert body["labels"] == {"team": "core"}
        assert hook.headers[0]["Content-Type"] == "application/json"
        assert hook.headers[0]["Authorization"] == "Bearer t"

    def test_retries_server_errors(self, hook: Hook) -> None:
        """5xx answers are retried within one delivery until one succeeds."""
        hook.statuses = [500, 503]
        WebhookNotifier(hook.url, retries=2, backoff=0)(alert())
        assert len(hook.bodies) == 3

    def test_gives_up_after_retries(self, hook: Hook) -> None:
        """When every attempt fails, NotifierError says where and how many attempts."""
        hook.statuses = [500, 500, 500]
        with pytest.raises(NotifierError, match=r"failed after 2 attempt\(s\).*500"):
            WebhookNotifier(hook.url, retries=1, backoff=0)(alert())
        assert len(hook.bodies) == 2

    def test_server_down(self) -> None:
        """A refused connection is a NotifierError, after the retries."""
        url = f"http://127.0.0.1:{free_port()}/alerts"
        with pytest.raises(NotifierError, match="failed after 3 attempt"):
            WebhookNotifier(url, retries=2, backoff=0)(alert())

    def test_timeout(self, hook: Hook) -> None:
        """A server that does not answer within the timeout is a failure."""
        hook.hold = threading.Event()
        with pytest.raises(NotifierError, match="timed out"):
            WebhookNotifier(hook.url, timeout=0.2, retries=0)(alert())
        hook.hold.set()

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"url": "ftp://x"}, "http:// or https://"),
            ({"timeout": 0}, "`timeout` must be > 0"),
            ({"retries": -1}, "`retries` must be an int >= 0"),
            ({"backoff": -1}, "`backoff` must be >= 0"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any], error: str) -> None:
        """Bad arguments are refused with the reason."""
        arguments: dict[str, Any] = {"url": "http://127.0.0.1:1/x"}
        arguments.update(kwargs)
        with pytest.raises(ValueError, match=error):
            WebhookNotifier(**arguments)


class TestWebhookThroughService:
    def test_down_then_recovering(self, clock: FakeClock) -> None:
        """While the webhook is down the alert is counted and kept; once it is up it arrives."""
        port = free_port()
        url = f"http://127.0.0.1:{port}/alerts"
        service, provider = make_service(clock, notify_attempts=5)
        hook: Hook | None = None
        try:
            counter = provider.get_meter("t").create_counter("requests")
            service.add_rule(
                AlertRule("busy", "requests", "rate[10s] > 5"),
                notifiers=[WebhookNotifier(url, retries=0, backoff=0)],
            )
            key = ("service.notifier", SkipReason.BACKEND_UNAVAILABLE)
            before = skipped(*key)
            clock.advance(10)
            counter.add(100)
            assert service.force_flush()
            assert skipped(*key) == before + 1
            assert service.health()["service"]["pending_retries"] == 1

            hook = Hook(port)
            clock.advance(10)
            counter.add(100)
            assert service.force_flush()
            assert [body["reason"] for body in hook.bodies] == ["fired"]
            assert service.health()["service"]["pending_retries"] == 0
        finally:
            provider.shutdown()
            if hook is not None:
                hook.close()

    def test_failing_then_recovering(self, clock: FakeClock, hook: Hook) -> None:
        """A webhook answering 503 is retried on the next evaluation and then delivered."""
        service, provider = make_service(clock)
        try:
            counter = provider.get_meter("t").create_counter("requests")
            service.add_notifier(WebhookNotifier(hook.url, retries=0, backoff=0))
            service.add_rule(AlertRule("busy", "requests", "rate[10s] > 5"))
            hook.statuses = [503]
            clock.advance(10)
            counter.add(100)
            service.force_flush()
            clock.advance(10)
            service.force_flush()  # the rate fell to 0: resolved, and the fired one retried
            assert sorted(body["reason"] for body in hook.bodies) == [
                "fired",
                "fired",
                "resolved",
            ]
            stats = service.health()["service"]["notifiers"][f"webhook:{hook.url}"]
            assert stats == {"delivered": 2, "failed": 1, "given_up": 0}
        finally:
            provider.shutdown()


class TestLogNotifier:
    def test_level_follows_severity(self, caplog: pytest.LogCaptureFixture) -> None:
        """Firing alerts log at their severity's level, resolutions at INFO."""
        caplog.set_level(logging.INFO, logger="foundation_telemetry.alerts")
        notifier = LogNotifier()
        notifier(alert(severity="critical"))
        notifier(alert(reason="resolved", resolved_at=20.0))
        levels = [record.levelno for record in caplog.records]
        assert levels == [logging.CRITICAL, logging.INFO]
        assert "alert 'busy' fired [critical]" in caplog.records[0].getMessage()
        assert caplog.records[1].alert["status"] == "resolved"  # type: ignore[attr-defined]


class TestCallbackNotifier:
    def test_calls_and_names(self) -> None:
        """A CallbackNotifier calls its function and carries a name."""
        seen: list[Alert] = []
        notifier = CallbackNotifier(seen.append, name="pager")
        notifier(alert())
        assert len(seen) == 1
        assert notifier.name == "pager"
        assert repr(notifier) == "CallbackNotifier('pager')"

    def test_refuses_non_callable(self) -> None:
        """A non-callable is a TypeError."""
        with pytest.raises(TypeError, match="must be callable"):
            CallbackNotifier("nope")  # type: ignore[arg-type]
