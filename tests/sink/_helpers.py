"""Small helpers the sink tests use to talk to a sink over real sockets."""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from typing import Any

from foundation_telemetry.sink import Sink


def post(
    sink: Sink,
    path: str,
    body: bytes,
    content_type: str = "application/x-protobuf",
    headers: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """POST *body* to the sink's HTTP port; returns status, lower-cased headers and body."""
    connection = http.client.HTTPConnection("127.0.0.1", sink.http_port, timeout=30)
    try:
        all_headers = {"content-type": content_type, **(headers or {})}
        connection.request("POST", path, body=body, headers=all_headers)
        response = connection.getresponse()
        return (
            response.status,
            {key.lower(): value for key, value in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def get_json(sink: Sink, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    """GET *path* from the sink's HTTP port and decode the JSON answer."""
    connection = http.client.HTTPConnection("127.0.0.1", sink.http_port, timeout=30)
    try:
        connection.request("GET", path, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()
