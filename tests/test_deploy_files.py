"""The deployment files (Collector config, docker-compose, .env, Dockerfile) are consistent.

Docker cannot run here, so these tests read the real files and check what a broken stack would
get wrong: a pipeline component used but not defined (or defined and unused), deprecated
component names, ports that disagree with our SDK defaults or with the compose file, volumes
pointing at missing files, unpinned images, and a Dockerfile that does not run the demo. Each
checker is also run on a deliberately broken copy, so it is shown to find what it looks for.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from foundation_telemetry._config import _settings

ROOT = Path(__file__).resolve().parent.parent
COLLECTOR_CONFIG = ROOT / "collector-config" / "otel-collector.yaml"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_FILE = ROOT / ".env"

KINDS = ("receivers", "processors", "exporters", "connectors")
# Type names that the collector >= 0.144 no longer wants to see.
DEPRECATED = {"exporters": {"otlp": "otlp_grpc", "otlphttp": "otlp_http"}}
GRPC_PORT = urlsplit(_settings._DEFAULT_ENDPOINTS["grpc"]).port
HTTP_PORT = urlsplit(_settings._DEFAULT_ENDPOINTS["http/protobuf"]).port


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_file() -> dict[str, str]:
    pairs = {}
    for raw in ENV_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def interpolate(value: str, env: dict[str, str]) -> str:
    """Resolve compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}``."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match["name"], match["op"], match["rest"]
        if name in env:
            return env[name]
        if op == ":-":
            return rest
        msg = f"{name} is not set in .env"
        raise AssertionError(msg)

    return re.sub(r"\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<rest>[^}]*))?\}", one, value)


def type_of(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def collector_problems(config: dict[str, Any]) -> list[str]:
    """Everything wrong with a collector config's component wiring; empty when it is sound."""
    problems = []
    service = config.get("service") or {}
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        problems.append("no pipelines")
    used: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind) or []:
                used[kind].add(component)
                # A connector is an exporter of one pipeline and a receiver of another.
                if component not in (config.get(kind) or {}) and component not in (
                    config.get("connectors") or {}
                ):
                    problems.append(f"pipeline {name}: {kind[:-1]} {component} is not defined")
        if not pipeline.get("receivers") or not pipeline.get("exporters"):
            problems.append(f"pipeline {name}: needs receivers and exporters")
        processors = pipeline.get("processors") or []
        if "memory_limiter" in map(type_of, processors) and type_of(processors[0]) != (
            "memory_limiter"
        ):
            problems.append(f"pipeline {name}: memory_limiter must be the first processor")
    for kind in KINDS:
        for component in config.get(kind) or {}:
            if kind == "connectors":
                if component not in used["receivers"] or component not in used["exporters"]:
                    problems.append(f"connector {component} is not used on both sides")
            elif component not in used[kind]:
                problems.append(f"{kind[:-1]} {component} is defined but not used")
        for component in config.get(kind) or {}:
            replacement = DEPRECATED.get(kind, {}).get(type_of(component))
            if replacement:
                problems.append(f"{component}: deprecated name, use {replacement}")
    for extension in service.get("extensions") or []:
        if extension not in (config.get("extensions") or {}):
            problems.append(f"extension {extension} is enabled but not defined")
    for extension in config.get("extensions") or {}:
        if extension not in (service.get("extensions") or []):
            problems.append(f"extension {extension} is defined but not enabled")
    if any(type_of(p) == "batch" for p in config.get("processors") or {}):
        problems.append("the batch processor is deprecated: use sending_queue.batch")
    return problems


