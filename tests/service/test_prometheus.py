"""TelemetryService against a real Prometheus scraping the same MeterProvider, and exact truth.

One MeterProvider feeds a TelemetryService (1 s resolution) and an ``opentelemetry-exporter-
prometheus`` endpoint on 127.0.0.1 that a real ``prometheus`` (Debian's package) scrapes every
second. The workload runs in real time, because Prometheus stamps samples with the wall clock
when it scrapes: a promtool backfill would compress time but would test an OpenMetrics file,
not a scrape. It is paced by the scrapes themselves (no sleeping): after each scrape the service
collects, then the next step's measurements are made and logged as the exact truth, so the
service and Prometheus see the same cumulative state at each step, a few milliseconds apart.
The service's clock is the wall clock read at each collection (set to the evaluation time for
the final queries), so both answer at the same instant ``T``, half a scrape after the last one
so that no sample sits on a window edge.

Tolerances (asserted, and printed as a table with ``-s``):

- Increases and counts over ``w``: truth is what was measured in ``(T - w, T]``. The service
  counts the sample the window starts in pro rata (about half of the step before the window), so
  it is within one step's amount of the truth; Prometheus extrapolates ``w - 1`` seconds of
  samples to ``w``, so it is within ``truth / (w - 1)`` plus one step.
- Rates: the same, divided by ``w``.
- Levels (``sum(counter)``, ``sum(up_down)``, ``sum(gauge)``): exact, all three equal.
- Percentiles: both interpolate inside buckets, so each lies within the buckets holding the
  truth's order statistics after a rank shift of the edge step's measurements.
- Alert fire/resolve: the first and last collection at which the condition holds, within one
  collection (1 s) of the truth and of the same PromQL condition.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import random
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider

from foundation_telemetry.service import Alert, AlertRule, TelemetryService

prometheus_exporter = pytest.importorskip(
    "opentelemetry.exporter.prometheus", reason="the dev extra installs it"
)
prometheus_client = pytest.importorskip("prometheus_client")

pytestmark = pytest.mark.slow

STEPS = 45
BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
WINDOWS = (10, 20, 30)
ALERT = 'sum(rate(requests_total{route="a"}[5s]))'
THRESHOLD = 25.0


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        reason = "prometheus is not installed (Debian: apt-get install prometheus; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run this comparison")
        pytest.skip(reason)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ScrapeSignal:
    """A prometheus_client collector that sets an event after every scrape collected."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.scraped = threading.Event()

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()
        self.scraped.set()


@dataclass
class Truth:
    """Every measurement, with the time it was made (the service clock = wall clock)."""

    adds: list[tuple[float, str, int]] = field(default_factory=list)
    latencies: list[tuple[float, float]] = field(default_factory=list)
    jobs: list[tuple[float, int]] = field(default_factory=list)
    levels: dict[str, float] = field(default_factory=dict)

    def increase(self, since: float, until: float, route: str | None = None) -> float:
        return float(sum(n for at, r, n in self.adds if since < at <= until and route in (None, r)))

    def step_amount(self, since: float, until: float) -> float:
        per_step: dict[float, float] = {}
        for at, _, n in self.adds:
            if since - 2 < at <= until:
                per_step[round(at)] = per_step.get(round(at), 0) + n
        return max(per_step.values())

    def job_increase(self, since: float, until: float) -> float:
        total, previous = 0, None
        for at, reading in self.jobs:
            step = reading if previous is None or reading < previous else reading - previous
            previous = reading
            if since < at <= until:
                total += step
        return float(total)

    def values(self, since: float, until: float) -> list[float]:
        return sorted(v for at, v in self.latencies if since < at <= until)


class Prometheus:
    """A prometheus server in a subprocess, scraping *target* every second."""

    def __init__(self, binary: str, target: str, tmp: Path) -> None:
        self.port = free_port()
        config = tmp / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: ours\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "prometheus.log").open("w"),
        )

    def url(self, path: str, **params: Any) -> str:
        return f"http://127.0.0.1:{self.port}{path}?{urllib.parse.urlencode(params)}"

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("/-/ready"), timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def query(self, promql: str, at: float) -> float:
        with urllib.request.urlopen(self.url("/api/v1/query", query=promql, time=at)) as answer:
            result = json.load(answer)["data"]["result"]
        return float(result[0]["value"][1]) if result else math.nan

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


