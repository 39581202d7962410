"""Benchmarks for foundation-telemetry: every target is a ratio against the stock SDK in one run.

Run ``make bench`` (or ``python -m benchmarks.run --help``). Each ``bench_*`` module measures one
target group and hands ``Target`` lines back to the runner; ``_harness`` holds the interleaved
timing loop, the statistics and the result types they share.
"""
