"""Sink lifecycle: endpoints, stop/restart on the same ports, outages, bounds and the SQLite file."""

from __future__ import annotations

import socket
import typing
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HTTPSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

import foundation_telemetry.sink as sink_module
from foundation_telemetry._otel._compat import (
    ATTRIBUTES_KEEP_BYTES,
    LoggerProvider,
    SimpleLogRecordProcessor,
    otlp_log_exporter,
)
from foundation_telemetry.recording._records import SpanRecord
from foundation_telemetry.sink import Sink, read_store

from ._helpers import get_json, post
from .test_http import _traces_request


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class TestPublicApi:
    def test_all_lists_the_public_names(self) -> None:
        """The package exports exactly its public names."""
        assert sorted(sink_module.__all__) == [
            "Faults",
            "HttpLimits",
            "Sink",
            "SinkStats",
            "read_store",
        ]

    def test_sink_is_final(self) -> None:
        """Sink is @final (it is not meant to be subclassed)."""
        assert getattr(Sink, "__final__", False) is True
        assert typing.get_origin(Sink) is None

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"grpc_port": -1}, "grpc_port"),
            ({"http_port": 70000}, "http_port"),
            ({"max_items": 0}, "max_items"),
            ({"max_request_bytes": 0}, "max_request_bytes"),
            ({"token": " "}, "token"),
        ],
    )
    def test_bad_arguments_say_what_is_wrong(self, kwargs: dict[str, object], message: str) -> None:
        """Out-of-range arguments raise ValueError naming the argument."""
        with pytest.raises(ValueError, match=message):
            Sink(**kwargs)  # type: ignore[arg-type]


class TestLifecycle:
    def test_endpoints_before_start_raise(self) -> None:
        """An endpoint is only valid once start() returned."""
        with pytest.raises(RuntimeError, match="before start"):
            _ = Sink().grpc_endpoint

    def test_endpoints_after_start(self) -> None:
        """Endpoints are http://127.0.0.1:<port> with real ports."""
        with Sink() as sink:
            assert sink.grpc_endpoint == f"http://127.0.0.1:{sink.grpc_port}"
            assert sink.http_endpoint == f"http://127.0.0.1:{sink.http_port}"
            assert sink.grpc_port > 0
            assert sink.http_port > 0
            assert not _refused(sink.grpc_port)

    def test_stop_closes_ports_and_later_calls_warn(self) -> None:
        """After stop() the ports stay closed; start(), offline() and restart() warn at the caller."""
        sink = Sink().start()
        ports = sink.grpc_port, sink.http_port
        sink.stop()
        sink.stop()
        assert all(_refused(port) for port in ports)
        with pytest.warns(RuntimeWarning, match="stopped"):
            sink.start()
        with pytest.warns(RuntimeWarning, match="stopped") as warned, sink.offline():
            pass
        with pytest.warns(RuntimeWarning, match="restart"):
            sink.restart()
        assert warned[0].filename == __file__
        assert all(_refused(port) for port in ports)

    def test_offline_refuses_then_listens_again_on_the_same_ports(self) -> None:
        """Inside offline() connections are refused; afterwards the same ports serve again."""
        with Sink() as sink:
            post(sink, "/v1/traces", _traces_request(1))
            ports = sink.grpc_port, sink.http_port
            with sink.offline():
                assert all(_refused(port) for port in ports)
            assert (sink.grpc_port, sink.http_port) == ports
            assert post(sink, "/v1/traces", _traces_request(1))[0] == 200
            assert len(sink.spans()) == 2

    def test_restart_cuts_keep_alive_connections(self) -> None:
        """A pooled keep-alive connection does not survive a restart; the exporter reconnects."""
        with Sink() as sink:
            exporter = HTTPSpanExporter(endpoint=f"{sink.http_endpoint}/v1/traces", timeout=10)
            grpc_exporter = OTLPSpanExporter(endpoint=sink.grpc_endpoint, insecure=True, timeout=10)
            span = TracerProvider().get_tracer("t").start_span("x")
            span.end()
            assert exporter.export([span]) is SpanExportResult.SUCCESS
            assert grpc_exporter.export([span]) is SpanExportResult.SUCCESS
            sink.restart()
            assert exporter.export([span]) is SpanExportResult.SUCCESS
            assert grpc_exporter.export([span]) is SpanExportResult.SUCCESS
            exporter.shutdown()
            grpc_exporter.shutdown()
            assert len(sink.spans()) == 4

    def test_ipv6_loopback(self) -> None:
        """On ::1 the endpoints are bracketed and both exporters deliver."""
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback on this machine")
        with Sink("::1") as sink:
            assert sink.http_endpoint == f"http://[::1]:{sink.http_port}"
            span = TracerProvider().get_tracer("t").start_span("v6")
            span.end()
            http_exporter = HTTPSpanExporter(endpoint=f"{sink.http_endpoint}/v1/traces", timeout=10)
            grpc_exporter = OTLPSpanExporter(endpoint=sink.grpc_endpoint, insecure=True, timeout=10)
            assert http_exporter.export([span]) is SpanExportResult.SUCCESS
            assert grpc_exporter.export([span]) is SpanExportResult.SUCCESS
            http_exporter.shutdown()
            grpc_exporter.shutdown()
            assert len(sink.spans()) == 2

    def test_fixed_port_in_use_is_a_clear_error(self) -> None:
        """Asking for a port another sink holds fails with OSError instead of sharing it."""
        with Sink() as first:
            with pytest.raises(OSError, match="could not listen"):
                Sink(grpc_port=first.grpc_port).start()
            with pytest.raises(OSError, match="could not listen"):
                Sink(http_port=first.http_port).start()


