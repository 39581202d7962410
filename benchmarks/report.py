"""Render a results JSON file as the Markdown table used in the README and the docs.

Usage: ``python -m benchmarks.report [--brief] [benchmarks/results/latest-full.json]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks._harness import Target

DEFAULT = Path(__file__).resolve().parent / "results" / "latest-full.json"


def render(payload: dict[str, Any], *, brief: bool = False) -> str:
    """The header line and one table row per target (*brief*: without the detail column)."""
    env = payload["environment"]
    load = " / ".join(f"{x:.1f}" for x in env.get("loadavg", []))
    after = " / ".join(f"{x:.1f}" for x in env.get("loadavg_after", []))
    lines = [
        f"`{payload['command'].strip()}` ({payload['mode']} mode), {env['time']}, commit "
        f"`{env['commit']}`, Python {env['python']}, opentelemetry-sdk "
        f"{env['versions'].get('opentelemetry-sdk')}, {env['cpus']} CPUs, load average {load} before and {after} after.",
        "",
        "| status | target | result |"
        if brief
        else "| status | group | target | result | detail |",
        "|---|---|---|" if brief else "|---|---|---|---|---|",
    ]
    for data in payload["targets"]:
        target = Target(
            data["group"],
            data["name"],
            data["value"],
            data["limit"],
            data["op"],
            data["unit"],
            data["detail"],
            data["skip_reason"],
        )
        result = "-" if target.status == "SKIP" else target.result()
        detail = target.skip_reason or target.detail
        if brief:
            lines.append(f"| {target.status} | {target.group}: {target.name} | {result} |")
            continue
        lines.append(
            f"| {target.status} | {target.group} | {target.name} | {result} | "
            f"{detail.replace('|', '/')} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Print the table for the given (or the latest full) results file."""
    brief = "--brief" in argv
    paths = [arg for arg in argv if arg != "--brief"]
    path = Path(paths[0]) if paths else DEFAULT
    print(render(json.loads(path.read_text()), brief=brief))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
