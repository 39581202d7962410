"""What the three instrumentors share: idempotent (un)instrumenting, dependencies, entry points."""

from __future__ import annotations

import functools
import inspect
import os
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import pybreaker
import pytest
import sqlalchemy
import tenacity
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import event
from sqlalchemy.pool import Pool

import foundation_telemetry.instrumentation as instrumentation
from _imports import imported_after
from foundation_telemetry import taxonomy
from foundation_telemetry.defensive import SkipReason, skipped
from foundation_telemetry.instrumentation import (
    PyBreakerInstrumentor,
    SQLAlchemyPoolInstrumentor,
    TenacityInstrumentor,
)
from foundation_telemetry.instrumentation._common import Patches, error_type, guarded

PATCHED: dict[type, list[tuple[Any, str]]] = {
    TenacityInstrumentor: [
        (tenacity.BaseRetrying, "iter"),
        (tenacity.Retrying, "__call__"),
        (tenacity.AsyncRetrying, "iter"),
        (tenacity.AsyncRetrying, "__call__"),
    ],
    PyBreakerInstrumentor: [
        (pybreaker.CircuitBreaker, "__init__"),
        (pybreaker.CircuitBreaker, "call"),
    ],
    SQLAlchemyPoolInstrumentor: [(Pool, "connect")],
}
ALL = list(PATCHED)


def _originals(cls: type) -> list[Any]:
    return [owner.__dict__[name] for owner, name in PATCHED[cls]]


def _retry_once() -> None:
    tenacity.Retrying(name="once")(lambda: None)


def _breaker_call() -> None:
    pybreaker.CircuitBreaker(name="once").call(lambda: None)


def _pool_checkout(tmp_path: Any) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect():
        pass
    engine.dispose()


def _forwarding(inner: Any) -> Any:
    """A foreign wrapper that only forwards (sync or async, like what it wraps)."""
    if inspect.iscoroutinefunction(inner):

        async def forward_async(*args: Any, **kwargs: Any) -> Any:
            return await inner(*args, **kwargs)

        return forward_async

    def forward(*args: Any, **kwargs: Any) -> Any:
        return inner(*args, **kwargs)

    return forward


EXERCISE: dict[type, tuple[Callable[[Any], None], str]] = {
    TenacityInstrumentor: (lambda _: _retry_once(), taxonomy.RETRY_ATTEMPT_START),
    PyBreakerInstrumentor: (lambda _: _breaker_call(), taxonomy.CIRCUIT_BREAKER_CALL_START),
    SQLAlchemyPoolInstrumentor: (_pool_checkout, taxonomy.CONNECTION_ACQUIRED),
}


class TestInstrumentAndUninstrument:
    @pytest.mark.parametrize("cls", ALL)
    def test_instrumenting_twice_patches_once(self, cls, telemetry, tmp_path):
        """A second instrument() is a no-op: every event is still reported exactly once."""
        instrumentor = cls()
        instrumentor.instrument()
        instrumentor.instrument()
        try:
            exercise, name = EXERCISE[cls]
            exercise(tmp_path)
        finally:
            instrumentor.uninstrument()

        assert len(telemetry.events(name)) == 1

    @pytest.mark.parametrize("cls", ALL)
    def test_uninstrumenting_twice_restores_the_library(self, cls, telemetry, tmp_path):
        """After uninstrument() (called twice) the original methods are back and nothing emits."""
        before = _originals(cls)
        instrumentor = cls()
        instrumentor.instrument()
        assert _originals(cls) != before
        instrumentor.uninstrument()
        instrumentor.uninstrument()

        assert _originals(cls) == before
        exercise, name = EXERCISE[cls]
        exercise(tmp_path)
        assert telemetry.events(name) == []

    @pytest.mark.parametrize("cls", ALL)
    def test_instrumenting_again_after_uninstrumenting_works(self, cls, telemetry, tmp_path):
        """instrument -> uninstrument -> instrument reports events again."""
        instrumentor = cls()
        instrumentor.instrument()
        instrumentor.uninstrument()
        instrumentor.instrument()
        try:
            exercise, name = EXERCISE[cls]
            exercise(tmp_path)
        finally:
            instrumentor.uninstrument()

        assert len(telemetry.events(name)) == 1

    @pytest.mark.parametrize("cls", ALL)
    def test_a_wrapper_stacked_on_ours_goes_quiet_after_uninstrument(
        self, cls, telemetry, tmp_path
    ):
        """Another library wrapping our wrapper keeps it, but it no longer reports anything."""
        originals = _originals(cls)
        instrumentor = cls()
        instrumentor.instrument()
        for owner, name in PATCHED[cls]:
            ours = owner.__dict__[name]
            setattr(owner, name, functools.wraps(ours)(_forwarding(ours)))
        instrumentor.uninstrument()
        try:
            exercise, event_name = EXERCISE[cls]
            exercise(tmp_path)
        finally:
            for (owner, name), original in zip(PATCHED[cls], originals, strict=True):
                setattr(owner, name, original)

        assert telemetry.events(event_name) == []
        assert telemetry.events("foundation.*") == []
        assert telemetry.metric_points("db.client.*") == []
        assert telemetry.spans("retry *") == []

    def test_uninstrumenting_sqlalchemy_removes_the_pool_listeners(self):
        """No class-level pool listener of ours stays behind."""
        instrumentor = SQLAlchemyPoolInstrumentor()
        instrumentor.instrument()
        listeners = dict(instrumentor._listeners)
        instrumentor.uninstrument()

        assert not any(event.contains(Pool, name, fn) for name, fn in listeners.items())

    @pytest.mark.parametrize("cls", ALL)
    def test_an_unmet_requirement_leaves_the_library_alone(self, cls):
        """If the installed library is outside the supported range nothing is patched."""

        class TooNew(cls):  # type: ignore[misc, valid-type]
            _instance = None

            def instrumentation_dependencies(self) -> tuple[str, ...]:
                return ("tenacity >= 999", "pybreaker >= 999", "sqlalchemy >= 999")

        before = _originals(cls)
        instrumentor = TooNew()
        instrumentor.instrument(skip_dep_check=True)
        try:
            assert _originals(cls) == before
        finally:
            instrumentor.uninstrument()


