"""A failed test's telemetry: the "Captured telemetry" report section and the offline HTML file.

:func:`captured_section` gives the terminal text pytest shows under a failure, answer first (the
counts and the failed spans), then a compact span tree and the events, capped so a long test
stays readable. :func:`write_html_report` writes one self-contained HTML file (styles, the shared
waterfall script and the records inlined, no network) that opens from ``file://``.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from .._web import asset
from ..recording._failures import format_record, record_time_ns
from ..recording._json import record_to_json
from ..recording._queries import RecordQueries
from ..recording._records import EventRecord, MetricPoint, SpanRecord

__all__ = ["captured_section", "report_file_name", "write_html_report"]

_MAX_TREE_LINES: Final = 40
_MAX_EVENT_LINES: Final = 20
_MAX_ERROR_LINES: Final = 5


def _counts(spans: Sequence[SpanRecord], events: Sequence[EventRecord], points: int) -> str:
    errors = sum(1 for span in spans if span.status == "ERROR")
    text = f"{len(spans)} span(s)"
    if errors:
        text += f" ({errors} with status ERROR)"
    return text + f", {len(events)} event(s)/log(s), {points} metric point(s) in this test"


def _span_tree(spans: Sequence[SpanRecord], begin_ns: int) -> list[str]:
    ids = {span.span_id for span in spans}
    children: dict[int | None, list[SpanRecord]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def visit(span: SpanRecord, depth: int) -> None:
        end = span.end_time_ns or span.start_time_ns
        status = "" if span.status == "UNSET" else f" {span.status}"
        offset = (span.start_time_ns - begin_ns) / 1e6
        lines.append(
            f"{'  ' * depth}{span.name} +{offset:.1f}ms {(end - span.start_time_ns) / 1e6:.1f}ms"
            f"{status}"
        )
        for child in sorted(children.get(span.span_id, []), key=lambda s: s.start_time_ns):
            visit(child, depth + 1)

    for root in sorted(children.get(None, []), key=lambda s: s.start_time_ns):
        visit(root, 0)
    return lines


def _capped(lines: list[str], cap: int, what: str, hint: str) -> list[str]:
    if len(lines) <= cap:
        return lines
    return [*lines[:cap], f"... {len(lines) - cap} more {what}{hint}"]


def captured_section(source: RecordQueries, report_path: Path | None = None) -> str:
    """Return the "Captured telemetry" text for *source* (a test's telemetry view)."""
    records = source.records()
    spans = [r for r in records if isinstance(r, SpanRecord) and r.end_time_ns is not None]
    events = [r for r in records if isinstance(r, EventRecord)]
    points = sum(1 for r in records if isinstance(r, MetricPoint))
    begin_ns = min((record_time_ns(r) for r in records), default=0)
    begin_ns = min([begin_ns, *(s.start_time_ns for s in spans)])
    hint = f" (all in {report_path})" if report_path else " (--telemetry-report=DIR shows all)"
    lines = [_counts(spans, events, points)]
    dropped = getattr(source, "dropped", None)
    if callable(dropped) and dropped():
        lines.append(
            f"The recorder's ring was full: the oldest {dropped()} record(s) of this test were "
            "dropped (raise telemetry_buffer_size)."
        )
    if report_path is not None:
        lines.append(f"HTML report: {report_path}")
    failed = [span for span in spans if span.status == "ERROR"]
    if failed:
        lines.append("Spans with status ERROR:")
        lines += _capped(
            [f"  {s.name}: {s.status_description or '(no description)'}" for s in failed],
            _MAX_ERROR_LINES,
            "error span(s)",
            hint,
        )
    if spans:
        lines.append("Spans:")
        tree = [f"  {line}" for line in _span_tree(spans, begin_ns)]
        lines += _capped(tree, _MAX_TREE_LINES, "span(s)", hint)
    if events:
        lines.append("Events and logs:")
        formatted = [f"  {format_record(event, begin_ns)}" for event in events]
        lines += _capped(formatted, _MAX_EVENT_LINES, "event(s)", hint)
    return "\n".join(lines)


def report_file_name(nodeid: str) -> str:
    """Return a file name for the test *nodeid* that is safe on every file system."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_.")
    return (name[:150] or "test") + ".html"


def _finite(value: Any) -> Any:
    # JSON has no NaN or Infinity (JSON.parse rejects them): they travel as the strings Python
    # prints for them.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _json_for_script(data: Any) -> str:
    # Inside <script>, "</" would end the element early; JSON allows the escaped form.
    text = json.dumps(_finite(data), separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("</", "<\\/")


_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Telemetry of {title}</title>
<style>{css}
main {{ padding: 16px 24px; max-width: 1400px; }} h1 {{ font-size: 18px; }}
h2 {{ font-size: 15px; margin-top: 24px; }} #details pre {{ background: var(--ft-band);
padding: 8px; overflow: auto; }} .ft-failure {{ color: var(--ft-error); white-space: pre-wrap; }}
</style></head>
<body><main>
<h1>Telemetry of <code>{title}</code></h1>
<p id="summary">{summary}</p>
<pre class="ft-failure ft-mono">{failure}</pre>
<h2>Spans</h2><div id="waterfall"></div><div id="details"></div>
<h2>Events and logs</h2><table class="ft-table" id="events"><thead><tr><th>time</th>
<th>severity</th><th>name</th><th>body</th><th>attributes</th></tr></thead><tbody></tbody></table>
<h2>Metric points</h2><table class="ft-table" id="metrics"><thead><tr><th>time</th>
<th>instrument</th><th>name</th><th>value</th><th>attributes</th></tr></thead><tbody></tbody></table>
</main>
<script>{script}</script>
<script id="data" type="application/json">{data}</script>
<script>
(function () {{
  "use strict";
  const data = JSON.parse(document.getElementById("data").textContent);
  const begin = data.begin_ns;
  const ms = (ns) => "+" + ((ns - begin) / 1e6).toFixed(1) + " ms";
  const details = document.getElementById("details");
  function show(span) {{
    details.replaceChildren();
    const title = document.createElement("h3");
    title.textContent = span.name + " (" + span.status + ")";
    const pre = document.createElement("pre");
    pre.textContent = JSON.stringify(span, null, 2);
    details.append(title, pre);
    for (const row of document.querySelectorAll(".ft-span")) {{
      row.classList.toggle("ft-selected", row.dataset.spanId === span.span_id);
    }}
  }}
  FoundationWaterfall.render(document.getElementById("waterfall"), data.spans, {{ onSelect: show }});
  function fill(id, rows) {{
    const body = document.querySelector("#" + id + " tbody");
    for (const cells of rows) {{
      const tr = document.createElement("tr");
      for (const [text, cls] of cells) {{
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.appendChild(td);
      }}
      body.appendChild(tr);
    }}
  }}
  const attrs = (a) => Object.keys(a).length ? JSON.stringify(a) : "";
  fill("events", data.events.map((e) => [[ms(e.timestamp_ns)],
    [e.severity || "", "ft-severity-" + String(e.severity || "").toLowerCase()],
    [e.name], [e.body === null ? "" : String(e.body)], [attrs(e.attributes)]]));
  fill("metrics", data.metrics.map((m) => [[ms(m.timestamp_ns)], [m.instrument_kind],
    [m.name], [String(m.value)], [attrs(m.attributes)]]));
}})();
</script>
</body></html>
"""


def write_html_report(
    directory: Path, nodeid: str, source: RecordQueries, failure: str = ""
) -> Path:
    """Write the self-contained HTML report of test *nodeid* into *directory*; return its path."""
    records = source.records()
    spans = [r for r in records if isinstance(r, SpanRecord) and r.end_time_ns is not None]
    events = [r for r in records if isinstance(r, EventRecord)]
    metrics = [r for r in records if isinstance(r, MetricPoint)]
    begin_ns = min(
        [*(record_time_ns(r) for r in records), *(s.start_time_ns for s in spans)] or [0]
    )
    data = {
        "begin_ns": begin_ns,
        "spans": [record_to_json(span) for span in spans],
        "events": [record_to_json(event) for event in events],
        "metrics": [record_to_json(point) for point in metrics],
    }
    page = _PAGE.format(
        title=html.escape(nodeid),
        css=asset("viewer.css"),
        summary=html.escape(_counts(spans, events, len(metrics))),
        failure=html.escape(failure),
        script=asset("waterfall.js"),
        data=_json_for_script(data),
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / report_file_name(nodeid)
    path.write_text(page, encoding="utf-8")
    return path
