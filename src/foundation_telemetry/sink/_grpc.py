"""The sink's OTLP/gRPC front end: the three collector services on one grpcio server.

The servicers subclass the ones generated in ``opentelemetry-proto`` but are registered with a
raw-bytes request deserializer, so a body that is not a valid export request is answered with
``INVALID_ARGUMENT`` and a reason (the generated registration would answer ``INTERNAL``
before our code runs). Everything after parsing is `Ingest`'s job.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from ._decode import Signal
from ._ingest import Ingest, Status

__all__ = ["GrpcReceiver"]

_RETRY_INFO_KEY = "google.rpc.retryinfo-bin"


def _export(ingest: Ingest, signal: Signal, body: bytes, context: grpc.ServicerContext) -> bytes:
    metadata = dict(context.invocation_metadata() or ())
    authorization = metadata.get("authorization")
    if not ingest.authorized(authorization if isinstance(authorization, str) else None):
        ingest.refuse("unauthenticated")
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
    outcome = ingest.handle(signal, body)
    if outcome.status is Status.OK and outcome.response is not None:
        return outcome.response.SerializeToString()
    if outcome.status is Status.DROP:
        context.cancel()
        return b""
    if outcome.status is Status.UNAVAILABLE:
        if outcome.retry_after is not None:
            delay = Duration()
            delay.FromNanoseconds(int(outcome.retry_after * 1e9))
            info = RetryInfo(retry_delay=delay).SerializeToString()
            context.set_trailing_metadata(((_RETRY_INFO_KEY, info),))
        context.abort(grpc.StatusCode.UNAVAILABLE, outcome.message)
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, outcome.message)
    raise AssertionError  # pragma: no cover - abort always raises


def _check_free(host: str, port: int, target: str) -> None:
    """Raise our ``OSError`` if *port* is taken, before gRPC's C core logs its own error line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
            probe.bind(address)
    except OSError as error:
        msg = f"the OTLP/gRPC sink could not listen on {target}: {error.strerror or error}"
        raise OSError(msg) from error


class _TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, ingest: Ingest) -> None:
        self._ingest = ingest

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        return _export(self._ingest, Signal.TRACES, request, context)


class _MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, ingest: Ingest) -> None:
        self._ingest = ingest

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        return _export(self._ingest, Signal.METRICS, request, context)


class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, ingest: Ingest) -> None:
        self._ingest = ingest

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        return _export(self._ingest, Signal.LOGS, request, context)


def _identity(data: bytes) -> bytes:
    return data


def _handler(service: str, export: Callable[[Any, grpc.ServicerContext], Any]) -> Any:
    method = grpc.unary_unary_rpc_method_handler(
        export, request_deserializer=_identity, response_serializer=_identity
    )
    return grpc.method_handlers_generic_handler(service, {"Export": method})


class GrpcReceiver:
    """One running grpcio server for the three OTLP services; not restartable (make a new one)."""

    def __init__(
        self, ingest: Ingest, host: str, port: int, *, max_request_bytes: int, workers: int = 16
    ) -> None:
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="otlp-sink-grpc"),
            options=[
                ("grpc.max_receive_message_length", max_request_bytes),
                ("grpc.so_reuseport", 0),
            ],
        )
        services = (
            (trace_service_pb2, "TraceService", _TraceServicer(ingest)),
            (metrics_service_pb2, "MetricsService", _MetricsServicer(ingest)),
            (logs_service_pb2, "LogsService", _LogsServicer(ingest)),
        )
        self._server.add_generic_rpc_handlers(
            tuple(
                _handler(module.DESCRIPTOR.services_by_name[name].full_name, servicer.Export)
                for module, name, servicer in services
            )
        )
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if port:
            _check_free(host, port, target)
        try:
            self.port = self._server.add_insecure_port(target)
        except RuntimeError:  # grpcio >= 1.5x raises instead of returning 0
            self.port = 0
        if self.port == 0:
            self._server.stop(grace=None)
            msg = f"the OTLP/gRPC sink could not listen on {target} (port in use?)"
            raise OSError(msg)
        self._server.start()

    def stop(self) -> None:
        """Stop at once: in-flight calls are cancelled and the port is released."""
        self._server.stop(grace=None).wait()
