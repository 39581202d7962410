"""The fault matrix: real subprocesses, every hook failing, read from the outside.

Each run checks what the issue asks for: no exception reaches application code (but for the
interrupt policy), nothing on stderr, the application's exit code, a bounded exit, the healthy
pipelines of all three signals still delivered, and the skip counts. Exit-time bounds are
generous (``shutdown_timeout + 5 s``) so the suite stays deterministic on a loaded machine; the
measured figures live in ``compare_stock.py``'s report.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._runner import BlackHoleServer, Outcome, closed_port, run_scenario

SHUTDOWN_TIMEOUT = 1.0
# Scenarios where nothing hangs finish long before any budget; a roomier one keeps their exact
# counts from turning into timeouts on a heavily loaded machine.
ROOMY_TIMEOUT = 3.0
APP_EXIT_CODE = 3

REASONS = {
    "RuntimeError": "unexpected",
    "TypeError": "contract_violation",
    "ClosedStream": "resource_closed",
    "MemoryError": "system_limit",
    "RecursionError": "system_limit",
    "ImportError": "interpreter_finalizing",
    "KeyboardInterrupt": "interrupted",
    "SystemExit": "interrupted",
}
INTERRUPTS = {"KeyboardInterrupt", "SystemExit"}
# One item per call: flush and shutdown hooks run once; span hooks see 5 spans, log hooks 4 logs.
ONCE_PER_RUN = [
    "span-processor.force_flush",
    "span-processor.shutdown",
    "span-exporter.force_flush",
    "span-exporter.shutdown",
    "log-processor.force_flush",
    "log-processor.shutdown",
    "log-exporter.force_flush",
    "log-exporter.shutdown",
    "reader.force_flush",
    "reader.shutdown",
    "metric-exporter.force_flush",
    "metric-exporter.shutdown",
]
PER_SPAN = [
    "span-processor.on_start",
    "span-processor._on_ending",
    "span-processor.on_end",
    "span-exporter.export",
    "batch-span-exporter.export",
]
PER_LOG = ["log-processor.on_emit", "log-exporter.export"]


def assert_quiet_exit(outcome: Outcome, shutdown_timeout: float = SHUTDOWN_TIMEOUT) -> None:
    """The process exited with the app's code, printed nothing to stderr, and exited in time."""
    assert outcome.stderr_lines == [], outcome.stderr
    assert outcome.returncode == APP_EXIT_CODE
    assert outcome.exit_seconds <= shutdown_timeout + 5.0, outcome.exit_seconds
    assert outcome.result, "the scenario did not report"
    assert outcome.final, "the exit-time report did not run"


class TestFaultMatrix:
    @pytest.mark.parametrize("category", sorted(REASONS))
    def test_every_hook_raising(self, category: str) -> None:
        """Every hook of every component raises *category*: contained, counted, quiet, bounded."""
        outcome = run_scenario("defensive", "matrix", category, shutdown_timeout=ROOMY_TIMEOUT)
        assert_quiet_exit(outcome, ROOMY_TIMEOUT)
        reason = REASONS[category]
        skips = outcome.skips()
        for component in ONCE_PER_RUN:
            assert skips.get((component, reason)) == 1, (component, skips)
        assert (
            outcome.skips("metric-exporter.export").get(("metric-exporter.export", reason), 0) >= 1
        )
        assert not outcome.result["context_suppressed"]
        assert "OtelBatchSpanRecordProcessor" in outcome.result["workers"]
        if category in INTERRUPTS:
            # Policy: on the application's thread the interrupt propagates (from start_span, the
            # logging call and the app's own collect); nowhere else.
            labels = {escape.split(":")[0] for escape in outcome.result["escapes"]}
            assert labels == {"span", "log", "collect_callbacks"}
            assert skips.get(("span-processor.on_start", reason)) == 5
            assert skips.get(("log-processor.on_emit", reason)) == 4
            assert skips.get(("callback-reader", reason)) == 1
            assert outcome.result["delivered"]["logs"] == 4  # the healthy processor runs first
        else:
            assert outcome.result["escapes"] == []
            assert outcome.result["delivered"] == {"spans": 5, "logs": 4, "requests": 1}
            for component in PER_SPAN:
                assert skips.get((component, reason)) == 5, (component, skips)
            for component in PER_LOG:
                assert skips.get((component, reason)) == 4, (component, skips)
            assert skips.get(("ObservableCallback", reason)) == 1

    def test_debug_mode_logs_each_skip_once(self) -> None:
        """With FOUNDATION_TELEMETRY_DEBUG=1 each (component, reason) is logged exactly once."""
        outcome = run_scenario(
            "defensive",
            "matrix",
            "RuntimeError",
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            env={"FOUNDATION_TELEMETRY_DEBUG": "1"},
        )
        assert outcome.returncode == APP_EXIT_CODE
        lines = [line for line in outcome.stderr_lines if "span-processor.on_start" in line]
        assert len(lines) == 1, outcome.stderr
        assert "reason=unexpected" in lines[0]
        assert "RuntimeError: component failed" in lines[0]
        assert "pid=" in lines[0]
        assert "Traceback" not in outcome.stderr


