"""Resolve ``configure()`` arguments and the standard ``OTEL_*`` variables into validated settings.

Precedence is always: explicit argument, then the signal-specific variable
(``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), then the generic one (``OTEL_EXPORTER_OTLP_ENDPOINT``),
then the specification's default. Every value is checked here, once, so a mistake is reported
where the person made it: a ``ValueError`` that names the setting and the accepted values, never
a failure later inside an export thread.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import unquote, urlsplit

__all__ = [
    "DEFAULT_EXPORT_TIMEOUT",
    "EXPORTERS",
    "PROTOCOLS",
    "SIGNALS",
    "BatchSettings",
    "Settings",
    "SignalSettings",
    "resolve_settings",
]

Signal = Literal["traces", "metrics", "logs"]
SIGNALS: Final[tuple[Signal, ...]] = ("traces", "metrics", "logs")
EXPORTERS: Final = ("otlp", "console", "memory", "none")
PROTOCOLS: Final = ("http/protobuf", "grpc")
DEFAULT_PROTOCOL: Final = "http/protobuf"
_DEFAULT_ENDPOINTS: Final = {
    "grpc": "http://localhost:4317",
    "http/protobuf": "http://localhost:4318",
}

# Numeric SDK variables: a typo fails at configure(). The batch ones configure our own batch
# processors (BatchSettings); the metric ones are read by the SDK's periodic reader.
_NON_NEGATIVE_INT_VARIABLES: Final = (
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_BLRP_EXPORT_TIMEOUT",
    "OTEL_BLRP_MAX_QUEUE_SIZE",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_METRIC_EXPORT_TIMEOUT",
)


DEFAULT_EXPORT_TIMEOUT: Final = 10.0
"""Seconds an export may take when neither ``export_timeout`` nor ``OTEL_EXPORTER_OTLP_*TIMEOUT``
says otherwise: the specification's OTLP default."""

# The SDK's defaults for its batch processors: schedule delay, batch size, queue size, timeout.
_BATCH_DEFAULTS: Final = {"BSP": (5000, 512, 2048, 30000), "BLRP": (1000, 512, 2048, 30000)}


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """How a batch processor ``configure()`` builds queues and exports (``OTEL_BSP_*``/``OTEL_BLRP_*``).

    Attributes:
        schedule_delay_millis: the longest an item waits before its batch is exported.
        max_export_batch_size: the most items one export carries.
        max_queue_size: the most items waiting; further items are dropped and counted.
        export_timeout_millis: read and checked like the SDK does; as in the SDK, an export in
            progress is not cancelled (bound exports with ``DefensiveSpanExporter(export_timeout=)``).
    """

    schedule_delay_millis: int
    max_export_batch_size: int
    max_queue_size: int
    export_timeout_millis: int


@dataclass(frozen=True, slots=True)
class SignalSettings:
    """How one signal (traces, metrics or logs) is exported."""

    signal: Signal
    exporters: tuple[str, ...]
    protocol: str
    endpoint: str
    headers: Mapping[str, str]
    timeout: float | None
    export_timeout: float  # the bound on each export: configure(export_timeout=), timeout, 10 s
    batch: BatchSettings  # traces: OTEL_BSP_*, logs: OTEL_BLRP_* (metrics: unused)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``configure()`` decided, after arguments and environment were merged."""

    service_name: str | None
    resource_attributes: Mapping[str, str]
    debug: bool
    disabled: bool
    shutdown_timeout: float
    traces: SignalSettings
    metrics: SignalSettings
    logs: SignalSettings

    def signal(self, name: Signal) -> SignalSettings:
        """Return the settings of one signal."""
        return {"traces": self.traces, "metrics": self.metrics, "logs": self.logs}[name]


def _env(name: str, environ: Mapping[str, str]) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _check_exporter_names(names: tuple[str, ...], setting: str) -> tuple[str, ...]:
    for name in names:
        if name not in EXPORTERS:
            msg = (
                f"{setting} must be one of {', '.join(map(repr, EXPORTERS))}, got {name!r}. "
                "Use 'otlp' for a Collector, 'console' to print, 'memory' for tests, "
                "'none' to turn the signal off."
            )
            raise ValueError(msg)
    if "none" in names:
        return ()
    return tuple(dict.fromkeys(names))


