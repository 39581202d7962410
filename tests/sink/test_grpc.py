"""OTLP/gRPC front end: the three services, status codes, token, size limit and faults."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

from foundation_telemetry.sink import Sink

TRACE_SERVICE = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _request(count: int) -> trace_service_pb2.ExportTraceServiceRequest:
    spans = [
        trace_pb2.Span(trace_id=b"\1" * 16, span_id=(i + 1).to_bytes(8, "big"), name=f"s{i}")
        for i in range(count)
    ]
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )


def _call(
    sink: Sink, body: bytes, metadata: tuple[tuple[str, str], ...] = ()
) -> trace_service_pb2.ExportTraceServiceResponse:
    with grpc.insecure_channel(f"127.0.0.1:{sink.grpc_port}") as channel:
        export = channel.unary_unary(TRACE_SERVICE)
        answer = export(body, metadata=metadata, timeout=30)
    response = trace_service_pb2.ExportTraceServiceResponse()
    response.ParseFromString(answer)
    return response


class TestServices:
    def test_each_service_accepts_its_request(self, sink: Sink) -> None:
        """Trace, metrics and logs services each answer an empty request with an empty response."""
        with grpc.insecure_channel(f"127.0.0.1:{sink.grpc_port}") as channel:
            for path, request, response_type in (
                (
                    TRACE_SERVICE,
                    trace_service_pb2.ExportTraceServiceRequest(),
                    trace_service_pb2.ExportTraceServiceResponse,
                ),
                (
                    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                    metrics_service_pb2.ExportMetricsServiceRequest(),
                    metrics_service_pb2.ExportMetricsServiceResponse,
                ),
                (
                    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                    logs_service_pb2.ExportLogsServiceRequest(),
                    logs_service_pb2.ExportLogsServiceResponse,
                ),
            ):
                call = channel.unary_unary(
                    path,
                    request_serializer=type(request).SerializeToString,
                    response_deserializer=response_type.FromString,
                )
                assert call(request, timeout=30) == response_type()
        assert sink.stats.requests == 3

    def test_partial_success(self, sink: Sink) -> None:
        """A partial-success fault reports the rejected spans in the gRPC response."""
        sink.faults.partial_success(1, message="full")
        response = _call(sink, _request(3).SerializeToString())
        assert (
            response.partial_success.rejected_spans,
            response.partial_success.error_message,
        ) == (
            1,
            "full",
        )
        assert [span.name for span in sink.spans()] == ["s0", "s1"]


class TestBadInput:
    def test_garbage_is_invalid_argument_and_sink_keeps_serving(self, sink: Sink) -> None:
        """A body that is not an export request gets INVALID_ARGUMENT with the reason."""
        with pytest.raises(grpc.RpcError) as raised:
            _call(sink, b"\xff\xff\xff\xff garbage")
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "not a valid protobuf ExportTraceServiceRequest" in raised.value.details()
        assert len(_call(sink, _request(1).SerializeToString()).SerializeToString()) == 0
        assert len(sink.spans()) == 1

    def test_oversize_is_resource_exhausted(self) -> None:
        """A message over max_request_bytes gets RESOURCE_EXHAUSTED; smaller ones still pass."""
        with Sink(max_request_bytes=200) as small:
            with pytest.raises(grpc.RpcError) as raised:
                _call(small, _request(50).SerializeToString())
            assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            _call(small, _request(1).SerializeToString())
            assert len(small.spans()) == 1

    @pytest.mark.parametrize("metadata", [(), (("authorization", "Bearer nope"),)])
    def test_missing_or_wrong_token_is_unauthenticated(
        self, metadata: tuple[tuple[str, str], ...]
    ) -> None:
        """With a token set, calls without the right bearer token get UNAUTHENTICATED."""
        with Sink(token="s3cret") as guarded:
            with pytest.raises(grpc.RpcError) as raised:
                _call(guarded, _request(1).SerializeToString(), metadata)
            assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED
            _call(guarded, _request(1).SerializeToString(), (("authorization", "Bearer s3cret"),))
            assert len(guarded.spans()) == 1
            assert guarded.stats.refused == {"unauthenticated": 1}


class TestFaults:
    def test_unavailable_carries_retry_info_and_exporter_recovers(self, sink: Sink) -> None:
        """The OTLP gRPC exporter retries after the RetryInfo delay and the span arrives."""
        sink.faults.unavailable(2, retry_after=0.01)
        exporter = OTLPSpanExporter(endpoint=sink.grpc_endpoint, insecure=True, timeout=30)
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        provider.get_tracer("t").start_span("survivor").end()
        provider.shutdown()
        assert [span.name for span in sink.spans()] == ["survivor"]
        assert sink.stats.refused == {"unavailable": 2}

    def test_dropped_call_is_cancelled(self, sink: Sink) -> None:
        """A dropped call ends CANCELLED for the client; the next call is served."""
        sink.faults.drop_connections(1)
        with pytest.raises(grpc.RpcError) as raised:
            _call(sink, _request(1).SerializeToString())
        assert raised.value.code() is grpc.StatusCode.CANCELLED
        _call(sink, _request(1).SerializeToString())
        assert len(sink.spans()) == 1

    def test_token_with_real_exporter_headers(self) -> None:
        """The stock exporter's headers option carries the token the sink requires."""
        with Sink(token="tok") as guarded:
            bad = OTLPSpanExporter(endpoint=guarded.grpc_endpoint, insecure=True, timeout=5)
            good = OTLPSpanExporter(
                endpoint=guarded.grpc_endpoint,
                insecure=True,
                timeout=5,
                headers={"authorization": "Bearer tok"},
            )
            provider = TracerProvider()
            span = provider.get_tracer("t").start_span("x")
            span.end()
            assert bad.export([span]) is SpanExportResult.FAILURE
            assert good.export([span]) is SpanExportResult.SUCCESS
            bad.shutdown()
            good.shutdown()
            assert len(guarded.spans()) == 1
