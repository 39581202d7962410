"""The sink's viewer in headless Chromium, fed by the real OTLP exporters over loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from playwright.sync_api import expect

import foundation_telemetry as ft
from foundation_telemetry.sink import Sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink(ui=True) as running:
        yield running


@pytest.fixture
def telemetry(sink: Sink) -> Iterator[ft.Telemetry]:
    configured = ft.configure(
        "shop",
        exporter="otlp",
        endpoint=sink.http_endpoint,
        protocol="http/protobuf",
        set_global=False,
    )
    yield configured
    configured.shutdown()


def _checkout(telemetry: ft.Telemetry, order: int, *, fail: bool = False) -> None:
    tracer = telemetry.tracer_provider.get_tracer("shop")
    with tracer.start_as_current_span("checkout", attributes={"order.id": order}) as root:
        with tracer.start_as_current_span("reserve", attributes={"sku": "A-1"}):
            pass
        with tracer.start_as_current_span("charge") as charge:
            charge.add_event("card.checked", {"code": "ok"})
            if fail:
                charge.set_status(trace.Status(trace.StatusCode.ERROR, "card declined"))
        root.set_attribute("items", 2)


def _open(page: Any, sink: Sink) -> None:
    page.goto(sink.ui_url)
    page.wait_for_selector("body[data-ready=true]")


def test_a_trace_appears_live_and_its_waterfall_is_ordered(sink, telemetry, page):
    _open(page, sink)
    assert page.locator("#trace-list tbody tr").count() == 0
    _checkout(telemetry, 1, fail=True)
    assert telemetry.force_flush()
    row = page.locator("#trace-list tbody tr")
    row.first.wait_for()  # pushed by the stream: no reload
    assert row.first.locator("td").nth(1).inner_text() == "checkout"
    assert row.first.locator("td").nth(5).inner_text() == "error"
    row.first.click()
    spans = page.locator("#waterfall .ft-span")
    assert [spans.nth(i).locator(".ft-name").inner_text() for i in range(3)] == [
        "checkout",
        "reserve",
        "charge",
    ]
    bars = [spans.nth(i).locator(".ft-bar").bounding_box() for i in range(3)]
    assert bars[0]["x"] <= bars[1]["x"] <= bars[2]["x"]
    assert bars[1]["x"] + bars[1]["width"] <= bars[2]["x"] + 1
    assert bars[0]["width"] >= bars[2]["x"] + bars[2]["width"] - bars[0]["x"] - 1
    assert "ft-status-error" in (spans.nth(2).locator(".ft-bar").get_attribute("class") or "")

    spans.nth(2).click()
    details = page.locator("#span-details").inner_text()
    assert "card declined" in details
    assert "card.checked" in details
    spans.nth(1).click()
    assert "A-1" in page.locator("#span-details").inner_text()
    assert "service.name" in page.locator("#span-details").inner_text()


def test_filters_narrow_the_list(sink, telemetry, page):
    for order in range(4):
        _checkout(telemetry, order, fail=order == 3)
    telemetry.force_flush()
    _open(page, sink)
    rows = page.locator("#trace-list tbody tr")
    assert rows.count() == 4
    page.select_option("#trace-filters select[name=status]", "ERROR")
    expect(rows).to_have_count(1)
    page.select_option("#trace-filters select[name=status]", "")
    page.fill("#trace-filters input[name=attr]", "order.id=2")
    expect(rows).to_have_count(1)
    page.fill("#trace-filters input[name=attr]", "")
    page.fill("#trace-filters input[name=name]", "nothing*")
    expect(rows).to_have_count(0)
    page.fill("#trace-filters input[name=name]", "char*")
    expect(rows).to_have_count(4)


def test_logs_link_to_their_trace_and_metrics_are_charted(sink, telemetry, page):
    tracer = telemetry.tracer_provider.get_tracer("shop")
    counter = telemetry.meter_provider.get_meter("shop").create_counter("orders")
    with tracer.start_as_current_span("checkout"):
        telemetry.logger_provider.get_logger("shop").emit(
            body="order placed", severity_text="INFO", event_name="order.placed"
        )
    for _ in range(3):
        counter.add(5, {"region": "eu"})
        telemetry.force_flush()
    _open(page, sink)
    page.click("button[data-tab=logs]")
    log = page.locator("#log-list tbody tr", has_text="order.placed")
    log.wait_for()
    assert "order placed" in log.inner_text()
    log.locator("a.ft-trace-link").click()
    page.locator("#waterfall .ft-span").first.wait_for()
    assert page.locator("#waterfall .ft-name").first.inner_text() == "checkout"

    page.click("button[data-tab=metrics]")
    page.locator("#instrument-list tr[data-name=orders]").click()
    points = page.locator("#metric-chart .ft-point")
    points.first.wait_for()
    assert points.count() >= 2  # a rate needs two exports
    assert all(float(points.nth(i).get_attribute("data-value")) >= 0 for i in range(points.count()))


def test_health_shows_stats_and_faults(sink, telemetry, page):
    _checkout(telemetry, 1)
    telemetry.force_flush()
    sink.faults.unavailable(None, signal="traces")
    _open(page, sink)
    page.click("button[data-tab=health]")
    expect(page.locator("#stats tbody tr").first).to_be_visible()
    expect(page.locator("#stats")).to_contain_text("traces")
    expect(page.locator("#faults")).to_contain_text("unavailable on traces")


def test_a_token_protects_the_viewer_and_the_link_logs_in(page):
    with Sink(ui=True, token="s3cret") as sink:
        bare = sink.http_endpoint + "/ui/"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bare, timeout=5)
        assert refused.value.code == 401
        _open(page, sink)  # ui_url carries the token once; a cookie does the rest
        assert "token" not in page.url
        expect(page.locator("#live")).to_have_text("live")
        page.goto("about:blank")  # close the live stream before the sink stops


def test_the_viewer_needs_ui_true():
    with Sink() as sink:
        with pytest.raises(RuntimeError, match=r"Sink\(ui=True\)"):
            _ = sink.ui_url
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(sink.http_endpoint + "/ui/", timeout=5)
        assert missing.value.code == 404


def test_health_answer_is_strict_json(sink):
    with urllib.request.urlopen(sink.http_endpoint + "/api/health", timeout=5) as response:
        document = json.loads(response.read())
    assert set(document) == {"stats", "faults", "alerts"}
    assert document["faults"] == "none"
