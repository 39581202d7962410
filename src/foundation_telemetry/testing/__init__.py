"""Event-driven test assertions on telemetry: the Recorder, expectations and matchers.

Attach before the action, then wait for the telemetry with a timeout: across threads and asyncio,
without sleeping, and with failure messages that show what was recorded instead. The pytest
plugin (registered automatically) provides the ``telemetry`` fixture; everything here also works
on a :class:`Recorder` you attach yourself, and on the embedded OTLP sink.
"""

from __future__ import annotations

from ..recording import metric_capture_options as metric_capture_options
from ._domain import DomainWaits as DomainWaits
from ._domain import wait_for_agent_registration as wait_for_agent_registration
from ._domain import wait_for_agent_registration_async as wait_for_agent_registration_async
from ._domain import wait_for_connection_pool_ready as wait_for_connection_pool_ready
from ._domain import wait_for_connection_pool_ready_async as wait_for_connection_pool_ready_async
from ._domain import wait_for_coordination_completion as wait_for_coordination_completion
from ._domain import (
    wait_for_coordination_completion_async as wait_for_coordination_completion_async,
)
from ._domain import wait_for_process_restart as wait_for_process_restart
from ._domain import wait_for_process_restart_async as wait_for_process_restart_async
from ._domain import wait_for_resource_cleanup as wait_for_resource_cleanup
from ._domain import wait_for_resource_cleanup_async as wait_for_resource_cleanup_async
from ._domain import wait_for_service_health as wait_for_service_health
from ._domain import wait_for_service_health_async as wait_for_service_health_async
from ._expectations import AnyExpectation as AnyExpectation
from ._expectations import Collector as Collector
from ._expectations import EventExpectation as EventExpectation
from ._expectations import RefuteExpectation as RefuteExpectation
from ._expectations import SequenceExpectation as SequenceExpectation
from ._failures import TelemetryAssertionError as TelemetryAssertionError
from ._fixture import TelemetryFixture as TelemetryFixture
from ._matchers import ROOT as ROOT
from ._matchers import all_of as all_of
from ._matchers import any_of as any_of
from ._matchers import not_ as not_
from ._metric_wait import AGGREGATES as AGGREGATES
from ._metric_wait import aggregate_points as aggregate_points
from ._queries import Captured as Captured
from ._queries import TelemetryQueries as TelemetryQueries
from ._recorder import Recorder as Recorder
from ._settings import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ._settings import default_timeout as default_timeout
from ._settings import set_default_timeout as set_default_timeout
from ._trace_shape import TraceExpectation as TraceExpectation

__all__ = [
    "AGGREGATES",
    "DEFAULT_TIMEOUT",
    "ROOT",
    "AnyExpectation",
    "Captured",
    "Collector",
    "DomainWaits",
    "EventExpectation",
    "Recorder",
    "RefuteExpectation",
    "SequenceExpectation",
    "TelemetryAssertionError",
    "TelemetryFixture",
    "TelemetryQueries",
    "TraceExpectation",
    "aggregate_points",
    "all_of",
    "any_of",
    "default_timeout",
    "metric_capture_options",
    "not_",
    "set_default_timeout",
    "wait_for_agent_registration",
    "wait_for_agent_registration_async",
    "wait_for_connection_pool_ready",
    "wait_for_connection_pool_ready_async",
    "wait_for_coordination_completion",
    "wait_for_coordination_completion_async",
    "wait_for_process_restart",
    "wait_for_process_restart_async",
    "wait_for_resource_cleanup",
    "wait_for_resource_cleanup_async",
    "wait_for_service_health",
    "wait_for_service_health_async",
]