def _resolve_exporters(
    exporter: str | None, signal: Signal, environ: Mapping[str, str]
) -> tuple[str, ...]:
    if exporter is not None:
        if not isinstance(exporter, str):
            msg = f"`exporter` must be a string, got {type(exporter).__name__}."
            raise TypeError(msg)
        return _check_exporter_names(_exporter_list(exporter), "`exporter`")
    variable = f"OTEL_{signal.upper()}_EXPORTER"
    raw = _env(variable, environ)
    if raw is None:
        return ("otlp",)
    return _check_exporter_names(_exporter_list(raw), variable)


def _exporter_list(value: str) -> tuple[str, ...]:
    """Split a comma-separated exporter list, the same for the argument and the env vars."""
    names = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    return names or (value.strip().lower(),)


def _resolve_protocol(protocol: str | None, signal: Signal, environ: Mapping[str, str]) -> str:
    setting = "`protocol`"
    value = protocol
    if value is None:
        for variable in (
            f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ):
            value = _env(variable, environ)
            if value is not None:
                setting = variable
                break
    if value is None:
        return DEFAULT_PROTOCOL
    value = value.strip().lower()
    if value not in PROTOCOLS:
        msg = (
            f"{setting} must be one of {', '.join(map(repr, PROTOCOLS))}, got {value!r} "
            "('http/json' is not supported by the OpenTelemetry Python exporters)."
        )
        raise ValueError(msg)
    return value


def _check_endpoint(endpoint: str, setting: str, protocol: str) -> str:
    if not isinstance(endpoint, str):
        msg = f"{setting} must be a URL string, got {type(endpoint).__name__}."
        raise TypeError(msg)
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    scheme_ok = parts.scheme in {"http", "https"} or (protocol == "grpc" and not parts.scheme)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if scheme_ok and parts.hostname and not port_ok:
        port = parts.netloc.rpartition(":")[2]
        msg = f"{setting}: the port {port!r} is out of range (1-65535); got {endpoint!r}."
        raise ValueError(msg)
    if not (scheme_ok and parts.hostname and port_ok):
        msg = (
            f"{setting} must be an http:// or https:// URL with a host, such as "
            f"'http://localhost:4318' (http/protobuf) or 'http://localhost:4317' (grpc); "
            f"got {endpoint!r}."
        )
        raise ValueError(msg)
    return endpoint.rstrip("/") if protocol == "grpc" else endpoint


def _resolve_endpoint(
    endpoint: str | None, signal: Signal, protocol: str, environ: Mapping[str, str]
) -> str:
    if endpoint is not None:
        base = _check_endpoint(endpoint, "`endpoint`", protocol)
        return _signal_url(_check_base(base, "`endpoint`", protocol), signal, protocol)
    specific = f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"
    value = _env(specific, environ)
    if value is not None:  # a signal-specific endpoint is used exactly as given
        return _check_endpoint(value, specific, protocol)
    value = _env("OTEL_EXPORTER_OTLP_ENDPOINT", environ)
    if value is not None:
        base = _check_endpoint(value, "OTEL_EXPORTER_OTLP_ENDPOINT", protocol)
        return _signal_url(
            _check_base(base, "OTEL_EXPORTER_OTLP_ENDPOINT", protocol), signal, protocol
        )
    return _signal_url(_DEFAULT_ENDPOINTS[protocol], signal, protocol)


def _check_base(base: str, setting: str, protocol: str) -> str:
    """Refuse a base URL that already ends in a signal path (it would get a second one)."""
    if protocol == "grpc":
        return base
    path = urlsplit(base).path.rstrip("/")
    for name in SIGNALS:
        if path.endswith(f"/v1/{name}"):
            root = base.rstrip("/")[: -len(f"/v1/{name}")]
            msg = (
                f"{setting} is the base URL of all three signals, but {base!r} already ends in "
                f"the {name} path (it would become '.../v1/{name}/v1/{name}'). Pass {root!r} "
                "(/v1/traces, /v1/metrics and /v1/logs are added), or set "
                f"OTEL_EXPORTER_OTLP_{name.upper()}_ENDPOINT={base!r} for that signal alone."
            )
            raise ValueError(msg)
    return base


