"""Real third-party clients of the sink: the official OpenTelemetry JS SDK (npm) and curl.

``make interop-deps`` installs the JS packages from ``js/package-lock.json`` (``npm ci``);
``.ci/run`` installs node, npm and curl with apt and calls it. Without them the tests skip on a
developer machine and fail under ``CI=true``, where a missing client means the setup is broken.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from foundation_telemetry.sink import Sink

JS_DIR = Path(__file__).parent / "js"


def require(what: str, present: bool, how: str) -> None:
    """Skip (or, under ``CI=true``, fail) when a client the test drives is missing."""
    if present:
        return
    message = f"{what} is needed ({how})"
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must install it", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    require("node", path is not None, "apt-get install nodejs npm")
    require(
        "the OpenTelemetry JS packages",
        (JS_DIR / "node_modules" / "@opentelemetry" / "sdk-trace-base").is_dir(),
        "make interop-deps",
    )
    assert path is not None
    return path


@pytest.fixture(scope="session")
def curl() -> str:
    path = shutil.which("curl")
    require("curl", path is not None, "apt-get install curl")
    assert path is not None
    return path


def query(sink: Sink, path: str, token: str = "interop-token") -> tuple[int, Any]:
    """GET *path* from the sink's query API with the token; the status and the parsed JSON."""
    request = urllib.request.Request(
        sink.http_endpoint + path, headers={"authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        # parse_constant refuses NaN/Infinity: the API must answer strict JSON.
        return response.status, json.loads(response.read(), parse_constant=_not_json)


def _not_json(name: str) -> None:
    msg = f"the query API answered a bare {name}, which is not JSON"
    raise AssertionError(msg)
