"""The public modules of this part export exactly their public names."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "foundation_telemetry.events",
    "foundation_telemetry.events._emit",
    "foundation_telemetry.events._spans",
    "foundation_telemetry.handlers",
    "foundation_telemetry.metrics",
    "foundation_telemetry.routing",
    "foundation_telemetry.correlation",
    "foundation_telemetry.taxonomy",
    "foundation_telemetry.recording._domain",
]


@pytest.mark.parametrize("module_name", MODULES)
class TestExports:
    def test_all_lists_every_public_definition(self, module_name):
        """Every public function and class defined in the module is in __all__, and nothing else is missing."""
        module = importlib.import_module(module_name)
        defined = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(value) or inspect.isclass(value))
            and getattr(value, "__module__", None) == module_name
        }
        assert defined <= set(module.__all__)
        assert all(hasattr(module, name) for name in module.__all__)

    def test_all_is_unique(self, module_name):
        """__all__ has no duplicates."""
        module = importlib.import_module(module_name)
        assert len(set(module.__all__)) == len(module.__all__)


class TestTopLevel:
    def test_top_level_exports(self):
        """The package re-exports the event API under the names the design promises."""
        import foundation_telemetry as ft

        for name in (
            "emit",
            "span",
            "instrument",
            "attach",
            "attach_many",
            "detach",
            "handlers",
            "correlated",
            "correlation_id",
            "caused_by",
            "counter",
            "gauge",
            "histogram",
            "summary",
        ):
            assert name in ft.__all__
            assert callable(getattr(ft, name))
