"""Route, filter, sample and redact spans and log records before they reach exporters.

Each piece is a span processor or log record processor that wraps the processors (or exporters)
it feeds, so they compose in ``configure(span_processors=[...], log_processors=[...])``:

- :class:`RoutingSpanProcessor` / :class:`RoutingLogRecordProcessor` send each item to the
  targets of the :class:`Route` s whose name patterns and attribute predicate match it (all of
  them, or only the first with ``first_match=True``), else to a default.
- :class:`FilteringSpanProcessor` / :class:`FilteringLogRecordProcessor` apply :class:`Drop`,
  :class:`Keep` and :class:`Sample` rules in order; the first rule that matches decides.
- :class:`RedactingSpanProcessor` / :class:`RedactingLogRecordProcessor` replace sensitive
  attribute values (``authorization``, ``password``, ``token``... see :class:`Redactor`) in a
  copy handed to the wrapped processor, so nothing else in the pipeline sees the change.

Log records are matched by ``event_name`` (plain logs have the name ``""``). A target given as an
exporter is wrapped in a ``BatchSpanProcessor`` / ``BatchLogRecordProcessor`` (``batch=False``:
the simple, synchronous one).
"""

from __future__ import annotations

from .._exports import fixup_module_metadata as _fixup_module_metadata
from ._processors import FilteringLogRecordProcessor as FilteringLogRecordProcessor
from ._processors import FilteringSpanProcessor as FilteringSpanProcessor
from ._processors import RedactingLogRecordProcessor as RedactingLogRecordProcessor
from ._processors import RedactingSpanProcessor as RedactingSpanProcessor
from ._processors import RoutingLogRecordProcessor as RoutingLogRecordProcessor
from ._processors import RoutingSpanProcessor as RoutingSpanProcessor
from ._redact import DEFAULT_SENSITIVE_KEYS as DEFAULT_SENSITIVE_KEYS
from ._redact import DEFAULT_VALUE_PATTERNS as DEFAULT_VALUE_PATTERNS
from ._redact import REDACTED as REDACTED
from ._redact import Redactor as Redactor
from ._rules import AttributePredicate as AttributePredicate
from ._rules import Drop as Drop
from ._rules import FilterRule as FilterRule
from ._rules import Keep as Keep
from ._rules import Route as Route
from ._rules import Sample as Sample

__all__ = [
    "DEFAULT_SENSITIVE_KEYS",
    "DEFAULT_VALUE_PATTERNS",
    "REDACTED",
    "AttributePredicate",
    "Drop",
    "FilterRule",
    "FilteringLogRecordProcessor",
    "FilteringSpanProcessor",
    "Keep",
    "RedactingLogRecordProcessor",
    "RedactingSpanProcessor",
    "Redactor",
    "Route",
    "RoutingLogRecordProcessor",
    "RoutingSpanProcessor",
    "Sample",
]

# The classes report their public module, as when they were defined here (reprs, docs, pickles).
for _public in (
    Drop,
    FilteringLogRecordProcessor,
    FilteringSpanProcessor,
    Keep,
    RedactingLogRecordProcessor,
    RedactingSpanProcessor,
    Route,
    RoutingLogRecordProcessor,
    RoutingSpanProcessor,
    Sample,
):
    _public.__module__ = __name__
del _public

_fixup_module_metadata(__name__, globals())
