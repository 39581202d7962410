"""Configuration precedence (argument > signal variable > generic variable > default) and bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest

from foundation_telemetry._config._settings import SIGNALS, parse_headers, resolve_settings


def resolve(environ: dict[str, str] | None = None, **overrides: Any):
    arguments: dict[str, Any] = {
        "service_name": None,
        "exporter": None,
        "endpoint": None,
        "protocol": None,
        "headers": None,
        "resource_attributes": None,
        "debug": None,
        "shutdown_timeout": 3.0,
    }
    arguments.update(overrides)
    return resolve_settings(environ=environ or {}, **arguments)


class TestDefaults:
    def test_specification_defaults(self):
        """With nothing set, every signal exports OTLP over http/protobuf to localhost:4318."""
        settings = resolve()
        assert settings.traces.exporters == ("otlp",)
        assert settings.traces.protocol == "http/protobuf"
        assert settings.traces.endpoint == "http://localhost:4318/v1/traces"
        assert settings.metrics.endpoint == "http://localhost:4318/v1/metrics"
        assert settings.logs.endpoint == "http://localhost:4318/v1/logs"
        assert settings.debug is False
        assert settings.disabled is False

    def test_grpc_default_endpoint(self):
        """The gRPC default endpoint is port 4317 with no signal path."""
        settings = resolve(protocol="grpc")
        assert settings.traces.endpoint == "http://localhost:4317"


class TestPrecedence:
    def test_argument_beats_environment(self):
        """An explicit argument wins over every variable."""
        environ = {
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4317",
        }
        settings = resolve(
            environ, exporter="otlp", protocol="http/protobuf", endpoint="http://arg:9"
        )
        assert settings.traces.exporters == ("otlp",)
        assert settings.traces.protocol == "http/protobuf"
        assert settings.traces.endpoint == "http://arg:9/v1/traces"

    def test_signal_variable_beats_generic_variable(self):
        """OTEL_EXPORTER_OTLP_TRACES_* wins over OTEL_EXPORTER_OTLP_* and is used as given."""
        environ = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://generic:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:1234/custom",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
        }
        settings = resolve(environ)
        assert settings.traces.endpoint == "http://traces:1234/custom"
        assert settings.traces.protocol == "grpc"
        assert settings.metrics.protocol == "http/protobuf"
        assert settings.metrics.endpoint == "http://generic:4318/v1/metrics"

    def test_per_signal_exporter_variables(self):
        """Each signal reads its own OTEL_<SIGNAL>_EXPORTER; 'none' turns a signal off."""
        environ = {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none"}
        settings = resolve(environ)
        assert settings.traces.exporters == ("console",)
        assert settings.metrics.exporters == ()
        assert settings.logs.exporters == ("otlp",)

    def test_exporter_lists_from_environment(self):
        """A comma-separated exporter list keeps its order and drops duplicates."""
        settings = resolve({"OTEL_LOGS_EXPORTER": "console, otlp,console"})
        assert settings.logs.exporters == ("console", "otlp")

    def test_exporter_list_argument_reads_like_the_environment(self):
        """`exporter="otlp,memory"` means what OTEL_*_EXPORTER="otlp,memory" means."""
        from_argument = resolve({}, exporter="otlp, memory")
        from_environment = resolve(
            {f"OTEL_{signal.upper()}_EXPORTER": "otlp,memory" for signal in SIGNALS}
        )
        for signal in SIGNALS:
            assert from_argument.signal(signal).exporters == ("otlp", "memory")
            assert from_environment.signal(signal).exporters == ("otlp", "memory")

    def test_signal_specific_endpoint_keeps_its_path(self):
        """The per-signal variable is the full URL, used as given (the spec's form)."""
        settings = resolve({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
        assert settings.traces.endpoint == "http://c:4318/v1/traces"

    def test_headers_and_timeout_from_environment(self):
        """Headers are URL-decoded and lower-cased; the timeout is read per signal first."""
        environ = {
            "OTEL_EXPORTER_OTLP_HEADERS": "Api-Key=a%20b,x=1",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "7",
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "2.5",
        }
        settings = resolve(environ)
        assert settings.traces.headers == {"api-key": "a b", "x": "1"}
        assert settings.traces.timeout == 7.0
        assert settings.logs.timeout == 2.5

    def test_debug_and_disabled_from_environment(self):
        """FOUNDATION_TELEMETRY_DEBUG and OTEL_SDK_DISABLED are read; an argument overrides debug."""
        environ = {"FOUNDATION_TELEMETRY_DEBUG": "1", "OTEL_SDK_DISABLED": "true"}
        assert resolve(environ).debug is True
        assert resolve(environ).disabled is True
        assert resolve(environ, debug=False).debug is False


class TestBadInput:
    @pytest.mark.parametrize(
        ("overrides", "environ", "fragment"),
        [
            (
                {"exporter": "jaeger"},
                {},
                "`exporter` must be one of 'otlp', 'console', 'memory', 'none'",
            ),
            ({}, {"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER must be one of"),
            ({"protocol": "http/json"}, {}, "`protocol` must be one of 'http/protobuf', 'grpc'"),
            (
                {},
                {"OTEL_EXPORTER_OTLP_PROTOCOL": "udp"},
                "OTEL_EXPORTER_OTLP_PROTOCOL must be one of",
            ),
            ({"endpoint": "ftp://host:1"}, {}, "`endpoint` must be an http:// or https:// URL"),
            ({"endpoint": "http://"}, {}, "`endpoint` must be an http:// or https:// URL"),
            (
                {"endpoint": "http://localhost:99999"},
                {},
                "`endpoint`: the port '99999' is out of range (1-65535); "
                "got 'http://localhost:99999'.",
            ),
            (
                {"endpoint": "http://127.0.0.1:4318/v1/traces"},
                {},
                "`endpoint` is the base URL of all three signals, but "
                "'http://127.0.0.1:4318/v1/traces' already ends in the traces path (it would "
                "become '.../v1/traces/v1/traces'). Pass 'http://127.0.0.1:4318' (/v1/traces, "
                "/v1/metrics and /v1/logs are added), or set "
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT='http://127.0.0.1:4318/v1/traces' for that "
                "signal alone.",
            ),
            (
                {},
                {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/v1/logs/"},
                "OTEL_EXPORTER_OTLP_ENDPOINT is the base URL of all three signals, but "
                "'http://collector:4318/v1/logs/' already ends in the logs path",
            ),
            (
                {"exporter": "otlp,memroy"},
                {},
                "`exporter` must be one of 'otlp', 'console', 'memory', 'none', got 'memroy'.",
            ),
            (
                {},
                {"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost"},
                "OTEL_EXPORTER_OTLP_ENDPOINT must be",
            ),
            ({"headers": "novalue"}, {}, "`headers` must look like 'key1=value1,key2=value2'"),
            ({"headers": {"bad key": "v"}}, {}, "`headers` has an invalid header 'bad key'"),
            ({"shutdown_timeout": -1}, {}, "`shutdown_timeout` must be > 0 seconds, got -1"),
            ({"shutdown_timeout": float("nan")}, {}, "`shutdown_timeout` must be > 0 seconds"),
            ({"service_name": ""}, {}, "`service_name` must be a non-empty string"),
            (
                {},
                {"OTEL_EXPORTER_OTLP_TIMEOUT": "-3"},
                "OTEL_EXPORTER_OTLP_TIMEOUT must be a non-negative",
            ),
            (
                {},
                {"OTEL_BSP_SCHEDULE_DELAY": "soon"},
                "OTEL_BSP_SCHEDULE_DELAY must be a non-negative",
            ),
            ({"resource_attributes": {"k": object()}}, {}, "`resource_attributes['k']` must be"),
        ],
    )
    def test_invalid_setting_names_itself(self, overrides, environ, fragment):
        """A bad value raises ValueError naming the setting and what it accepts."""
        with pytest.raises(ValueError, match=re.escape(fragment)):
            resolve(environ, **overrides)

    def test_wrong_types_raise_type_error(self):
        """A wrong type is a TypeError that says which type was given."""
        with pytest.raises(TypeError, match="`shutdown_timeout` must be a number of seconds"):
            resolve(shutdown_timeout="3")
        with pytest.raises(TypeError, match="`exporter` must be a string, got int"):
            resolve(exporter=3)

    def test_grpc_accepts_host_and_port_without_scheme(self):
        """gRPC endpoints may be written host:port, as the OTLP gRPC exporter accepts."""
        settings = resolve(protocol="grpc", endpoint="collector:4317")
        assert settings.traces.endpoint == "collector:4317"

    def test_parse_headers_accepts_mapping(self):
        """A mapping of headers is checked and lower-cased."""
        assert parse_headers({"Authorization": "Bearer x"}, "`headers`") == {
            "authorization": "Bearer x"
        }
