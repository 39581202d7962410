"""The --telemetry-report HTML file, opened offline from file:// in headless Chromium."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_FAILING = """
    import foundation_telemetry as ft
    from opentelemetry import trace

    tracer = trace.get_tracer("shop")

    def test_checkout(telemetry, fake_work):
        with tracer.start_as_current_span("checkout") as root:
            root.set_attribute("order.id", 7)
            fake_work(3)
            with tracer.start_as_current_span("reserve"):
                fake_work(2)
            with tracer.start_as_current_span("charge") as charge:
                charge.add_event("card.declined", {"code": "51"})
                charge.set_status(trace.Status(trace.StatusCode.ERROR, "card declined"))
                fake_work(5)
        assert False, "the order was not placed"
"""

# Spans of measurable length without sleeping: a busy loop of *n* thousand iterations.
_CONFTEST = """
    import pytest

    @pytest.fixture
    def fake_work():
        def work(n):
            total = 0
            for i in range(n * 20000):
                total += i
            return total
        return work
"""


@pytest.fixture
def report_file(pytester: pytest.Pytester):
    pytester.makeconftest(_CONFTEST)
    pytester.makepyfile(_FAILING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--telemetry-report=out")
    result.assert_outcomes(failed=1)
    (path,) = (pytester.path / "out").iterdir()
    return path


def test_report_renders_the_failed_tests_spans_offline(report_file, page):
    blocked: list[str] = []
    page.route("http*://**", lambda route: (blocked.append(route.request.url), route.abort()))
    page.goto(report_file.as_uri())
    rows = page.locator("#waterfall .ft-span")
    assert rows.count() == 3
    names = [rows.nth(i).locator(".ft-name").inner_text() for i in range(3)]
    assert names == ["checkout", "reserve", "charge"]
    assert [rows.nth(i).get_attribute("data-depth") for i in range(3)] == ["0", "1", "1"]

    bars = [rows.nth(i).locator(".ft-bar").bounding_box() for i in range(3)]
    root, reserve, charge = bars
    assert root["x"] <= reserve["x"] < charge["x"]  # ordered by start
    assert reserve["x"] + reserve["width"] <= charge["x"] + 1  # reserve ends before charge starts
    assert root["width"] >= reserve["width"] + charge["width"] - 2  # the root spans both
    starts = [int(rows.nth(i).locator(".ft-bar").get_attribute("data-start-ns")) for i in range(3)]
    durations = [
        int(rows.nth(i).locator(".ft-bar").get_attribute("data-duration-ns")) for i in range(3)
    ]
    scale = root["width"] / durations[0]
    for box, duration in zip(bars, durations, strict=True):
        assert abs(box["width"] - duration * scale) <= 2  # sized by duration
    for box, start in zip(bars, starts, strict=True):
        assert abs(box["x"] - root["x"] - (start - starts[0]) * scale) <= 2  # placed by start
    assert "ft-status-error" in rows.nth(2).locator(".ft-bar").get_attribute("class")
    assert rows.nth(2).locator(".ft-event").count() == 1  # the span event as a mark

    rows.nth(2).click()
    details = page.locator("#details").inner_text()
    assert "charge (ERROR)" in details
    assert "card.declined" in details
    assert "the order was not placed" in page.locator(".ft-failure").inner_text()
    assert page.locator("#summary").inner_text().startswith("3 span(s) (1 with status ERROR)")
    assert blocked == []  # nothing was fetched from the network
