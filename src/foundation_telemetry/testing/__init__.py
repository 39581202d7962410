"""Event-driven test assertions on telemetry: the Recorder, expectations, waits and matchers.

Attach before the action, then wait for the telemetry with a timeout: across threads and asyncio,
without sleeping, and with failure messages that show what was recorded instead. The pytest
plugin (registered automatically) provides the ``telemetry`` fixture; everything here also works
on a :class:`Recorder` you attach yourself, and on the embedded OTLP sink. Importing this package
does not import pytest.
"""

from __future__ import annotations

from .._exports import fixup_module_metadata as _fixup_module_metadata
from ..recording import EventRecord as EventRecord
from ..recording import MetricPoint as MetricPoint
from ..recording import Recorder as Recorder
from ..recording import RecordKind as RecordKind
from ..recording import SpanEventView as SpanEventView
from ..recording import SpanRecord as SpanRecord
from ..recording import metric_capture_options as metric_capture_options
from ..recording._aggregates import AGGREGATES as AGGREGATES
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
from ..recording._queries import Captured as Captured
from ..recording._queries import TelemetryQueries as TelemetryQueries
from ..recording._source import TelemetrySource as TelemetrySource
from ..recording._timeouts import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ..recording._timeouts import default_timeout as default_timeout
from ..recording._timeouts import set_default_timeout as set_default_timeout
from ..recording._trace_shape import TraceExpectation as TraceExpectation
from ..recording._waits import Wait as Wait
from ._deprecated import module_getattr as __getattr__  # noqa: F401 - serves old names
from ._fixture import TelemetryFixture as TelemetryFixture
from ._fixture import TelemetryOverflowWarning as TelemetryOverflowWarning

__all__ = [
    "AGGREGATES",
    "DEFAULT_TIMEOUT",
    "ROOT",
    "AnyExpectation",
    "Captured",
    "Collector",
    "EventExpectation",
    "EventRecord",
    "MetricPoint",
    "RecordKind",
    "Recorder",
    "RefuteExpectation",
    "SequenceExpectation",
    "SpanEventView",
    "SpanRecord",
    "TelemetryAssertionError",
    "TelemetryFixture",
    "TelemetryOverflowWarning",
    "TelemetryQueries",
    "TelemetrySource",
    "TraceExpectation",
    "Wait",
    "all_of",
    "any_of",
    "default_timeout",
    "metric_capture_options",
    "not_",
    "set_default_timeout",
]

_fixup_module_metadata(__name__, globals())