def bracket(values: list[float], q: float, shift: int) -> tuple[float, float]:
    """The bucket range holding the *q* quantile of *values* with its rank moved by *shift*."""

    def bucket(value: float) -> tuple[float, float]:
        lower = 0.0
        for bound in BOUNDS:
            if value <= bound:
                return lower, bound
            lower = bound
        return lower, math.inf

    n = len(values)
    low = values[max(0, math.floor(q * (n - 1)) - shift)]
    high = values[min(n - 1, math.ceil(q * (n - 1)) + shift)]
    return bucket(low)[0], bucket(high)[1]


@pytest.fixture
def prometheus(tmp_path: Path, telemetry: Any) -> Iterator[tuple[Prometheus, ScrapeSignal]]:
    binary = prometheus_binary()
    # Older exporters (the compat floor) always register with the global registry.
    accepts = "registry" in inspect.signature(prometheus_exporter.PrometheusMetricReader).parameters
    registry = prometheus_client.CollectorRegistry() if accepts else prometheus_client.REGISTRY
    signal = ScrapeSignal(registry)
    outer = prometheus_client.CollectorRegistry()
    outer.register(signal)
    server, thread = prometheus_client.start_http_server(0, addr="127.0.0.1", registry=outer)
    server_port = server.server_port
    running = Prometheus(binary, f"127.0.0.1:{server_port}", tmp_path)
    try:
        telemetry.wait_for(running.ready, timeout=60, interval=0.1).wait()
        yield running, signal
    finally:
        running.stop()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_matches_prometheus_and_truth(prometheus: tuple[Prometheus, ScrapeSignal]) -> None:
    """Rates, increases, levels, percentiles and alert times: ours, Prometheus's, the truth."""
    server, signal = prometheus
    now = [time.time()]
    service = TelemetryService(clock=lambda: now[0], resolution=1, retention=600)
    own = signal.registry is not prometheus_client.REGISTRY
    reader = prometheus_exporter.PrometheusMetricReader(
        **({"registry": signal.registry} if own else {})
    )
    provider = MeterProvider(metric_readers=[service, reader])
    alerts: list[Alert] = []
    service.add_rule(
        AlertRule("busy", "requests", f"rate[5s] > {THRESHOLD}", attributes={"route": "a"}),
        [alerts.append],
    )
    truth = Truth()
    reading = [0]

    def observe(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(reading[0])]

    rng = random.Random(18)
    collections: list[float] = []
    try:
        meter = provider.get_meter("workload")
        requests = meter.create_counter("requests")
        inflight = meter.create_up_down_counter("inflight")
        latency = meter.create_histogram("latency", explicit_bucket_boundaries_advisory=BOUNDS)
        queue = meter.create_gauge("queue")
        meter.create_observable_counter("jobs", [observe])
        signal.scraped.clear()
        for step in range(STEPS + 1):
            assert signal.scraped.wait(timeout=10), "Prometheus stopped scraping"
            signal.scraped.clear()
            now[0] = time.time()
            service.force_flush()
            collections.append(now[0])
            if step == STEPS:
                break
            at = time.time()
            busy = 15 <= step < 25
            for route, amount in (
                ("a", rng.randint(40, 60) if busy else rng.randint(5, 15)),
                ("b", rng.randint(1, 9) if step % 3 == 0 else 0),
                ("c", rng.randint(20, 30) if step < 12 else 0),  # stops: a sparse series
            ):
                if amount:
                    requests.add(amount, {"route": route})
                    truth.adds.append((at, route, amount))
            for pool in ("x", "y") if step < 20 else ("x",):
                move = rng.randint(-3, 4)
                inflight.add(move, {"pool": pool})
                truth.levels[f"inflight.{pool}"] = truth.levels.get(f"inflight.{pool}", 0) + move
            for _ in range(rng.randint(10, 30)):
                value = min(4.9, rng.lognormvariate(-1.5 if not busy else 0.0, 0.8))
                latency.record(value, {"route": "a"})
                truth.latencies.append((at, value))
            depth = rng.randint(0, 50)
            queue.set(depth)
            truth.levels["queue"] = depth
            reading[0] = 5 if step == 30 else reading[0] + rng.randint(5, 20)  # 30: a restart
            truth.jobs.append((at, reading[0]))

        # Prometheus commits a scrape after reading it; the next scrape starting means it did.
        assert signal.scraped.wait(timeout=10), "Prometheus stopped scraping"
        end = now[0] = collections[-1] + 0.5
        rows = compare(server, service, truth, end)
        rows += compare_alerts(server, truth, alerts, collections)
    finally:
        provider.shutdown()
    print(
        "\n"
        + "\n".join(
            f"{name:34} ours={o:>10.4g} prom={p:>10.4g} truth={t:>10.4g}" for name, o, p, t in rows
        )
    )


