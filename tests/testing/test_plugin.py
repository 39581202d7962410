"""The pytest plugin, run on inner test files with pytester: wording, isolation, xdist, async."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the inner tests in a fresh interpreter, so globals never leak between runs."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


class TestLoading:
    def test_nothing_global_until_used(self, pytester):
        """Loading the plugin installs no OpenTelemetry globals; the first use does."""
        pytester.makepyfile(
            """
            from opentelemetry import trace
            from foundation_telemetry._config import _globals

            def test_before():
                assert not _globals.installed()
                assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"

            def test_uses(telemetry):
                assert _globals.installed()
            """
        )
        run(pytester).assert_outcomes(passed=2)

    def test_marker_is_registered(self, pytester):
        """The `telemetry` marker is known under --strict-markers."""
        pytester.makepyfile(
            """
            import pytest

            @pytest.mark.telemetry(timeout=0.05)
            def test_marked(telemetry):
                assert telemetry._telemetry_timeout() == 0.05
            """
        )
        run(pytester, "--strict-markers").assert_outcomes(passed=1)


class TestFailureWording:
    def test_timeout_failure_lines(self, pytester):
        """A timed-out expectation reports what arrived, pinned line by line."""
        pytester.makepyfile(
            """
            from opentelemetry import _logs

            def test_checkout(telemetry):
                log = _logs.get_logger("shop")
                with telemetry.assert_telemetry_event("checkout", timeout=0.1, order=42):
                    log.emit(event_name="checkout", attributes={"order": 41})
            """
        )
        result = run(pytester)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "E       foundation_telemetry.testing.TelemetryAssertionError: "
                "No event matched within 0.1s: event 'checkout' with {'order': 42}",
                "E       Closest candidates:",
                "E       - event 'checkout' at +*ms:",
                "E           attributes['order']: 41 != 42",
                "E       Received 1 record(s) since the expectation began, by name (the last of "
                "each):",
                "E       - +*ms [[]MainThread[]] event 'checkout' {'order': 41}",
            ],
            consecutive=True,
        )

    def test_unwaited_collector_fails_at_teardown(self, pytester):
        """A collector attached but never waited for fails the test at teardown."""
        pytester.makepyfile(
            test_forgot="""
            import pytest

            def test_forgot(telemetry):
                telemetry.attach_collector("never.waited")

            @pytest.mark.telemetry(strict=False)
            def test_on_purpose(telemetry):
                telemetry.attach_collector("never.waited")

            def test_detached(telemetry):
                telemetry.attach_collector("never.waited").detach()
            """
        )
        result = run(pytester)
        result.assert_outcomes(passed=3, errors=1)
        result.stdout.fnmatch_lines(
            [
                "The following waits were created but never waited for (call .wait() or await it):",
                "- test_forgot.py:4: attach_collector('never.waited') (0/1 collected)",
                "If this is on purpose, detach a collector with .detach(), or use "
                "@pytest.mark.telemetry(strict=False).",
            ],
            consecutive=True,
        )

    def test_unwaited_waits_fail_at_teardown(self, pytester):
        """Every wait created and never waited for is named with its call and source line."""
        pytester.makepyfile(
            test_bare="""
            import pytest

            def test_bare_statements(telemetry):
                telemetry.wait_for_metric_threshold("orders", 3, aggregate="p99")
                telemetry.wait_for_service_ready("billing", timeout=5)
                telemetry.wait_for_coordination_completion("s-1")
                telemetry.wait_for(lambda: True)

            def test_waited(telemetry):
                wait = telemetry.wait_for(lambda: "ready")
                assert wait.wait() == "ready"

            @pytest.mark.asyncio
            async def test_awaited(telemetry):
                assert await telemetry.wait_for(lambda: "ready") == "ready"

            @pytest.mark.telemetry(strict=False)
            def test_on_purpose(telemetry):
                telemetry.wait_for_service_ready("billing")
            """
        )
        result = run(pytester, "-W", "error::ResourceWarning")
        result.assert_outcomes(passed=4, errors=1)
        result.stdout.fnmatch_lines(
            [
                "The following waits were created but never waited for (call .wait() or await it):",
                "- test_bare.py:4: wait_for_metric_threshold('orders', 3, aggregate='p99')",
                "- test_bare.py:5: wait_for_service_ready('billing', timeout=5)",
                "- test_bare.py:6: wait_for_coordination_completion('s-1')",
                "- test_bare.py:7: wait_for(<lambda>)",
                "If this is on purpose, detach a collector with .detach(), or use "
                "@pytest.mark.telemetry(strict=False).",
            ],
            consecutive=True,
        )
        assert "ResourceWarning" not in result.stdout.str()

    def test_a_wait_compared_as_a_value_cannot_pass(self, pytester):
        """`assert telemetry.wait_for_...(...) == 3` raises TypeError instead of passing."""
        pytester.makepyfile(
            test_compare="""
            def test_compared(telemetry):
                assert telemetry.wait_for_metric_threshold("m", 3) == 3
            """
        )
        result = run(pytester)
        result.assert_outcomes(failed=1, errors=1)
        result.stdout.fnmatch_lines(
            [
                "E       TypeError: == on the wait returned by wait_for_metric_threshold('m', 3): "
                "a wait is not its result; call .wait() or await it, and use the value it "
                "returns.",
            ]
        )

    def test_bad_marker_option(self, pytester):
        """An unknown marker option is a clear error."""
        pytester.makepyfile(
            """
            import pytest

            @pytest.mark.telemetry(timeuot=1)
            def test_typo(telemetry):
                pass
            """
        )
        result = run(pytester)
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*unknown option(s) [[]'timeuot'[]]; use timeout, strict.*"])


ISOLATION_TESTS = """
    import threading
    from opentelemetry import _logs, trace

    tracer = trace.get_tracer("isolation")
    state = {}

    def test_first_starts_a_span(telemetry):
        span = tracer.start_span("leaked.work")
        state["span"] = span
        state["context"] = trace.set_span_in_context(span)

    def test_second_is_not_fooled(telemetry):
        span = state["span"]
        log = _logs.get_logger("isolation")
        # The earlier test's span ends now, and an event is emitted inside it: neither may
        # satisfy this test's expectations, and neither may break its refutes.
        with telemetry.refute_telemetry_event("leaked.event", within=0.05):
            log.emit(event_name="leaked.event", context=state["context"])
            span.end()
        assert telemetry.spans("leaked.work") == []
        assert telemetry.events("leaked.event") == []

    def test_third_reports_late_arrival(telemetry):
        span = tracer.start_span("late.work")
        state["late"] = span
        with telemetry.expect_span("late.work"):
            pass