@pytest.fixture(scope="module")
def collector() -> dict[str, Any]:
    return load_yaml(COLLECTOR_CONFIG)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def published_ports(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port for a compose service's short-syntax ``ports``."""
    ports = {}
    for spec in service.get("ports") or []:
        parts = str(spec).split(":")
        ports[int(parts[-1].split("/")[0])] = int(parts[-2])
    return ports


class TestCollectorConfig:
    def test_every_component_is_defined_and_used(self, collector: dict[str, Any]) -> None:
        """Each pipeline component is defined, and each defined one is in a pipeline."""
        assert collector_problems(collector) == []

    @pytest.mark.parametrize(
        ("breakage", "expected"),
        [
            (
                lambda c: c["exporters"].pop("debug"),
                "pipeline logs: exporter debug is not defined",
            ),
            (
                lambda c: c["exporters"].update({"otlp_http/unused": {}}),
                "exporter otlp_http/unused is defined but not used",
            ),
            (
                lambda c: c["exporters"].update({"otlphttp/old": {}}),
                "otlphttp/old: deprecated name, use otlp_http",
            ),
            (
                lambda c: c["processors"].update({"batch": {}}),
                "the batch processor is deprecated: use sending_queue.batch",
            ),
            (
                lambda c: c["service"].update({"extensions": []}),
                "extension health_check is defined but not enabled",
            ),
            (
                lambda c: c["service"]["pipelines"]["traces"]["processors"].insert(0, "x"),
                "pipeline traces: processor x is not defined",
            ),
        ],
    )
    def test_the_wiring_check_finds_broken_configs(
        self, collector: dict[str, Any], breakage: Any, expected: str
    ) -> None:
        """The wiring check reports a broken copy of the real config."""
        broken = copy.deepcopy(collector)
        breakage(broken)
        assert expected in collector_problems(broken)

    def test_otlp_receiver_listens_on_our_default_ports_on_every_interface(
        self, collector: dict[str, Any]
    ) -> None:
        """gRPC and HTTP listen on 0.0.0.0 at the ports the SDK exports to by default."""
        protocols = collector["receivers"]["otlp"]["protocols"]
        assert protocols["grpc"]["endpoint"] == f"0.0.0.0:{GRPC_PORT}"
        assert protocols["http"]["endpoint"] == f"0.0.0.0:{HTTP_PORT}"
        assert (GRPC_PORT, HTTP_PORT) == (4317, 4318)

    def test_every_pipeline_starts_with_memory_limiter(self, collector: dict[str, Any]) -> None:
        """The memory limiter guards every signal before anything else runs."""
        pipelines = collector["service"]["pipelines"]
        assert set(pipelines) == {"traces", "metrics", "logs"}
        assert all(p["processors"][0] == "memory_limiter" for p in pipelines.values())

    def test_otlp_exporters_use_current_names_and_queue_batching(
        self, collector: dict[str, Any]
    ) -> None:
        """The OTLP exporters are ``otlp_grpc``/``otlp_http`` and batch in ``sending_queue``."""
        otlp = {k: v for k, v in collector["exporters"].items() if type_of(k).startswith("otlp")}
        assert {type_of(k) for k in otlp} == {"otlp_grpc", "otlp_http"}
        for exporter in otlp.values():
            assert exporter["sending_queue"]["batch"]["flush_timeout"]

    def test_signals_go_to_jaeger_prometheus_and_debug(self, collector: dict[str, Any]) -> None:
        """Traces go to Jaeger over OTLP, metrics to Prometheus's OTLP receiver, logs to debug."""
        pipelines = collector["service"]["pipelines"]
        exporters = collector["exporters"]
        [traces] = pipelines["traces"]["exporters"]
        [metrics] = pipelines["metrics"]["exporters"]
        assert pipelines["logs"]["exporters"] == ["debug"]
        assert (type_of(traces), exporters[traces]["endpoint"]) == ("otlp_grpc", "jaeger:4317")
        assert type_of(metrics) == "otlp_http"
        assert exporters[metrics]["endpoint"] == "http://prometheus:9090/api/v1/otlp"

    def test_health_check_extension_is_enabled(self, collector: dict[str, Any]) -> None:
        """The health check listens on every interface so the host can probe it."""
        assert collector["service"]["extensions"] == ["health_check"]
        assert collector["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"


class TestCompose:
    def test_the_stack_has_the_expected_services(self, services: dict[str, Any]) -> None:
        """Collector, Jaeger, Prometheus, Grafana and the demo are all there."""
        assert set(services) == {"otel-collector", "jaeger", "prometheus", "grafana", "demo"}

    def test_images_are_pinned_in_env(self, services: dict[str, Any]) -> None:
        """Every image comes from .env with an exact version tag, never ``latest``."""
        env = env_file()
        images = {
            name: interpolate(s["image"], env) for name, s in services.items() if "image" in s
        }
        assert set(images) == {"otel-collector", "jaeger", "prometheus", "grafana"}
        for name, image in [*images.items(), ("demo base", env["PYTHON_IMAGE"])]:
            repository, _, tag = image.rpartition(":")
            assert repository, f"{name}: {image} has no tag"
            assert re.fullmatch(r"v?\d+\.\d+\.\d+(-[\w.-]+)?", tag), f"{name}: {image} unpinned"
        assert images["otel-collector"].startswith("otel/opentelemetry-collector-contrib:")
        assert images["jaeger"].startswith("jaegertracing/jaeger:2.")
        assert images["prometheus"].startswith("prom/prometheus:v3.")

    def test_interpolation_rejects_a_variable_missing_from_env(self) -> None:
        """A ``${VAR:?}`` not pinned in .env is caught, not silently empty."""
        with pytest.raises(AssertionError, match=r"NOT_PINNED is not set in \.env"):
            interpolate("${NOT_PINNED:?pin it}", env_file())

    def test_mounted_files_exist(self, services: dict[str, Any]) -> None:
        """Every bind-mounted host path in the compose file exists in the repository."""
        mounts = [
            volume.split(":")[0]
            for service in services.values()
            for volume in service.get("volumes") or []
        ]
        assert mounts
        missing = [m for m in mounts if m.startswith(".") and not (ROOT / m).exists()]
        assert missing == []

    def test_collector_runs_our_config_and_publishes_its_ports(
        self, services: dict[str, Any], collector: dict[str, Any]
    ) -> None:
        """The collector reads the mounted config and publishes OTLP and health ports as-is."""
        service = services["otel-collector"]
        [config_flag] = service["command"]
        mounted = dict(v.split(":")[:2] for v in service["volumes"])
        assert mounted["./collector-config/otel-collector.yaml"] == config_flag.split("=", 1)[1]
        listening = {
            int(endpoint.rsplit(":", 1)[1])
            for endpoint in [
                *(p["endpoint"] for p in collector["receivers"]["otlp"]["protocols"].values()),
                collector["extensions"]["health_check"]["endpoint"],
            ]
        }
        ports = published_ports(service)
        assert set(ports) == listening == {GRPC_PORT, HTTP_PORT, 13133}
        assert all(container == host for container, host in ports.items())
        assert all(str(spec).startswith("127.0.0.1:") for spec in service["ports"])

    def test_exporter_targets_are_services_of_the_stack(
        self, services: dict[str, Any], collector: dict[str, Any]
    ) -> None:
        """Each exporter endpoint names a compose service the collector starts after."""
        depends = set(services["otel-collector"]["depends_on"])
        for exporter in collector["exporters"].values():
            endpoint = exporter.get("endpoint") if isinstance(exporter, dict) else None
            if endpoint:
                host = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}").hostname
                assert host in services
                assert host in depends

    def test_prometheus_accepts_otlp(self, services: dict[str, Any]) -> None:
        """Prometheus runs with its OTLP receiver and the mounted config enables OTLP options."""
        command = services["prometheus"]["command"]
        assert "--web.enable-otlp-receiver" in command
        config_path = next(c.split("=", 1)[1] for c in command if c.startswith("--config.file="))
        host_file = next(
            v.split(":")[0]
            for v in services["prometheus"]["volumes"]
            if v.split(":")[1] == config_path
        )
        prometheus = load_yaml(ROOT / host_file)
        assert "service.name" in prometheus["otlp"]["promote_resource_attributes"]
        assert 9090 in published_ports(services["prometheus"])

    def test_grafana_provisions_prometheus_and_jaeger(self, services: dict[str, Any]) -> None:
        """The mounted provisioning directory defines both data sources at their service URLs."""
        host_dir = grafana_mounts(services)["/etc/grafana/provisioning"]
        files = sorted((ROOT / host_dir / "datasources").glob("*.y*ml"))
        sources = [s for f in files for s in load_yaml(f)["datasources"]]
        by_type = {s["type"]: s for s in sources}
        assert set(by_type) == {"prometheus", "jaeger"}
        assert by_type["prometheus"]["url"] == "http://prometheus:9090"
        assert by_type["jaeger"]["url"] == "http://jaeger:16686"
        assert 16686 in published_ports(services["jaeger"])
        uids = {s["uid"] for s in sources}
        for link in by_type["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]:
            assert link["datasourceUid"] in uids

    def test_grafana_loads_the_dashboards_it_mounts(self, services: dict[str, Any]) -> None:
        """The dashboard provider reads the mounted directory, which holds valid dashboards."""
        mounts = grafana_mounts(services)
        [provider] = load_yaml(
            ROOT / mounts["/etc/grafana/provisioning"] / "dashboards" / "dashboards.yaml"
        )["providers"]
        dashboards = sorted((ROOT / mounts[provider["options"]["path"]]).glob("*.json"))
        assert dashboards
        for path in dashboards:
            dashboard = json.loads(path.read_text(encoding="utf-8"))
            assert dashboard["uid"]
            assert dashboard["panels"]
            for panel in dashboard["panels"]:
                assert panel["datasource"]["uid"] in {"prometheus", "jaeger"}
                assert all(target["expr"] for target in panel["targets"])

    def test_demo_exports_to_the_collector_with_a_matching_protocol(
        self, services: dict[str, Any]
    ) -> None:
        """The demo's OTLP endpoint is the collector's receiver port for the chosen protocol."""
        demo = services["demo"]
        env = demo["environment"]
        endpoint = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert endpoint.hostname == "otel-collector"
        assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] in _settings.PROTOCOLS
        expected = HTTP_PORT if env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf" else GRPC_PORT
        assert endpoint.port == expected
        assert "otel-collector" in demo["depends_on"]
        assert (ROOT / demo["build"]["context"] / demo["build"]["dockerfile"]).is_file()

    def test_dependencies_name_existing_services(self, services: dict[str, Any]) -> None:
        """No ``depends_on`` points at a service that is not in the file."""
        for service in services.values():
            assert set(service.get("depends_on") or []) <= set(services)


def grafana_mounts(services: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of Grafana's bind mounts."""
    return {volume.split(":")[1]: volume.split(":")[0] for volume in services["grafana"]["volumes"]}


# Prometheus's OTLP translation (UnderscoreEscapingWithSuffixes, the v3 default): dots become
# underscores, annotation units ({call}) vanish, "s" becomes _seconds, a ratio gauge gets _ratio,
# monotonic counters get _total and histograms are read through _bucket/_sum/_count.
_UNIT_SUFFIXES = {"s": "seconds", "By": "bytes", "ms": "milliseconds"}
_INSTRUMENT = re.compile(
    r"create_(?P<kind>observable_counter|observable_gauge|observable_up_down_counter|"
    r"up_down_counter|counter|gauge|histogram)\(\s*(?P<name>[\w.\"]+)[^)]*?unit=\"(?P<unit>[^\"]*)\"",
    re.DOTALL,
)
_PROMQL_WORDS = {"sum", "by", "rate", "max", "min", "avg", "histogram_quantile", "le", "without"}


def prometheus_names() -> set[str]:
    """The series names Prometheus stores for every instrument our source code creates."""
    constants = dict(
        re.findall(r'^(\w+)(?::\s*\w+)?\s*=\s*"([\w.]+)"', source_text(), re.MULTILINE)
    )
    names = set()
    for match in _INSTRUMENT.finditer(source_text()):
        raw = match["name"]
        name = raw.strip('"') if raw.startswith('"') else constants.get(raw)
        if name is None:
            continue
        base = name.replace(".", "_")
        unit, kind = match["unit"], match["kind"]
        suffix = _UNIT_SUFFIXES.get(unit, "")
        if unit == "1" and kind.endswith("gauge"):
            suffix = "ratio"
        if suffix:
            base = f"{base}_{suffix}"
        if kind in ("counter", "observable_counter"):
            names.add(f"{base}_total")
        elif kind == "histogram":
            names.update(f"{base}_{part}" for part in ("bucket", "sum", "count"))
        else:
            names.add(base)
    return names


def source_text() -> str:
    src = ROOT / "src" / "foundation_telemetry"
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(src.rglob("*.py")))


def promql_metric_names(expr: str) -> set[str]:
    """Series names in a PromQL expression: identifiers that are not functions or labels."""
    bare = re.sub(r"\b(?:by|without)\s*\([^)]*\)|\[[^\]]*\]|\{[^}]*\}", " ", expr)
    identifiers = re.findall(r"\b([a-zA-Z_][a-zA-Z0-9_]*)\b(?!\s*\()", bare)
    return {name for name in identifiers if name not in _PROMQL_WORDS}


class TestDashboards:
    def test_every_dashboard_metric_is_one_we_emit(self) -> None:
        """Each series a panel queries is the Prometheus name of an instrument in our code."""
        emitted = prometheus_names()
        assert {"foundation_retry_attempts_total", "db_client_connection_count"} <= emitted
        for path in sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")):
            for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
                for target in panel["targets"]:
                    queried = promql_metric_names(target["expr"])
                    assert queried, target["expr"]
                    assert queried <= emitted, f"{panel['title']}: {queried - emitted}"

    def test_every_grouping_label_is_an_attribute_we_set(self) -> None:
        """Each ``by (...)`` label is the Prometheus form of an attribute key in our code."""
        keys = {
            k.replace(".", "_") for k in re.findall(r'"([a-z_]+(?:\.[a-z_]+)*)"', source_text())
        }
        for path in sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")):
            for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
                for target in panel["targets"]:
                    for group in re.findall(r"\bby\s*\(([^)]*)\)", target["expr"]):
                        labels = {label.strip() for label in group.split(",")} - {"le"}
                        assert labels <= keys, f"{panel['title']}: {labels - keys}"

    def test_the_metric_name_parser_sees_through_functions_and_labels(self) -> None:
        """The PromQL reader keeps series names only, so the checks above can fail."""
        expr = 'sum by (a_b) (rate(x_total{c="d"}[5m])) / max(y_seconds_bucket)'
        assert promql_metric_names(expr) == {"x_total", "y_seconds_bucket"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


class TestDockerfile:
    def test_base_image_is_the_pinned_one(self, services: dict[str, Any]) -> None:
        """FROM uses the build argument compose passes, and its default equals the .env pin."""
        instructions = dockerfile_instructions()
        assert instructions[0][0] == "ARG"
        name, _, default = instructions[0][1].partition("=")
        assert default == env_file()["PYTHON_IMAGE"]
        assert ("FROM", f"${{{name}}}") in instructions
        assert name in services["demo"]["build"]["args"]

    def test_copied_files_exist(self) -> None:
        """Every COPY source is in the repository (and not excluded from the build context)."""
        sources = [
            source
            for keyword, args in dockerfile_instructions()
            if keyword == "COPY"
            for source in shlex.split(args)[:-1]
        ]
        assert "src" in sources
        assert all((ROOT / source).exists() for source in sources)
        ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
        assert not set(sources) & set(ignored)

    def test_installs_an_existing_extra(self) -> None:
        """The extra installed in the image is declared in pyproject.toml."""
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        installs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
        extras = {m for args in installs for m in re.findall(r"\"\.\[(\w+)\]\"", args)}
        assert extras == {"demo"}
        assert extras <= set(pyproject["project"]["optional-dependencies"])

    def test_cmd_runs_the_demo(self) -> None:
        """CMD is exec-form ``foundation-telemetry demo`` and its options parse."""
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        [cmd] = [args for keyword, args in dockerfile_instructions() if keyword == "CMD"]
        argv = json.loads(cmd)
        assert argv[:2] == ["foundation-telemetry", "demo"]
        assert argv[0] in pyproject["project"]["scripts"]
        demo_cli = pytest.importorskip("foundation_telemetry.demo._cli")
        parser = argparse.ArgumentParser(prog="foundation-telemetry demo", exit_on_error=False)
        demo_cli.add_arguments(parser)
        parser.parse_args(argv[2:])
