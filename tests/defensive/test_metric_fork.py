"""A forked child gets fresh metric state from DefensiveMetricReader, without touching SDK locks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, threading
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from foundation_telemetry import defensive as d

    inner = InMemoryMetricReader()
    reader = d.DefensiveMetricReader(inner, name="fork-reader")
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    counter = provider.get_meter("fork").create_counter("fork.requests")
    counter.add(2)
    hold = sys.argv[1] == "held"
    if hold:
        # A collection in progress at the moment of the fork: the consumer's lock is taken by a
        # parent thread, and in the child nobody will ever release it.
        consumer = provider._measurement_consumer
        taken, release = threading.Event(), threading.Event()
        def collecting():
            with consumer._lock:
                taken.set()
                release.wait()
        threading.Thread(target=collecting, daemon=True).start()
        taken.wait()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        from foundation_telemetry.defensive._ledger import skip_counts
        skips = {f"{c}/{r.value}": n for (c, r), n in skip_counts().items()}
        values = None
        if not hold:
            counter.add(1)
            data = inner.get_metrics_data()
            values = [
                point.value
                for rm in data.resource_metrics
                for sm in rm.scope_metrics
                for metric in sm.metrics
                if metric.name == "fork.requests"
                for point in metric.data.data_points
            ]
        os.write(write_fd, json.dumps({"skips": skips, "values": values}).encode())
        os._exit(0)
    os.close(write_fd)
    print(os.read(read_fd, 65536).decode())
    os.waitpid(pid, 0)
    """
)


def _child(mode: str) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
class TestMetricStateAfterFork:
    def test_the_child_exports_only_its_own_measurements(self) -> None:
        """The child's cumulative counter starts from zero: it reports its own 1, not 2 + 1."""
        child = _child("free")
        assert child == {"skips": {}, "values": [1]}

    def test_a_lock_held_at_fork_never_hangs_the_child(self) -> None:
        """Forked mid-collection, the child returns from fork and counts the inherited state."""
        child = _child("held")
        assert child["skips"] == {"fork-reader/timeout": 1}
