"""The JSON query API on the sink's HTTP port: families, filters and errors."""

from __future__ import annotations

import json

import pytest

from foundation_telemetry.sink import Sink

from ._helpers import get_json, post
from .test_http import JSON_LOGS, JSON_METRICS, JSON_TRACES, TRACE_ID, _traces_request


@pytest.fixture
def filled(sink: Sink) -> Sink:
    for path, body in (
        ("/v1/traces", JSON_TRACES),
        ("/v1/logs", JSON_LOGS),
        ("/v1/metrics", JSON_METRICS),
    ):
        assert post(sink, path, json.dumps(body).encode(), "application/json")[0] == 200
    assert post(sink, "/v1/traces", _traces_request(3))[0] == 200
    return sink


class TestQueryApi:
    def test_spans_in_json_shape(self, filled: Sink) -> None:
        """/api/spans lists spans with hex ids, attributes and resource."""
        status, document = get_json(filled, "/api/spans?name=checkout")
        assert (status, document["count"]) == (200, 1)
        (span,) = document["items"]
        assert span["trace_id"] == TRACE_ID
        assert span["attributes"] == {"order.id": 42, "ok": True, "tags": ["a", 1.5]}
        assert span["resource"] == {"service.name": "json-svc"}
        assert span["span_kind"] == "SERVER"

    @pytest.mark.parametrize(
        ("query", "names"),
        [
            ("", ["checkout", "span-0", "span-1", "span-2"]),
            ("name=span-*", ["span-0", "span-1", "span-2"]),
            ("service=json-svc", ["checkout"]),
            (f"trace_id={TRACE_ID}", ["checkout", "span-0", "span-1", "span-2"]),
            ("attr.order.id=42", ["checkout"]),
            ("limit=2", ["span-1", "span-2"]),
            ("since_ns=1544712660000000001", []),
            ("limit=0", []),
        ],
    )
    def test_span_filters(self, filled: Sink, query: str, names: list[str]) -> None:
        """Each filter narrows the span list."""
        status, document = get_json(filled, f"/api/spans?{query}")
        assert status == 200
        assert [item["name"] for item in document["items"]] == names

    def test_events_and_metrics(self, filled: Sink) -> None:
        """/api/events and /api/metrics list their own families."""
        _, events = get_json(filled, "/api/events?name=foundation.retry.*")
        assert [item["name"] for item in events["items"]] == ["foundation.retry.attempt_start"]
        _, metrics = get_json(filled, "/api/metrics?name=latency")
        assert [(m["value"], m["count"]) for m in metrics["items"]] == [(12.5, 3)]

    @pytest.mark.parametrize(
        ("path", "status", "message"),
        [
            ("/api/spans?colour=red", 400, "unknown filter 'colour'"),
            ("/api/spans?limit=lots", 400, "limit must be an integer"),
            ("/api/spans?trace_id=xyz", 400, "trace_id must be a hex"),
            ("/api/traces", 404, "unknown path"),
        ],
    )
    def test_bad_queries_explain(self, sink: Sink, path: str, status: int, message: str) -> None:
        """Bad filters and paths get 400/404 with a reason."""
        answer_status, document = get_json(sink, path)
        assert answer_status == status
        assert message in document["error"]
