"""The embedded OTLP sink: receive real OTLP exports in-process, query them, inject faults.

`Sink` listens for OTLP/gRPC and OTLP/HTTP (protobuf and JSON) on 127.0.0.1, keeps what arrives
as the same record views the in-process Recorder hands out, can keep an SQLite file of the run
(`read_store` reads it back), and takes `Faults` for chaos tests. Run it from the command line
with ``foundation-telemetry sink``.
"""

from __future__ import annotations

from .._exports import fixup_module_metadata as _fixup_module_metadata
from ._faults import Faults as Faults
from ._http import HttpLimits as HttpLimits
from ._ingest import SinkStats as SinkStats
from ._sink import Sink as Sink
from ._store import read_store as read_store

__all__ = ["Faults", "HttpLimits", "Sink", "SinkStats", "read_store"]

_fixup_module_metadata(__name__, globals())
