"""pytest plugin for the SDK-suite runner: wrap every SDK component in our ``Defensive*`` wrappers.

Loaded with ``-p wrap_everything`` into the upstream suites. Every span processor and log record
processor added to a provider or multi-processor, every metric reader given to a
``MeterProvider``, and every exporter given to a simple/batch processor goes through the wrapper
a user would write by hand; the suite must then pass exactly as it does without us.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk import _logs as sdk_logs
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk._logs import export as log_export
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import export as span_export

from foundation_telemetry.defensive import (
    DefensiveLogExporter,
    DefensiveLogRecordProcessor,
    DefensiveMetricReader,
    DefensiveSpanExporter,
    DefensiveSpanProcessor,
)

_WRAPPERS = (
    DefensiveLogExporter,
    DefensiveLogRecordProcessor,
    DefensiveMetricReader,
    DefensiveSpanExporter,
    DefensiveSpanProcessor,
)


def _wrap(wrapper: Callable[[Any], Any], component: Any) -> Any:
    if isinstance(component, _WRAPPERS) or component is None:
        return component
    return wrapper(component)


def _wrap_first_argument(cls: type, method: str, wrapper: Callable[[Any], Any]) -> None:
    original = getattr(cls, method)

    @functools.wraps(original)
    def patched(self: Any, component: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original(self, _wrap(wrapper, component), *args, **kwargs)

    setattr(cls, method, patched)


def _wrap_keyword(cls: type, keyword: str, wrapper: Callable[[Any], Any]) -> None:
    """Wrap the exporter an ``__init__`` receives (first positional argument or *keyword*)."""
    original = cls.__init__  # type: ignore[misc]

    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> None:
        if args:
            args = (_wrap(wrapper, args[0]), *args[1:])
        elif keyword in kwargs:
            kwargs[keyword] = _wrap(wrapper, kwargs[keyword])
        original(self, *args, **kwargs)

    cls.__init__ = patched  # type: ignore[misc]


def _wrap_readers() -> None:
    original = MeterProvider.__init__

    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> None:
        if "metric_readers" in kwargs:
            kwargs["metric_readers"] = [
                _wrap(DefensiveMetricReader, r) for r in kwargs["metric_readers"]
            ]
        elif len(args) > 1:
            args = (args[0], [_wrap(DefensiveMetricReader, r) for r in args[1]], *args[2:])
        original(self, *args, **kwargs)

    MeterProvider.__init__ = patched  # type: ignore[method-assign]


def _install() -> None:
    for multi in (sdk_trace.SynchronousMultiSpanProcessor, sdk_trace.ConcurrentMultiSpanProcessor):
        _wrap_first_argument(multi, "add_span_processor", DefensiveSpanProcessor)
    for multi in (
        sdk_logs.SynchronousMultiLogRecordProcessor,
        sdk_logs.ConcurrentMultiLogRecordProcessor,
    ):
        _wrap_first_argument(multi, "add_log_record_processor", DefensiveLogRecordProcessor)
    for processor in (span_export.SimpleSpanProcessor, span_export.BatchSpanProcessor):
        _wrap_keyword(processor, "span_exporter", DefensiveSpanExporter)
    for processor in (log_export.SimpleLogRecordProcessor, log_export.BatchLogRecordProcessor):
        _wrap_keyword(processor, "exporter", DefensiveLogExporter)
    _wrap_readers()


_install()
