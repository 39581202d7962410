"""The public modules of the event API export exactly their public names, from public homes."""

from __future__ import annotations

import importlib
import inspect

import pytest

from _public_api import exports_tests

PUBLIC = {
    # module: (only re-exports?, open classes with the reason they may be subclassed)
    "foundation_telemetry.events": (True, {}),
}

PRIVATE = ["foundation_telemetry.events._emit", "foundation_telemetry.events._spans"]


TestPublicModules = exports_tests(PUBLIC)


@pytest.mark.parametrize("module_name", PRIVATE)
class TestPrivateModules:
    def test_all_lists_every_public_definition(self, module_name):
        """Every public function and class defined in the module is in __all__."""
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