def _signal_url(base: str, signal: Signal, protocol: str) -> str:
    if protocol == "grpc":
        return base
    return f"{base.rstrip('/')}/v1/{signal}"


def parse_headers(value: str | Mapping[str, str], setting: str) -> dict[str, str]:
    """Parse ``k=v,k2=v2`` (URL-encoded, as the specification says) or check a mapping."""
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, str):
        items = []
        for pair in value.split(","):
            if not pair.strip():
                continue
            key, sep, item = pair.partition("=")
            if not sep or not key.strip():
                msg = (
                    f"{setting} must look like 'key1=value1,key2=value2'; "
                    f"the part {pair.strip()!r} has no 'key='."
                )
                raise ValueError(msg)
            items.append((unquote(key.strip()), unquote(item.strip())))
    else:
        msg = f"{setting} must be a mapping or a 'k=v,k2=v2' string, got {type(value).__name__}."
        raise TypeError(msg)
    headers: dict[str, str] = {}
    for key, item in items:
        if not isinstance(key, str) or not isinstance(item, str) or not key:
            msg = f"{setting} keys and values must be non-empty strings, got {key!r}: {item!r}."
            raise ValueError(msg)
        if any(ch in key for ch in " \t\r\n:") or any(ch in item for ch in "\r\n"):
            msg = f"{setting} has an invalid header {key!r}: names cannot contain spaces or ':'."
            raise ValueError(msg)
        headers[key.lower()] = item
    return headers


def _resolve_headers(
    headers: str | Mapping[str, str] | None, signal: Signal, environ: Mapping[str, str]
) -> dict[str, str]:
    if headers is not None:
        return parse_headers(headers, "`headers`")
    for variable in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"):
        value = _env(variable, environ)
        if value is not None:
            return parse_headers(value, variable)
    return {}


