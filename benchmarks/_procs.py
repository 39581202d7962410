"""Helpers for the benchmarks that run fresh interpreters: child commands and a byte counter.

``run_child`` starts ``python -m benchmarks._otlp_child ...`` from the repository root. The
``CountingProxy`` forwards TCP connections to an upstream port and counts the bytes the client
sent, which is how "bytes on the wire" is measured for either OTLP transport.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["ROOT", "CountingProxy", "cached_bytecode_env", "closed_port", "host_port", "run_child"]

ROOT = Path(__file__).resolve().parent.parent


def cached_bytecode_env() -> dict[str, str]:
    """The environment for a child that imports as an installed package does: from byte code.

    ``PYTHONDONTWRITEBYTECODE`` (set on some machines) would make every fresh process compile
    everything it imports, a cost that lands on whichever side imports more; the cache lives
    under ``build/``, outside the source tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / "build" / "bench-pycache")
    return env


def run_child(*args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """Run the OTLP child with *args*; stdout/stderr captured as text."""
    env = dict(os.environ)
    env.pop("OTEL_SDK_DISABLED", None)
    return subprocess.run(
        [sys.executable, "-m", "benchmarks._otlp_child", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def host_port(endpoint: str) -> tuple[str, int]:
    """``(host, port)`` of an endpoint given as a URL or as ``host:port``."""
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    if parts.hostname is None or parts.port is None:
        msg = f"cannot find host and port in endpoint {endpoint!r}."
        raise ValueError(msg)
    return parts.hostname, parts.port


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class CountingProxy:
    """Forward 127.0.0.1:<port> to *upstream*, counting client-to-server bytes."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sent = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def sent(self) -> int:
        """Bytes the clients sent so far."""
        with self._lock:
            return self._sent

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._sent = 0

    def close(self) -> None:
        """Stop accepting; open connections end when either side closes."""
        self._stopped = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while data := src.recv(65536):
                if count:
                    with self._lock:
                        self._sent += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            src.close()  # the other pump closes the other socket
