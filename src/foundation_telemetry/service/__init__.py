"""TelemetryService: an in-process metric store with aggregation, analytics and alerting.

The service is an OpenTelemetry ``MetricReader``: register it with ``configure(metric_readers=
[service])`` (or ``configure(service=service)``), and every collection is stored as bounded time
series per (metric, attribute set), queried with :meth:`TelemetryService.query` as :class:`Stats`
and checked against :class:`AlertRule` conditions whose alerts go to notifiers and are emitted as
``foundation.alert.fired``/``foundation.alert.resolved`` events. :func:`stats_from_points` computes
the same :class:`Stats` from ``MetricPoint`` records, for the testing API.
"""

from __future__ import annotations

from .._config._runtime_metrics import RUNTIME_METRICS as RUNTIME_METRICS
from .._config._runtime_metrics import enable_runtime_metrics as enable_runtime_metrics
from .._exports import fixup_module_metadata as _fixup_module_metadata
from ._analytics import Anomaly as Anomaly
from ._model import Alert as Alert
from ._notifiers import CallbackNotifier as CallbackNotifier
from ._notifiers import LogNotifier as LogNotifier
from ._notifiers import Notifier as Notifier
from ._notifiers import NotifierError as NotifierError
from ._notifiers import WebhookNotifier as WebhookNotifier
from ._reader import DEFAULT_RESOLUTION as DEFAULT_RESOLUTION
from ._reader import DEFAULT_RETENTION as DEFAULT_RETENTION
from ._reader import TelemetryService as TelemetryService
from ._rules import SEVERITIES as SEVERITIES
from ._rules import AlertRule as AlertRule
from ._stats import AGGREGATES as AGGREGATES
from ._stats import Stats as Stats
from ._stats import parse_aggregate as parse_aggregate
from ._stats import stat as stat
from ._stats import stats_from_points as stats_from_points

__all__ = [
    "AGGREGATES",
    "DEFAULT_RESOLUTION",
    "DEFAULT_RETENTION",
    "RUNTIME_METRICS",
    "SEVERITIES",
    "Alert",
    "AlertRule",
    "Anomaly",
    "CallbackNotifier",
    "LogNotifier",
    "Notifier",
    "NotifierError",
    "Stats",
    "TelemetryService",
    "WebhookNotifier",
    "enable_runtime_metrics",
    "parse_aggregate",
    "stat",
    "stats_from_points",
]

_fixup_module_metadata(__name__, globals())
