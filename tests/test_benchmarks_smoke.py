"""The benchmark scripts run end to end (tiny mode: a few rounds, tiny counts, no timing checks)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks._harness import Settings, Target, Variant, interleave  # noqa: E402


class TestHarness:
    def test_interleave_reports_every_variant_against_the_baseline(self):
        """Each variant gets per-round samples and the baseline's ratio to itself is 1."""
        calls = {"a": 0, "b": 0}
        resets = []

        def op_a():
            calls["a"] += 1

        def op_b():
            calls["b"] += 1
            return sum(range(20))

        table = interleave(
            "t",
            [Variant("a", "A", op_a, lambda: resets.append("a")), Variant("b", "B", op_b)],
            "a",
            Settings.for_mode("tiny"),
        )
        assert set(table.rows) == {"a", "b"}
        assert table.ratio("a") == 1.0
        assert len(table.rows["b"].round_ns) == Settings.for_mode("tiny").rounds
        assert calls["a"] > 0
        assert calls["b"] > 0
        assert "a" in resets

    def test_target_status_follows_the_limit_and_direction(self):
        """PASS/FAIL depend on the comparison; no value is SKIP; no limit is INFO."""
        assert Target("g", "n", 1.0, 1.05).status == "PASS"
        assert Target("g", "n", 1.1, 1.05).status == "FAIL"
        assert Target("g", "n", 0.9, 0.95, op=">=").status == "FAIL"
        assert Target("g", "n", None, 1.0, skip_reason="component missing: x").status == "SKIP"
        assert Target("g", "n", 3.0, None).status == "INFO"
        assert (
            "component missing: x"
            in Target("g", "n", None, 1.0, skip_reason="component missing: x").line()
        )

    def test_unknown_mode_is_a_clear_error(self):
        """An unknown mode names the accepted ones."""
        with pytest.raises(ValueError, match="quick"):
            Settings.for_mode("fast")


class TestRunner:
    def test_tiny_run_completes_and_writes_json(self, tmp_path):
        """``python -m benchmarks.run --tiny`` exits 0, prints one line per target and writes JSON."""
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.run", "--tiny", "--out", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        assert "== summary" in done.stdout
        assert "ERROR" not in done.stdout
        result = json.loads((tmp_path / "latest-tiny.json").read_text())
        assert result["mode"] == "tiny"
        assert not result["errors"]
        groups = {t["group"] for t in result["targets"]}
        assert groups == {
            "spans",
            "wake",
            "memory",
            "metrics",
            "events",
            "service",
            "otlp",
            "exit",
            "scaling",
            "sleep_vs_events",
        }
        for target in result["targets"]:
            assert target["status"] in {"PASS", "FAIL", "SKIP", "INFO"}
            line = f"[{target['group']}] {target['name']}"
            assert line in done.stdout


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_callgrind_counts_the_loop_between_the_markers_alone(tmp_path):
    """Twice the calls, twice the loop's count; start-up and imports fall outside it."""
    from benchmarks import _callgrind

    one = _callgrind.measure("benchmarks._calls_child", ("one_call", "2000"), tmp_path / "a")
    two = _callgrind.measure("benchmarks._calls_child", ("one_call", "4000"), tmp_path / "b")
    assert one.whole > 10 * one.loop > 0
    assert two.loop == pytest.approx(2 * one.loop, rel=0.01)
