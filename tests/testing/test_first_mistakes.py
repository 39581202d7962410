"""The first mistakes a new user makes, each run as a real inner pytest session (pytester).

Every test pins the message the mistake gets, so the wording in docs/testing.md ("First
mistakes") stays true. One class per item of the list there.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the inner tests in a fresh interpreter, warnings always shown."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "always", *args)


class TestExpectationWithoutWith:
    def test_unentered_expectations_fail_at_teardown(self, pytester):
        """Every expectation created on its own line fails its test; entered ones pass."""
        pytester.makepyfile(
            test_vacuous="""
            import pytest

            def test_event(telemetry):
                telemetry.assert_telemetry_event("never.happens")

            def test_every_kind(telemetry):
                telemetry.expect_span("checkout", status="ERROR")
                telemetry.refute_telemetry_event("boom", within=0.01)
                telemetry.assert_telemetry_sequence(["a", "b"])
                telemetry.assert_telemetry_any(["a", "b"])
                telemetry.expect_trace(("root", ["child"]))

            def test_entered(telemetry):
                with telemetry.refute_telemetry_event("boom", within=0.01):
                    pass

            @pytest.mark.asyncio
            async def test_async_entered(telemetry):
                async with telemetry.refute_telemetry_event("boom", within=0.01):
                    pass
            """
        )
        result = run(pytester)
        result.assert_outcomes(passed=4, errors=2)
        result.stdout.fnmatch_lines(
            [
                "The following expectations were created but never entered, so they checked "
                "nothing (use `with` / `async with` around the action):",
                "- test_vacuous.py:4: assert_telemetry_event('never.happens')",
            ],
            consecutive=True,
        )
        result.stdout.fnmatch_lines(
            [
                "- test_vacuous.py:7: expect_span('checkout', status='ERROR')",
                "- test_vacuous.py:8: refute_telemetry_event('boom', within=0.01)",
                "- test_vacuous.py:9: assert_telemetry_sequence(['a', 'b'])",
                "- test_vacuous.py:10: assert_telemetry_any(['a', 'b'])",
                "- test_vacuous.py:11: expect_trace(('root', ['child']))",
            ],
            consecutive=True,
        )

    def test_asserting_an_expectation_raises(self, pytester):
        """`assert telemetry.expect_span(...)` cannot pass: the truth value raises at once."""
        pytester.makepyfile(
            test_assert="""
            import pytest

            @pytest.mark.telemetry(strict=False)
            def test_asserted(telemetry):
                assert telemetry.expect_span("checkout")
            """
        )
        result = run(pytester)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "E       TypeError: An expectation (expect_span('checkout')) is not a check by "
                "itself: use `with` / `async with` around the action that emits the telemetry."
            ]
        )

    def test_outside_the_fixture_it_warns(self, pytester):
        """A Recorder's expectation never entered warns (ResourceWarning) when collected."""
        pytester.makepyfile(
            test_recorder="""
            import gc
            import pytest
            from foundation_telemetry.testing import Recorder

            def test_recorder():
                with pytest.warns(ResourceWarning, match="never entered, so it checked nothing"):
                    Recorder().assert_telemetry_event("never.happens")
                    gc.collect()
            """
        )
        run(pytester).assert_outcomes(passed=1)


class TestActionBeforeTheExpectation:
    def test_expectation_opened_after_the_event(self, pytester):
        """The event came before the `with`: the failure says so first, and what to do."""
        pytester.makepyfile(
            test_seed="""
            import logging
            from opentelemetry import _logs

            def test_emitted_first(telemetry):
                _logs.get_logger("shop").emit(event_name="checkout", attributes={"order": 1})
                with telemetry.assert_telemetry_event("checkout", timeout=0.05):
                    pass
            """
        )
        result = run(pytester)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "E       foundation_telemetry.testing.TelemetryAssertionError: "
                "No event matched within 0.05s: event 'checkout'",
                "E       A matching event 'checkout' arrived *ms BEFORE the expectation began: "
                "attach before the action (put the action inside the `with` block, or call "
                "attach_collector() before it and .wait() after).",
                "E       Received nothing since the expectation began.",
            ],
            consecutive=True,
        )

    def test_collector_attached_after_the_event_names_its_line(self, pytester):
        """A collector attached too late names the line the event came from, when it is known."""
        pytester.makepyfile(
            test_late="""
            import sys
            from opentelemetry import _logs

            def checkout():
                here = sys._getframe()
                _logs.get_logger("shop").emit(
                    event_name="checkout",
                    attributes={"code.file.path": __file__, "code.line.number": here.f_lineno},
                )

            def test_attached_late(telemetry):
                checkout()
                checkout()
                telemetry.attach_collector("checkout").wait(timeout=0.05)
            """
        )
        result = run(pytester)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "E       A matching event 'checkout' arrived *ms BEFORE the collector was "
                "attached (emitted at test_late.py:8) (and 1 more before it): attach before the "
                "action (put the action inside the `with` block, or call attach_collector() "
                "before it and .wait() after).",
            ]
        )

    def test_waits_from_the_start_of_the_test_need_no_hint(self, pytester):
        """A domain wait reads from the start of the test: an earlier event satisfies it."""
        pytester.makepyfile(
            test_domain="""
            from foundation_telemetry.events import emit

            def test_ready_before_the_wait(telemetry):
                emit("foundation.service.started", {"service.name": "billing"})
                assert telemetry.wait_for_service_ready("billing").wait(timeout=1).name
            """
        )
        run(pytester).assert_outcomes(passed=1)