class TestHangsAndFailures:
    def test_hanging_exporters(self) -> None:
        """Exporters that never return, in all three signals: exit within the budget, counted."""
        outcome = run_scenario("defensive", "hang", shutdown_timeout=SHUTDOWN_TIMEOUT)
        assert_quiet_exit(outcome)
        assert outcome.result["escapes"] == []
        assert outcome.result["delivered"] == {"spans": 5, "logs": 4, "requests": 1}
        skips = outcome.skips()
        for component in (
            "BatchSpanProcessor",
            "BatchLogRecordProcessor",
            "PeriodicExportingMetricReader",
        ):
            assert skips.get((component, "timeout"), 0) >= 1, skips

    def test_failure_results_are_counted(self) -> None:
        """Exporters returning FAILURE: every item counted as backend_unavailable; not available."""
        outcome = run_scenario("defensive", "failure", shutdown_timeout=ROOMY_TIMEOUT)
        assert_quiet_exit(outcome, ROOMY_TIMEOUT)
        skips = outcome.skips()
        assert skips.get(("failing-spans", "backend_unavailable")) == 5
        assert skips.get(("failing-logs", "backend_unavailable")) == 4
        assert skips.get(("failing-metrics", "backend_unavailable"), 0) >= 1
        assert outcome.result["available"] is False
        assert outcome.result["delivered"] == {"spans": 5, "logs": 4, "requests": 1}


@pytest.fixture
def black_hole() -> Iterator[BlackHoleServer]:
    server = BlackHoleServer()
    yield server
    server.close()


