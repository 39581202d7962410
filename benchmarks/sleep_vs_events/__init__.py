"""The same small test suite written twice: waiting with sleeps, and waiting on events.

``app.py`` is a tiny service with background work of variable duration, instrumented with plain
OpenTelemetry only. ``sleeps/`` tests it the way most suites do today (sleep a margin, then read
``InMemorySpanExporter``); ``events/`` tests the same behaviour with the ``telemetry`` fixture's
expectations. ``benchmarks.bench_sleep_vs_events`` runs each suite in fresh pytest processes and
compares time and flakes.
"""
