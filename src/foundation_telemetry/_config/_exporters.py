"""Build the stock SDK exporters a signal's settings ask for (OTLP over gRPC or HTTP, console).

The OTLP exporter classes are imported only when chosen, so an application that exports over
HTTP never loads grpcio. ``"memory"`` is not an exporter here: it means the in-process Recorder,
which ``_config`` attaches as a processor instead. An OTLP/HTTP exporter sends through a
session that reports permanent errors (see ``_rejections``).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter

from .._otel._compat import ConsoleLogRecordExporter, LogRecordExporter, otlp_log_exporter
from ._rejections import session_for
from ._settings import SignalSettings

__all__ = ["build_exporters"]

Exporter = SpanExporter | MetricExporter | LogRecordExporter


def _credential_providers(signal: str) -> tuple[str, str]:
    return (
        "OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER",
        f"OTEL_PYTHON_EXPORTER_OTLP_HTTP_{signal.upper()}_CREDENTIAL_PROVIDER",
    )


def _otlp_exporter(settings: SignalSettings) -> Any:
    kwargs: dict[str, Any] = {"endpoint": settings.endpoint}
    if settings.headers:
        kwargs["headers"] = dict(settings.headers)
    if settings.timeout is not None:
        kwargs["timeout"] = settings.timeout
    if settings.protocol == "grpc":
        kwargs["insecure"] = urlsplit(settings.endpoint).scheme != "https"
        if settings.signal == "traces":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            return OTLPSpanExporter(**kwargs)
        if settings.signal == "metrics":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

            return OTLPMetricExporter(**kwargs)
        return otlp_log_exporter("grpc", **kwargs)
    if not any(os.environ.get(name) for name in _credential_providers(settings.signal)):
        # A credential provider makes the SDK build its own session (it then cannot report).
        kwargs["session"] = session_for(settings.signal, settings.endpoint)
    if settings.signal == "traces":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HTTPSpanExporter,
        )

        return HTTPSpanExporter(**kwargs)
    if settings.signal == "metrics":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HTTPMetricExporter,
        )

        return HTTPMetricExporter(**kwargs)
    return otlp_log_exporter("http/protobuf", **kwargs)


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