class TestOTLP:
    @pytest.mark.parametrize("protocol", ["grpc", "http"])
    @pytest.mark.parametrize("backend", ["closed", "never-answers"])
    def test_unreachable_collector(
        self, protocol: str, backend: str, black_hole: BlackHoleServer
    ) -> None:
        """Real OTLP exporters, collector down or silent: quiet exit within the budget, counted."""
        port = closed_port() if backend == "closed" else black_hole.port
        outcome = run_scenario(
            "defensive",
            "otlp",
            f"{protocol},http://127.0.0.1:{port}",
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        assert_quiet_exit(outcome)
        assert outcome.result["escapes"] == []
        assert outcome.result["delivered"] == {"spans": 5, "logs": 4, "requests": 1}
        lost = {
            component
            for (component, reason), count in outcome.skips().items()
            if reason in {"timeout", "backend_unavailable"} and count >= 1
        }
        assert lost & {"BatchSpanProcessor", "OTLPSpanExporter"}, outcome.final
        assert lost & {"BatchLogRecordProcessor", "OTLPLogExporter"}, outcome.final

    @pytest.mark.parametrize("protocol", ["grpc", "http"])
    def test_configure_with_collector_down(self, protocol: str) -> None:
        """The product path, ``configure()`` to a closed port: quiet, bounded, every item counted."""
        outcome = run_scenario(
            "defensive",
            "configure",
            f"{protocol},http://127.0.0.1:{closed_port()}",
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        assert_quiet_exit(outcome)
        assert outcome.result["escapes"] == []

        def lost(*components: str) -> int:
            return sum(
                count
                for (component, reason), count in outcome.skips().items()
                if component in components and reason in {"timeout", "backend_unavailable"}
            )

        assert lost("BatchSpanProcessor", "OTLPSpanExporter") == 5
        assert lost("BatchLogRecordProcessor", "OTLPLogExporter") == 5


class TestProcessLifecycle:
    def test_fork_child_starts_fresh(self) -> None:
        """A forked child exports its own spans through a working worker and only its own counts."""
        outcome = run_scenario("defensive", "fork", shutdown_timeout=ROOMY_TIMEOUT)
        assert_quiet_exit(outcome, ROOMY_TIMEOUT)
        child = outcome.result["child"]
        assert outcome.result["child_status"] == 0
        assert child["escapes"] == []
        assert child["batch_spans"] == 2
        assert "OtelBatchSpanRecordProcessor" in child["workers"]
        assert child["delivered"]["requests"] == 1  # not 2: the parent's count stayed behind
        assert child["periodic_requests"] == 1
        assert "OtelPeriodicExportingMetricReader" in child["workers"]
        assert outcome.result["parent_batch"] == 5
        assert outcome.result["delivered"]["requests"] == 1

    def test_del_at_interpreter_teardown(self) -> None:
        """Telemetry from ``__del__`` during interpreter teardown is dropped quietly."""
        outcome = run_scenario("defensive", "del", shutdown_timeout=ROOMY_TIMEOUT)
        assert_quiet_exit(outcome, ROOMY_TIMEOUT)
        assert outcome.result["escapes"] == []

    def test_stress_shutdown_mid_stream(self) -> None:
        """8 threads emit while a component fails at random and shutdown starts mid-stream."""
        outcome = run_scenario("defensive", "stress", shutdown_timeout=ROOMY_TIMEOUT)
        assert_quiet_exit(outcome, ROOMY_TIMEOUT)
        result = outcome.result
        assert result["escapes"] == []
        spans = result["spans"]
        assert spans == 8 * 300
        faulty = outcome.skips("random-fault")
        faulty.pop(("random-fault", "shutdown"), 0)
        assert sum(faulty.values()) == result["faulty_raised"]
        # A span dropped after shutdown is counted once, by the first wrapper that drops it, so
        # every span a processor missed was counted by it or by a processor before it.
        dropped = sum(
            count
            for (component, reason), count in outcome.skips().items()
            if reason == "shutdown" and component != "healthy-logs"
        )
        assert 1 <= dropped <= spans  # shutdown really was mid-stream
        assert result["faulty_calls"] + dropped >= spans
        assert result["counting_seen"] + dropped >= spans


def _lost(outcome: Outcome, *components: str) -> int:
    """Items of *components* counted as lost to the backend (unavailable or timed out)."""
    return sum(
        count
        for (component, reason), count in outcome.skips().items()
        if component in components and reason in {"timeout", "backend_unavailable"}
    )


class TestExportTimeout:
    @pytest.mark.parametrize("protocol", ["grpc", "http"])
    @pytest.mark.parametrize("source", ["argument", "variable"])
    def test_simple_processor_passed_to_configure(self, protocol: str, source: str) -> None:
        """A SimpleSpanProcessor(OTLP) given to configure(), collector down: bounded and counted.

        ``configure(export_timeout=)`` or ``OTEL_EXPORTER_OTLP_TIMEOUT`` reaches the exporter
        inside the user's processor; the breaker then skips the later spans at once.
        """
        env = (
            {"SCENARIO_EXPORT_TIMEOUT": "0.5"}
            if source == "argument"
            else {"OTEL_EXPORTER_OTLP_TIMEOUT": "0.5"}
        )
        outcome = run_scenario(
            "defensive",
            "simple_down",
            f"{protocol},http://127.0.0.1:{closed_port()}",
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            env=env,
        )
        assert_quiet_exit(outcome)
        assert outcome.result["escapes"] == []
        # The first span's export is abandoned at the bound; the later ones are skipped at once
        # (while it still hangs, or by the open breaker): all counted, none twice.
        assert _lost(outcome, "OTLPSpanExporter") == 5


class TestExitBudget:
    @pytest.mark.parametrize("scope", ["global", "local"])
    def test_shutdown_timeout_is_honoured(self, scope: str) -> None:
        """configure(shutdown_timeout=1) bounds the exit, set_global=False included.

        The process default is set to 30 s, so an exit that used it instead would overrun the
        bound by far.
        """
        outcome = run_scenario("defensive", "exit_budget", scope, shutdown_timeout=SHUTDOWN_TIMEOUT)
        assert_quiet_exit(outcome)
        # Abandoned by the processor's shutdown or by the exporter's bound: counted once.
        assert _lost(outcome, "BatchSpanProcessor", "HangingSpanExporter") == 5

    @pytest.mark.parametrize("protocol", ["grpc", "http"])
    def test_refused_backend_final_flush_is_one_attempt(self, protocol: str) -> None:
        """configure() to a closed port with a long budget: every item counted, no retrying.

        With a 30 s budget, an exit that retried with back-off would run for the OTLP timeout.
        """
        outcome = run_scenario(
            "defensive",
            "configure",
            f"{protocol},http://127.0.0.1:{closed_port()}",
            shutdown_timeout=30.0,
        )
        assert_quiet_exit(outcome, shutdown_timeout=0.0)
        assert _lost(outcome, "BatchSpanProcessor", "OTLPSpanExporter") == 5
        assert _lost(outcome, "BatchLogRecordProcessor", "OTLPLogExporter") == 5
        assert not [key for key in outcome.skips() if key[1] == "shutdown"], outcome.skips()

    @pytest.mark.parametrize("how", ["hand", "harden"])
    def test_three_providers_with_sdk_exit_hooks(self, how: str) -> None:
        """Three providers left with shutdown_on_exit=True: one deadline, not one per provider.

        With a 2 s budget, waiting a new budget per provider (the SDK's hooks run one after the
        other) would take 8 s, beyond the bound.
        """
        outcome = run_scenario("defensive", "providers", f"3,{how}", shutdown_timeout=2.0)
        assert_quiet_exit(outcome, 2.0)
        assert _lost(outcome, "BatchSpanProcessor", "HangingSpanExporter") == 3


class TestHarden:
    def test_hand_built_providers_with_every_component_kind_failing(self) -> None:
        """harden() on stock providers: each failing kind contained and counted, healthy ones run.

        Span processors, exporters inside simple processors, log processors and exporters, a
        reader and a periodic reader's exporter all raise; half of them are added after
        ``harden()``. A tracer first asked of the provider in ``__del__`` at teardown is quiet.
        """
        outcome = run_scenario("defensive", "harden", shutdown_timeout=SHUTDOWN_TIMEOUT)
        assert_quiet_exit(outcome)
        assert outcome.result["escapes"] == []
        assert outcome.result["delivered"] == {"spans": 5, "logs": 4, "requests": 1}
        skips = outcome.skips()
        for component in (
            "FaultySpanProcessor",  # held before harden()
            "FaultySpanExporter",  # added later, inside a SimpleSpanProcessor
            "FaultyLogExporter",  # held before, inside a SimpleLogRecordProcessor
            "FaultyLogProcessor",  # added later
            "FaultyReader",
            "FaultyMetricExporter",  # inside a PeriodicExportingMetricReader
        ):
            assert skips.get((component, "unexpected"), 0) >= 1, (component, skips)
        # Per-span hooks: on_start, _on_ending and on_end raise for each of the 5 spans.
        assert skips[("FaultySpanProcessor", "unexpected")] >= 15


class TestTeardown:
    def test_global_tracer_first_used_in_del_at_teardown(self) -> None:
        """A tracer from our global proxies first resolved in ``__del__`` at teardown is quiet."""
        outcome = run_scenario("defensive", "proxy_del", shutdown_timeout=SHUTDOWN_TIMEOUT)
        assert_quiet_exit(outcome)

    def test_ctrl_c_during_exit_counts_the_abandoned_spans(self) -> None:
        """A real SIGINT while the exit waits on a stuck final export: quiet, and counted.

        The 5 spans the stuck export holds are counted as ``interrupted``; the exit sequence
        stops waiting, the remaining exit hooks still run and the exit code is the app's.
        """
        outcome = run_scenario(
            "defensive", "interrupt_exit", shutdown_timeout=30.0, interrupt_on="STUCK"
        )
        assert_quiet_exit(outcome, shutdown_timeout=0.0)
        assert outcome.skips("stuck-batch") == {("stuck-batch", "interrupted"): 5}

    def test_span_after_shutdown_counted_once(self) -> None:
        """A span ended after shutdown on a provider with three wrapped processors: one count."""
        outcome = run_scenario("defensive", "after_shutdown", shutdown_timeout=SHUTDOWN_TIMEOUT)
        assert_quiet_exit(outcome)
        assert outcome.result["escapes"] == []
        dropped = {key: n for key, n in outcome.skips().items() if key[1] == "shutdown"}
        assert dropped == {("healthy-spans", "shutdown"): 2}  # "late" and "after", once each
