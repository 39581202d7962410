"""Build the SDK exporters a signal's settings ask for (OTLP over gRPC or HTTP, console).

The OTLP exporters are the stock ones (retries, timeouts, headers, TLS unchanged) sending the
bytes of the package's direct encoder (:mod:`foundation_telemetry.otlp`) instead of building
protobuf messages; metrics over HTTP keep the stock encoder. The OTLP exporter classes are
imported only when chosen, so an application that exports over HTTP never loads grpcio.
``"memory"`` is not an exporter here: it means the in-process Recorder, which ``_config``
attaches as a processor instead. An OTLP/HTTP exporter sends through a session that reports
permanent errors (see ``_rejections``).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter

from .._otel._compat import ConsoleLogRecordExporter, LogRecordExporter
from .._otel._internals import encoded_grpc_exporter, encoded_http_exporter
from ._rejections import session_for
from ._settings import SignalSettings

__all__ = ["build_exporters"]

Exporter = SpanExporter | MetricExporter | LogRecordExporter


def _direct_encoder(signal: str) -> Any:
    from .. import otlp

    if signal == "traces":
        return otlp.encode_spans
    if signal == "metrics":
        return otlp.encode_metrics
    return otlp.encode_logs


def _credential_providers(signal: str) -> tuple[str, str]:
    return (
        "OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER",
        f"OTEL_PYTHON_EXPORTER_OTLP_HTTP_{signal.upper()}_CREDENTIAL_PROVIDER",
    )


def _otlp_exporter(settings: SignalSettings) -> Any:
    kwargs: dict[str, Any] = {"endpoint": settings.endpoint}
    if settings.headers:
        kwargs["headers"] = dict(settings.headers)
    kwargs["timeout"] = settings.export_timeout  # the exporter gives up when the wrapper does
    encode = _direct_encoder(settings.signal)
    if settings.protocol == "grpc":
        kwargs["insecure"] = urlsplit(settings.endpoint).scheme != "https"
        return encoded_grpc_exporter(settings.signal, encode, **kwargs)
    if not any(os.environ.get(name) for name in _credential_providers(settings.signal)):
        # A credential provider makes the SDK build its own session (it then cannot report).
        kwargs["session"] = session_for(settings.signal, settings.endpoint)
    return encoded_http_exporter(settings.signal, encode, **kwargs)


def _console_exporter(settings: SignalSettings) -> Exporter:
    if settings.signal == "traces":
        return ConsoleSpanExporter()
    if settings.signal == "metrics":
        return ConsoleMetricExporter()
    return ConsoleLogRecordExporter()


def build_exporters(settings: SignalSettings) -> list[tuple[str, Any]]:
    """Return ``(name, exporter)`` for every exporter of the signal except ``"memory"``."""
    built: list[tuple[str, Any]] = []
    for name in settings.exporters:
        if name == "otlp":
            built.append((name, _otlp_exporter(settings)))
        elif name == "console":
            built.append((name, _console_exporter(settings)))
    return built
