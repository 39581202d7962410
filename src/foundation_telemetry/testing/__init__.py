"""Event-driven test assertions on telemetry: the Recorder, expectations and matchers.

Attach before the action, then wait for the telemetry with a timeout: across threads and asyncio,
without sleeping, and with failure messages that show what was recorded instead. The pytest
plugin (registered automatically) provides the ``telemetry`` fixture; everything here also works
on a :class:`Recorder` you attach yourself, and on the embedded OTLP sink.
"""

from __future__ import annotations

from ..recording import metric_capture_options as metric_capture_options
from ..recording._domain import DomainWaits as DomainWaits
from ..recording._domain import wait_for_agent_registration as wait_for_agent_registration
from ..recording._domain import (
    wait_for_agent_registration_async as wait_for_agent_registration_async,
)
from ..recording._domain import wait_for_connection_pool_ready as wait_for_connection_pool_ready
from ..recording._domain import (
    wait_for_connection_pool_ready_async as wait_for_connection_pool_ready_async,
)
from ..recording._domain import wait_for_coordination_completion as wait_for_coordination_completion
from ..recording._domain import (
    wait_for_coordination_completion_async as wait_for_coordination_completion_async,
)
from ..recording._domain import wait_for_process_restart as wait_for_process_restart
from ..recording._domain import wait_for_process_restart_async as wait_for_process_restart_async
from ..recording._domain import wait_for_resource_cleanup as wait_for_resource_cleanup
from ..recording._domain import wait_for_resource_cleanup_async as wait_for_resource_cleanup_async
from ..recording._domain import wait_for_service_health as wait_for_service_health
from ..recording._domain import wait_for_service_health_async as wait_for_service_health_async
from ..recording._expectations import AnyExpectation as AnyExpectation
from ..recording._expectations import Collector as Collector
from ..recording._expectations import EventExpectation as EventExpectation
from ..recording._expectations import RefuteExpectation as RefuteExpectation
from ..recording._expectations import SequenceExpectation as SequenceExpectation
from ..recording._failures import TelemetryAssertionError as TelemetryAssertionError
from ..recording._matchers import ROOT as ROOT
from ..recording._matchers import all_of as all_of
from ..recording._matchers import any_of as any_of
from ..recording._matchers import not_ as not_
from ..recording._metric_wait import AGGREGATES as AGGREGATES
from ..recording._metric_wait import aggregate_points as aggregate_points
from ..recording._queries import Captured as Captured
from ..recording._queries import TelemetryQueries as TelemetryQueries
from ..recording._recorder import Recorder as Recorder
from ..recording._timeouts import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ..recording._timeouts import default_timeout as default_timeout
from ..recording._timeouts import set_default_timeout as set_default_timeout
from ..recording._trace_shape import TraceExpectation as TraceExpectation
from ._fixture import TelemetryFixture as TelemetryFixture

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
