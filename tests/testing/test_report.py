"""A failed test's telemetry in the terminal report and as an offline HTML file (pytester runs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from foundation_telemetry._web import asset
from foundation_telemetry.testing._report import report_file_name

pytest_plugins = ["pytester"]

_FAILING = """
    import foundation_telemetry as ft
    from opentelemetry import trace

    def test_checkout(telemetry):
        with ft.span("checkout", order=7):
            ft.emit("payment.declined", reason="card</script>")
            with trace.get_tracer("shop").start_as_current_span("charge") as charge:
                charge.set_status(trace.Status(trace.StatusCode.ERROR, "card declined"))
        assert False, "the order was not placed"

    def test_passes(telemetry):
        ft.emit("fine")
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def _embedded_data(page: str) -> dict:
    match = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    assert match, "the report embeds its records"
    return json.loads(match.group(1))


class TestCapturedSection:
    def test_failed_test_shows_its_telemetry_answer_first(self, pytester):
        pytester.makepyfile(_FAILING)
        result = run(pytester)
        result.assert_outcomes(passed=1, failed=1)
        text = result.stdout.str()
        section = text[text.index("Captured telemetry") :]
        lines = section.splitlines()
        assert re.match(r"2 span\(s\) \(1 with status ERROR\), \d+ event\(s\)/log\(s\)", lines[1])
        assert "Spans with status ERROR:" in section
        assert "  charge: card declined" in section
        assert re.search(r"^  checkout \+0\.0ms [\d.]+ms$", section, re.M)
        assert re.search(r"^    charge \+[\d.]+ms [\d.]+ms ERROR$", section, re.M)
        assert "'payment.declined'" in section
        assert "--telemetry-report=DIR shows all" not in section  # nothing was capped
        assert text.count("Captured telemetry") == 1  # the passing test has none

    def test_long_tests_are_capped(self, pytester):
        pytester.makepyfile(
            """
            import foundation_telemetry as ft

            def test_many(telemetry):
                for i in range(60):
                    with ft.span("step", i=i):
                        pass
                assert False
            """
        )
        text = run(pytester).stdout.str()
        assert "... 20 more span(s) (--telemetry-report=DIR shows all)" in text
        assert "... " in text[text.index("Events and logs:") :]

    def test_no_section_without_the_fixture(self, pytester):
        pytester.makepyfile("def test_plain():\n    assert False\n")
        assert "Captured telemetry" not in run(pytester).stdout.str()


class TestHtmlReport:
    def test_one_self_contained_file_per_failed_test(self, pytester):
        pytester.makepyfile(_FAILING)
        result = run(pytester, "--telemetry-report=reports")
        reports = sorted((pytester.path / "reports").iterdir())
        assert [p.name for p in reports] == [
            report_file_name("test_one_self_contained_file_per_failed_test.py::test_checkout")
        ]
        assert f"HTML report: {reports[0]}" in result.stdout.str()
        page = reports[0].read_text(encoding="utf-8")
        assert "http://" not in page
        assert "https://" not in page
        assert asset("waterfall.js") in page
        data = _embedded_data(page)
        assert [s["name"] for s in data["spans"]] == ["charge", "checkout"]
        assert {e["name"] for e in data["events"]} >= {"payment.declined", "checkout.start"}
        assert any(p["name"] == "checkout.duration" for p in data["metrics"])
        declined = next(e for e in data["events"] if e["name"] == "payment.declined")
        assert declined["attributes"]["reason"] == "card</script>"

    def test_ini_option_and_relative_to_rootdir(self, pytester):
        pytester.makeini("[pytest]\ntelemetry_report = out/telemetry\n")
        pytester.makepyfile(_FAILING)
        run(pytester)
        assert len(list((pytester.path / "out" / "telemetry").iterdir())) == 1

    def test_passing_tests_write_nothing(self, pytester):
        pytester.makepyfile("def test_ok(telemetry):\n    pass\n")
        run(pytester, "--telemetry-report=reports").assert_outcomes(passed=1)
        assert not (pytester.path / "reports").exists()


def test_file_names_are_safe():
    name = report_file_name("tests/test_a.py::test_b[x/y: z]")
    assert name == "tests_test_a.py_test_b_x_y_z.html"
    assert Path(name).name == name


def test_assets_can_be_inlined():
    assert "</script" not in asset("waterfall.js").lower()


class TestOverflow:
    def test_a_full_ring_warns_and_names_the_setting(self, pytester):
        pytester.makeini("[pytest]\ntelemetry_buffer_size = 20\n")
        pytester.makepyfile(
            """
            import foundation_telemetry as ft

            def test_busy(telemetry):
                for i in range(50):
                    ft.emit("tick", i=i)
                assert len(telemetry.events("tick")) == 20
                assert telemetry.dropped() == 30

            def test_next_starts_empty(telemetry):
                ft.emit("tick")
                assert telemetry.dropped() == 0

            def test_fails_after_overflow(telemetry):
                for i in range(30):
                    ft.emit("tick", i=i)
                assert False
            """
        )
        result = run(pytester, "-p", "no:randomly")
        result.assert_outcomes(passed=2, failed=1, warnings=2)
        text = result.stdout.str()
        assert "TelemetryOverflowWarning: this test recorded more than the telemetry" in text
        assert "the oldest 30 were dropped" in text
        assert "telemetry_buffer_size = 80" in text
        assert "the oldest 10 record(s) of this test were dropped" in text

    def test_overflow_as_error(self, pytester):
        pytester.makeini("[pytest]\ntelemetry_buffer_size = 5\n")
        pytester.makepyfile(
            "import foundation_telemetry as ft\n\n"
            "def test_busy(telemetry):\n"
            "    for i in range(10):\n"
            "        ft.emit('tick')\n"
        )
        result = run(pytester, "-W", "error::foundation_telemetry.testing.TelemetryOverflowWarning")
        result.assert_outcomes(passed=1, errors=1)

    def test_a_bad_size_is_refused_with_the_rule(self, pytester):
        pytester.makeini("[pytest]\ntelemetry_buffer_size = lots\n")
        pytester.makepyfile("def test_x(telemetry):\n    pass\n")
        result = run(pytester)
        assert "telemetry_buffer_size must be a positive whole number of records, got 'lots'" in (
            result.stdout.str() + result.stderr.str()
        )