def _non_negative_number(value: str, setting: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        msg = f"{setting} must be a non-negative number, got {value!r}."
        raise ValueError(msg)
    return number


def _resolve_timeout(signal: Signal, environ: Mapping[str, str]) -> float | None:
    for variable in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
        value = _env(variable, environ)
        if value is not None:
            return _non_negative_number(value, variable)
    return None


def _check_seconds(value: object, argument: str, *, optional: bool = False) -> None:
    """Check a positive, finite number of seconds (or ``None`` when *optional*)."""
    if value is None and optional:
        return
    accepted = "a number of seconds or None" if optional else "a number of seconds"
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"`{argument}` must be {accepted}, got {value!r}."
        raise TypeError(msg)
    if not math.isfinite(value) or value <= 0:
        msg = f"`{argument}` must be > 0 seconds{' or None' if optional else ''}, got {value!r}."
        raise ValueError(msg)


def _check_sdk_variables(environ: Mapping[str, str]) -> None:
    for variable in _NON_NEGATIVE_INT_VARIABLES:
        value = _env(variable, environ)
        if value is not None and (not value.isdigit()):
            msg = f"{variable} must be a non-negative integer (milliseconds or a count), got {value!r}."
            raise ValueError(msg)


def _resolve_batch(prefix: str, environ: Mapping[str, str]) -> BatchSettings:
    """Read ``OTEL_{prefix}_*`` with the SDK's defaults and the SDK's rules for them."""
    names = ("SCHEDULE_DELAY", "MAX_EXPORT_BATCH_SIZE", "MAX_QUEUE_SIZE", "EXPORT_TIMEOUT")
    values: dict[str, int] = {}
    for name, default in zip(names, _BATCH_DEFAULTS[prefix], strict=True):
        raw = _env(f"OTEL_{prefix}_{name}", environ)
        values[name] = default if raw is None else int(raw)  # checked by _check_sdk_variables
    for name in ("SCHEDULE_DELAY", "MAX_EXPORT_BATCH_SIZE", "MAX_QUEUE_SIZE"):
        if values[name] <= 0:
            msg = f"OTEL_{prefix}_{name} must be a positive integer, got {values[name]}."
            raise ValueError(msg)
    if values["MAX_EXPORT_BATCH_SIZE"] > values["MAX_QUEUE_SIZE"]:
        msg = (
            f"OTEL_{prefix}_MAX_EXPORT_BATCH_SIZE ({values['MAX_EXPORT_BATCH_SIZE']}) must not "
            f"exceed OTEL_{prefix}_MAX_QUEUE_SIZE ({values['MAX_QUEUE_SIZE']})."
        )
        raise ValueError(msg)
    return BatchSettings(
        schedule_delay_millis=values["SCHEDULE_DELAY"],
        max_export_batch_size=values["MAX_EXPORT_BATCH_SIZE"],
        max_queue_size=values["MAX_QUEUE_SIZE"],
        export_timeout_millis=values["EXPORT_TIMEOUT"],
    )


def _resolve_resource_attributes(attributes: Mapping[str, object] | None) -> dict[str, str]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        msg = f"`resource_attributes` must be a mapping, got {type(attributes).__name__}."
        raise TypeError(msg)
    resolved: dict[str, str] = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not key:
            msg = f"`resource_attributes` keys must be non-empty strings, got {key!r}."
            raise ValueError(msg)
        if not isinstance(value, str | bool | int | float):
            msg = (
                f"`resource_attributes[{key!r}]` must be a str, bool, int or float, "
                f"got {type(value).__name__}."
            )
            raise ValueError(msg)
        resolved[key] = value  # type: ignore[assignment]
    return resolved


def resolve_settings(
    *,
    service_name: str | None,
    exporter: str | None,
    endpoint: str | None,
    protocol: str | None,
    headers: str | Mapping[str, str] | None,
    resource_attributes: Mapping[str, object] | None,
    debug: bool | None,
    shutdown_timeout: float,
    export_timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge arguments with the environment and validate everything.

    Raises:
        ValueError: a setting has a value outside what it accepts; the message names it.
        TypeError: a setting has the wrong type.
    """
    env = os.environ if environ is None else environ
    if service_name is not None and (not isinstance(service_name, str) or not service_name.strip()):
        msg = f"`service_name` must be a non-empty string, got {service_name!r}."
        raise ValueError(msg)
    _check_seconds(shutdown_timeout, "shutdown_timeout")
    _check_seconds(export_timeout, "export_timeout", optional=True)
    _check_sdk_variables(env)

    def signal_settings(signal: Signal) -> SignalSettings:
        exporters = _resolve_exporters(exporter, signal, env)
        batch = _resolve_batch("BLRP" if signal == "logs" else "BSP", env)
        if "otlp" not in exporters and (endpoint, protocol, headers) == (None, None, None):
            # Like the SDK, the OTEL_EXPORTER_OTLP_* variables are read only by the OTLP exporter.
            chosen_protocol = DEFAULT_PROTOCOL
            return SignalSettings(
                signal=signal,
                exporters=exporters,
                protocol=chosen_protocol,
                endpoint=_signal_url(_DEFAULT_ENDPOINTS[chosen_protocol], signal, chosen_protocol),
                headers={},
                timeout=None,
                export_timeout=float(export_timeout or DEFAULT_EXPORT_TIMEOUT),
                batch=batch,
            )
        chosen_protocol = _resolve_protocol(protocol, signal, env)
        timeout = _resolve_timeout(signal, env)
        return SignalSettings(
            signal=signal,
            exporters=exporters,
            protocol=chosen_protocol,
            endpoint=_resolve_endpoint(endpoint, signal, chosen_protocol, env),
            headers=_resolve_headers(headers, signal, env),
            timeout=timeout,
            export_timeout=float(export_timeout or timeout or DEFAULT_EXPORT_TIMEOUT),
            batch=batch,
        )

    return Settings(
        service_name=service_name,
        resource_attributes=_resolve_resource_attributes(resource_attributes),
        debug=_truthy(env.get("FOUNDATION_TELEMETRY_DEBUG")) if debug is None else bool(debug),
        disabled=_truthy(env.get("OTEL_SDK_DISABLED")),
        shutdown_timeout=float(shutdown_timeout),
        traces=signal_settings("traces"),
        metrics=signal_settings("metrics"),
        logs=signal_settings("logs"),
    )
