"""A direct OTLP/protobuf encoder: spans, log records and metrics straight to request bytes.

:func:`encode_spans`, :func:`encode_logs` and :func:`encode_metrics` return the bytes the stock
``opentelemetry-exporter-otlp-proto-common`` encoders produce (``encode_*(...).SerializeToString()``),
byte for byte, without building protobuf message objects: the OTLP exporters ``configure()``
builds send them. A batch the direct encoder does not reproduce goes to the stock encoder and is
counted (:func:`encoding_counts`, ``health()["otlp_encoding"]``).
"""

from __future__ import annotations

from .._exports import fixup_module_metadata as _fixup_module_metadata
from ..defensive import register_health_source as _register_health_source
from ._encode import EncodingCounts, encode_logs, encode_metrics, encode_spans, encoding_counts

__all__ = ["EncodingCounts", "encode_logs", "encode_metrics", "encode_spans", "encoding_counts"]

_register_health_source("otlp_encoding", encoding_counts)

_fixup_module_metadata(__name__, globals())
