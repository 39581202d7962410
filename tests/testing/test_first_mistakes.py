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