class TestStorage:
    def test_memory_is_bounded_and_counts_overflow(self) -> None:
        """Beyond max_items the oldest records are evicted and counted."""
        with Sink(max_items=3) as sink:
            post(sink, "/v1/traces", _traces_request(5))
            assert [span.name for span in sink.spans()] == ["span-2", "span-3", "span-4"]
            assert sink.overflow == 2
            assert sink.stats.accepted == {"traces": 5}

    def test_clear_forgets_memory(self, sink: Sink) -> None:
        """clear() empties the in-memory records."""
        post(sink, "/v1/traces", _traces_request(2))
        sink.clear()
        assert sink.spans() == []

    def test_sqlite_file_keeps_the_run(self, tmp_path: Path) -> None:
        """With store=path every record is in the SQLite file after the sink stopped."""
        path = tmp_path / "run.db"
        provider = TracerProvider(resource=Resource.create({"service.name": "stored"}))
        with Sink(store=path, max_items=1) as sink:
            provider.add_span_processor(
                SimpleSpanProcessor(
                    HTTPSpanExporter(endpoint=f"{sink.http_endpoint}/v1/traces", timeout=10)
                )
            )
            tracer = provider.get_tracer("t")
            with tracer.start_as_current_span("parent"):
                tracer.start_span("child", attributes={"blob": b"\0\1", "n": (1, 2)}).end()
            provider.shutdown()
            live = sink.spans()
        stored = read_store(path)
        assert [record.name for record in stored] == ["child", "parent"]
        assert stored[-1] == live[-1]
        child = stored[0]
        assert isinstance(child, SpanRecord)
        blob = b"\0\1" if ATTRIBUTES_KEEP_BYTES else "\0\1"  # the API decodes bytes before 1.45
        assert child.attributes == {"blob": blob, "n": (1, 2)}
        assert child.resource["service.name"] == "stored"
        assert read_store(path, "event") == []

    def test_read_store_errors(self, tmp_path: Path) -> None:
        """read_store explains a missing file and a bad kind."""
        with pytest.raises(FileNotFoundError, match="no sink store"):
            read_store(tmp_path / "missing.db")
        with pytest.raises(ValueError, match="kind"):
            read_store(tmp_path / "missing.db", "spans")

    def test_subscribers_see_each_batch(self, sink: Sink) -> None:
        """A subscriber is called with every batch until it unsubscribes."""
        seen: list[int] = []
        unsubscribe = sink.subscribe(lambda records: seen.append(len(records)))
        post(sink, "/v1/traces", _traces_request(2))
        unsubscribe()
        post(sink, "/v1/traces", _traces_request(1))
        assert seen == [2]

    def test_failing_subscriber_does_not_break_receiving(self, sink: Sink) -> None:
        """A subscriber that raises is logged; the request still succeeds and is stored."""

        def broken(records: object) -> None:
            raise RuntimeError("subscriber bug")

        sink.subscribe(broken)
        assert post(sink, "/v1/traces", _traces_request(1))[0] == 200
        assert len(sink.spans()) == 1

    def test_store_write_failure_keeps_memory(self, tmp_path: Path) -> None:
        """When the SQLite file cannot be written the batch is still kept in memory and counted."""
        with Sink(store=tmp_path / "run.db") as sink:
            assert sink._sqlite is not None
            sink._sqlite.close()
            assert post(sink, "/v1/traces", _traces_request(2))[0] == 200
            assert (len(sink.spans()), sink.store_errors) == (2, 1)


class TestPlainLogs:
    def test_plain_logs_stay_logs_in_the_store_and_the_api(self, tmp_path: Path) -> None:
        """A log record without an event name is a `log` in SQLite and under /api/logs."""
        path = tmp_path / "run.db"
        with Sink(store=path) as sink:
            provider = LoggerProvider()
            exporter = otlp_log_exporter(
                "http/protobuf", endpoint=f"{sink.http_endpoint}/v1/logs", timeout=10
            )
            provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
            logger = provider.get_logger("t")
            logger.emit(body="disk almost full")
            logger.emit(event_name="order.placed", attributes={"order": 1})
            provider.shutdown()
            _, logs = get_json(sink, "/api/logs")
            _, events = get_json(sink, "/api/events")
        assert [item["name"] for item in logs["items"]] == ["disk almost full", "order.placed"]
        assert [item["name"] for item in events["items"]] == ["disk almost full", "order.placed"]
        assert [record.name for record in read_store(path, "log")] == ["disk almost full"]
        assert [record.name for record in read_store(path, "event")] == ["order.placed"]
