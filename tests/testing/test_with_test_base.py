"""The ``telemetry`` fixture and opentelemetry-test-utils' ``TestBase`` in one pytest session.

Contrib instrumentation suites use ``TestBase``, which resets the OpenTelemetry globals and sets
its own providers for each test class. Whichever runs first, both keep seeing their spans.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from _inner_pytest import run_inner_pytest

pytest.importorskip("opentelemetry.test.test_base")

TEST_BASE = textwrap.dedent(
    """
    from opentelemetry import trace
    from opentelemetry.test.test_base import TestBase


    class TestWithTestBase(TestBase):
        def test_spans_reach_the_memory_exporter(self):
            with trace.get_tracer("contrib").start_as_current_span("from-test-base"):
                pass
            names = [s.name for s in self.memory_exporter.get_finished_spans()]
            assert names == ["from-test-base"]
    """
)
FIXTURE = textwrap.dedent(
    """
    from opentelemetry import trace


    def test_the_fixture_sees_a_span_from_the_global_tracer(telemetry):
        tracer = trace.get_tracer("app")  # obtained after TestBase replaced the globals
        with telemetry.expect_span("from-fixture", timeout=5):
            with tracer.start_as_current_span("from-fixture"):
                pass
    """
)


@pytest.mark.parametrize(
    "order",
    [("test_a_base.py", "test_b_fixture.py"), ("test_a_fixture.py", "test_b_base.py")],
    ids=["test-base-first", "fixture-first"],
)
def test_both_pass_in_either_order(tmp_path: Path, order: tuple[str, str]) -> None:
    for name in order:
        (tmp_path / name).write_text(TEST_BASE if "base" in name else FIXTURE)
    # The fixture runs twice in the fixture-first order: before and after TestBase.
    (tmp_path / "test_c_fixture_again.py").write_text(FIXTURE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FOUNDATION_"))}
    completed = run_inner_pytest(tmp_path, *order, "test_c_fixture_again.py", env=env)
    output = completed.stdout + completed.stderr
    assert "3 passed" in output, output