class TestTyposRaiseAtTheCall:
    def test_each_typo_raises_at_once_naming_what_is_accepted(self, pytester):
        """Wrong values never wait out the clock: the call itself raises (timeout 60 s here)."""
        pytester.makepyfile(
            test_typos="""
            import pytest

            pytestmark = pytest.mark.telemetry(timeout=60)

            def test_status(telemetry):
                telemetry.expect_span("checkout", status="FAILED")

            def test_threshold(telemetry):
                telemetry.wait_for_metric_threshold("m", "3")

            def test_parent(telemetry):
                telemetry.expect_span("child", parent=42)

            def test_strict(telemetry):
                telemetry.assert_telemetry_sequence(["a"], strict="yes")

            def test_action(telemetry):
                telemetry.collect_event("x", "not callable")

            def test_missing_name(telemetry):
                telemetry.assert_telemetry_event("")
            """
        )
        result = run(pytester, "-p", "no:randomly", "--timeout", "30")
        result.assert_outcomes(failed=6)
        result.stdout.fnmatch_lines(
            [
                "E*ValueError: `status` must be one of 'UNSET', 'OK', 'ERROR' (any case) or "
                "a matcher, got 'FAILED'.",
                "E*TypeError: `threshold` must be a number (the aggregate must reach it) or "
                "a matcher on the aggregate (a callable such as `lambda v: v <= 0`, any_of(...), "
                "dirty-equals), got '3' (did you mean 3, a number?).",
                "E*TypeError: `parent` must be the parent span's name (a str or glob), a "
                "matcher, a SpanRecord or ROOT, got 42.",
                "E*TypeError: `strict` must be True or False, got 'yes'.",
                "E*TypeError: `action` must be a callable taking no arguments (it is "
                "called), got 'not callable'.",
                "E*ValueError: An event name is required: an expectation with nothing to "
                "match would pass vacuously.",
            ],
        )
        assert "never entered" not in result.stdout.str()

    def test_valid_forms_are_still_accepted(self, pytester):
        """Status in any case, a StatusCode, a matcher; a matcher threshold."""
        pytester.makepyfile(
            test_valid="""
            from opentelemetry import trace
            from opentelemetry.trace import StatusCode

            def test_accepted(telemetry):
                tracer = trace.get_tracer("t")
                with telemetry.expect_span("a", status="error"), telemetry.expect_span(
                    "a", status=StatusCode.ERROR
                ), telemetry.expect_span("a", status=lambda s: s != "OK", parent=None):
                    with tracer.start_as_current_span("a") as span:
                        span.set_status(StatusCode.ERROR)
                counter = __import__("foundation_telemetry").metrics.counter("jobs")
                counter.add(2)
                assert telemetry.wait_for_metric_threshold("jobs", lambda v: v >= 2).wait() == 2
            """
        )
        run(pytester).assert_outcomes(passed=1)


class TestFailureTextAnswerFirst:
    FILE = """
        from foundation_telemetry import metrics
        from foundation_telemetry.events import emit

        def test_misspelled_metric(telemetry):
            for index in range(30):
                emit("order.polled", {"poll": index})
            metrics.counter("orders.placed").add(1)
            telemetry.wait_for_metric_threshold("orders.place", 1, timeout=0.05).wait()
        """

    def test_did_you_mean_comes_before_the_received_summary(self, pytester):
        """The suggestion is the second line; 30 polls are one line; host/pid said once."""
        pytester.makepyfile(test_answer=self.FILE)
        result = run(pytester)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "E       foundation_telemetry.testing.TelemetryAssertionError: metric "
                "'orders.place' did not reach sum >= 1 within 0.05s: no matching points over 0 "
                "point(s).",
                "E       Did you mean 'orders.placed'? No metric named 'orders.place' arrived.",
                "E       Received 31 record(s) since the expectation began, by name (the last of "
                "each):",
                "E       - *ms [[]MainThread[]] event 'order.polled' {'poll': 29} (30x)",
                "E       - *ms [[]MainThread[]] metric 'orders.placed' {} value=1",
                "E       Same on every record, so not shown above: {'host.name': *, "
                "'process.pid': *}",
            ],
            consecutive=True,
        )

    def test_minus_vv_lists_every_record(self, pytester):
        """`pytest -vv` gives every record its own line."""
        pytester.makepyfile(test_answer=self.FILE)
        result = run(pytester, "-vv")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["E       Received 31 record(s) since the expectation began:"])
        listed = [line for line in result.stdout.lines if line.startswith("E       - ")]
        assert sum("event 'order.polled' {" in line for line in listed) == 30