"""


class TestIsolation:
    def test_earlier_span_never_counts(self, pytester):
        """A span started in an earlier test (and events inside it) is excluded later."""
        pytester.makepyfile(ISOLATION_TESTS.replace("test_third_reports_late_arrival", "_unused"))
        run(pytester).assert_outcomes(passed=2)

    def test_excluded_match_is_reported_as_late(self, pytester):
        """A match from an earlier test is named in the failure as a late arrival."""
        pytester.makepyfile(
            """
            from opentelemetry import trace

            tracer = trace.get_tracer("isolation")
            state = {}

            def test_first(telemetry):
                state["span"] = tracer.start_span("slow.work")

            def test_second(telemetry):
                with telemetry.expect_span("slow.work", timeout=0.1):
                    state["span"].end()
            """
        )
        result = run(pytester)
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                "E       Excluded 1 record(s) that belong to an earlier test (spans started before "
                "this test, and records emitted inside them), of which these matched (late "
                "arrivals):",
                "E       - +*ms [[]MainThread[]] span 'slow.work' {}",
            ],
            consecutive=True,
        )


class TestRunners:
    def test_xdist(self, pytester):
        """The fixture works in xdist workers, each with its own session recorder."""
        pytester.makepyfile(
            """
            import threading
            import pytest
            from opentelemetry import _logs, trace

            tracer = trace.get_tracer("xdist")

            @pytest.mark.parametrize("n", range(6))
            def test_many(telemetry, n):
                go = threading.Event()

                def work():
                    go.wait()
                    with tracer.start_as_current_span("work", attributes={"n": n}):
                        _logs.get_logger("x").emit(event_name="worked", attributes={"n": n})

                thread = threading.Thread(target=work)
                thread.start()
                with telemetry.expect_span("work", n=n), telemetry.assert_telemetry_event("worked", n=n):
                    go.set()
                thread.join()
                assert len(telemetry.spans()) == 1
            """
        )
        run(pytester, "-n", "2").assert_outcomes(passed=6)

    def test_pytest_asyncio_and_anyio(self, pytester):
        """`async with` expectations work under pytest-asyncio and anyio (asyncio backend)."""
        pytester.makepyfile(
            """
            import asyncio
            import pytest
            from opentelemetry import _logs

            async def produce(go):
                await go.wait()
                _logs.get_logger("a").emit(event_name="done")

            @pytest.mark.asyncio
            async def test_asyncio(telemetry):
                go = asyncio.Event()
                task = asyncio.create_task(produce(go))
                async with telemetry.assert_telemetry_event("done"):
                    go.set()
                await task

            @pytest.fixture
            def anyio_backend():
                return "asyncio"

            @pytest.mark.anyio
            async def test_anyio(telemetry):
                go = asyncio.Event()
                task = asyncio.create_task(produce(go))
                async with telemetry.assert_telemetry_event("done"):
                    go.set()
                await task
            """
        )
        run(pytester, "-p", "asyncio", "-p", "anyio").assert_outcomes(passed=2)


class TestApplicationProviders:
    def test_configure_inside_the_test(self, pytester):
        """Providers that configure() builds in the test body are captured."""
        pytester.makepyfile(
            """
            from opentelemetry import trace
            from foundation_telemetry import configure

            tracer = trace.get_tracer("app")

            def test_it(telemetry):
                handle = configure(service_name="svc", exporter="none")
                try:
                    with telemetry.expect_span("after.configure") as seen:
                        with tracer.start_as_current_span("after.configure"):
                            pass
                    assert seen.record.resource["service.name"] == "svc"
                finally:
                    handle.shutdown()
            """
        )
        run(pytester).assert_outcomes(passed=1)

    def test_plain_sdk_globals(self, pytester):
        """Plain SDK providers the application set as the OTel globals are captured."""
        pytester.makepyfile(
            """
            from opentelemetry import _logs, trace
            from opentelemetry.sdk._logs import LoggerProvider
            from opentelemetry.sdk.trace import TracerProvider

            trace.set_tracer_provider(TracerProvider())
            _logs.set_logger_provider(LoggerProvider())
            tracer = trace.get_tracer("app")

            def test_it(telemetry):
                with telemetry.expect_span("plain"), telemetry.assert_telemetry_event("plain.event"):
                    with tracer.start_as_current_span("plain"):
                        _logs.get_logger("app").emit(event_name="plain.event")
            """
        )
        run(pytester).assert_outcomes(passed=1)