class TestProviders:
    def test_explicit_providers_are_used_instead_of_the_globals(self):
        """``instrument(tracer_provider=..., meter_provider=...)`` sends spans and metrics there."""
        spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[reader])
        instrumentor = TenacityInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        try:
            tenacity.Retrying(name="explicit")(lambda: None)
        finally:
            instrumentor.uninstrument()

        assert [span.name for span in spans.get_finished_spans()] == ["retry explicit"]
        metrics = reader.get_metrics_data()
        assert metrics is not None
        names = {
            metric.name
            for resource in metrics.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }
        assert names == {"foundation.retry.attempts", "foundation.retry.calls"}


class TestPackaging:
    def test_each_instrumentor_declares_its_library(self):
        """The ``instruments`` requirement of each instrumentor names its library and range."""
        assert TenacityInstrumentor().instrumentation_dependencies() == ("tenacity >= 8",)
        assert PyBreakerInstrumentor().instrumentation_dependencies() == ("pybreaker >= 1.0",)
        assert SQLAlchemyPoolInstrumentor().instrumentation_dependencies() == ("sqlalchemy >= 2.0",)

    def test_entry_points_load_the_instrumentors(self):
        """``opentelemetry-instrument`` finds all three; each applies the real instrumentor."""
        found = {
            ep.name: ep.load()
            for ep in entry_points(group="opentelemetry_instrumentor")
            if ep.value.startswith("foundation_telemetry")
        }
        real = {name: getattr(instrumentation, shim.instrumentor) for name, shim in found.items()}

        assert real == {
            "foundation_tenacity": TenacityInstrumentor,
            "foundation_pybreaker": PyBreakerInstrumentor,
            "foundation_sqlalchemy_pool": SQLAlchemyPoolInstrumentor,
        }

    def test_loading_every_entry_point_imports_nothing_of_ours(self):
        """The runner loads them all, selected or not: that must not import the package."""
        code = (
            "from importlib.metadata import entry_points\n"
            "for group in ('opentelemetry_distro', 'opentelemetry_configurator',"
            " 'opentelemetry_instrumentor'):\n"
            "    for ep in entry_points(group=group):\n"
            "        if ep.value.startswith('foundation_telemetry'):\n"
            "            ep.load()\n"
        )
        assert imported_after(code, "foundation_telemetry") == []

    def test_the_package_exports_exactly_the_instrumentors(self):
        """``__all__`` is the three public instrumentor classes."""
        assert sorted(instrumentation.__all__) == [
            "PyBreakerInstrumentor",
            "SQLAlchemyPoolInstrumentor",
            "TenacityInstrumentor",
        ]


class TestCommon:
    def test_error_type_is_the_qualified_class_name(self):
        """Builtins stay bare; other exceptions carry their module."""
        assert error_type(ValueError()) == "ValueError"
        assert error_type(tenacity.RetryError(None)) == "tenacity.RetryError"

    def test_a_failing_hook_is_counted_not_raised(self):
        """A telemetry hook that raises returns None and counts an UNEXPECTED skip."""

        @guarded("instrumentation.test")
        def broken() -> None:
            msg = "bug in a hook"
            raise RuntimeError(msg)

        key = ("instrumentation.test", SkipReason.UNEXPECTED)
        before = skipped(*key)
        assert broken() is None
        assert skipped(*key) == before + 1

    def test_patches_leave_a_foreign_replacement_in_place(self):
        """restore() does not undo an attribute someone else replaced after us."""

        class Target:
            def method(self) -> str:
                return "original"

        patches = Patches()
        patches.install(Target, "method", lambda original: lambda self: "ours")
        Target.method = lambda self: "theirs"  # type: ignore[method-assign]
        patches.restore()

        assert Target().method() == "theirs"


EARLY = """
import pybreaker
import tenacity

from foundation_telemetry.instrumentation import PyBreakerInstrumentor, TenacityInstrumentor

TenacityInstrumentor().instrument()
PyBreakerInstrumentor().instrument()

from foundation_telemetry import configure

recorder = configure("early", exporter="memory").recorder
tenacity.Retrying(name="early")(lambda: 1)
pybreaker.CircuitBreaker(name="early").call(lambda: 1)
print(
    len(recorder.spans("retry early")),
    len(recorder.events("foundation.retry.*")),
    len(recorder.metric_points("foundation.retry.attempts")),
    len(recorder.events("foundation.circuit_breaker.*")),
)
"""


class TestOrdering:
    def test_instrumenting_before_configure_is_followed(self):
        """Instrumentors applied before configure() report into the providers it builds."""
        result = subprocess.run(
            [sys.executable, "-c", EARLY],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        )

        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["1", "2", "1", "2"]