def compare(
    server: Prometheus, service: TelemetryService, truth: Truth, end: float
) -> list[tuple[str, float, float, float]]:
    rows: list[tuple[str, float, float, float]] = []
    total = truth.increase(-math.inf, end)
    level_pairs = [
        ("sum(requests_total)", service.query("requests").last, total),
        (
            "sum(inflight)",
            service.query("inflight").last,
            truth.levels["inflight.x"] + truth.levels["inflight.y"],
        ),
        ("sum(queue)", service.query("queue").last, truth.levels["queue"]),
        ("sum(jobs_total)", service.query("jobs").last, float(truth.jobs[-1][1])),
    ]
    for promql, ours, exact in level_pairs:
        theirs = server.query(promql, end)
        rows.append((promql, ours, theirs, exact))
        assert ours == theirs == exact, (promql, ours, theirs, exact)
    for w in WINDOWS:
        since = end - w
        step = truth.step_amount(since, end)
        exact = truth.increase(since, end)
        ours = service.query("requests", window=w)
        theirs = server.query(f"sum(increase(requests_total[{w}s]))", end)
        rows.append((f"increase(requests[{w}s])", ours.sum, theirs, exact))
        assert abs(ours.sum - exact) <= step
        assert abs(theirs - exact) <= exact / (w - 1) + step
        rate = server.query(f"sum(rate(requests_total[{w}s]))", end)
        rows.append((f"rate(requests[{w}s])", ours.rate, rate, exact / w))
        assert abs(ours.rate - exact / w) <= step / w
        assert abs(rate - exact / w) <= (exact / (w - 1) + step) / w

        jobs_exact = truth.job_increase(since, end)
        jobs = service.query("jobs", window=w).sum
        jobs_prom = server.query(f"sum(increase(jobs_total[{w}s]))", end)
        rows.append((f"increase(jobs[{w}s]) (restart)", jobs, jobs_prom, jobs_exact))
        assert abs(jobs - jobs_exact) <= 20
        assert abs(jobs_prom - jobs_exact) <= jobs_exact / (w - 1) + 20

        values = truth.values(since, end)
        stats = service.query("latency", window=w)
        count_prom = server.query(f"sum(increase(latency_count[{w}s]))", end)
        rows.append((f"count(latency[{w}s])", stats.count, count_prom, len(values)))
        assert abs(stats.count - len(values)) <= 30
        for q in (0.5, 0.9, 0.99):
            theirs = server.query(
                f"histogram_quantile({q}, sum by (le) (rate(latency_bucket[{w}s])))", end
            )
            rows.append(
                (f"p{q * 100:g}(latency[{w}s])", stats.quantile(q), theirs, _exact(values, q))
            )
            low, high = bracket(values, q, shift=30)
            assert low <= stats.quantile(q) <= high, (q, w)
            assert low <= theirs <= high, (q, w)
    return rows


def _exact(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def compare_alerts(
    server: Prometheus, truth: Truth, alerts: list[Alert], collections: list[float]
) -> list[tuple[str, float, float, float]]:
    """Fire and resolve as collection indexes: ours, the PromQL condition, the truth."""
    holds_truth = [truth.increase(at - 5, at, "a") / 5 > THRESHOLD for at in collections]
    holds_prom = [server.query(ALERT, at + 0.5) > THRESHOLD for at in collections]
    index = {at: i for i, at in enumerate(collections)}
    fired = [index[a.at] for a in alerts if a.reason == "fired"]
    resolved = [index[a.at] for a in alerts if a.reason == "resolved"]
    assert len(fired) == len(resolved) == 1, alerts
    truth_fire = holds_truth.index(True)
    truth_resolve = holds_truth.index(False, truth_fire)
    prom_fire = holds_prom.index(True)
    prom_resolve = holds_prom.index(False, prom_fire)
    assert abs(fired[0] - truth_fire) <= 1
    assert abs(resolved[0] - truth_resolve) <= 1
    assert abs(fired[0] - prom_fire) <= 1
    assert abs(resolved[0] - prom_resolve) <= 1
    return [
        ("alert fired (collection #)", fired[0], prom_fire, truth_fire),
        ("alert resolved (collection #)", resolved[0], prom_resolve, truth_resolve),
    ]
