"""Implementation of the defensive layer; the public names live in :mod:`foundation_telemetry.defensive`.

One module per job: ``_classify`` (exception → :class:`~foundation_telemetry.SkipReason`),
``_policy`` (what a caught error turns into), ``_debug`` (once-per-key diagnostics that cannot loop
back into a failing pipeline), ``_bounded`` (calls with a deadline on helper threads),
``_guards`` (the shared exporter/component logic), ``_spans``/``_metrics``/``_logs`` (one wrapper
set per signal), ``_shutdown`` (the coordinator), ``_fork`` and ``_pytest``.
"""
