// Trace waterfall: spans (the sink's /api/spans JSON shape) drawn as bars on a time axis.
// A classic script (not an ES module) so it also runs inlined in a report opened from file://.
// Exposes globalThis.FoundationWaterfall = { buildTree, render, formatDuration }.
(function () {
  "use strict";

  function formatDuration(ns) {
    if (ns === null || ns === undefined) return "running";
    if (ns < 1e3) return ns + " ns";
    if (ns < 1e6) return (ns / 1e3).toFixed(1) + " µs";
    if (ns < 1e9) return (ns / 1e6).toFixed(1) + " ms";
    return (ns / 1e9).toFixed(2) + " s";
  }

  // Order spans depth-first: parents before children, siblings by start time. A span whose
  // parent is not among `spans` is a root of its own (a trace seen in part).
  function buildTree(spans) {
    const byId = new Map();
    for (const span of spans) byId.set(span.span_id, span);
    const children = new Map();
    const roots = [];
    for (const span of spans) {
      const parent = span.parent_span_id;
      if (parent && byId.has(parent) && parent !== span.span_id) {
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(span);
      } else {
        roots.push(span);
      }
    }
    const byStart = (a, b) => a.start_time_ns - b.start_time_ns;
    const rows = [];
    const seen = new Set();
    function visit(span, depth) {
      if (seen.has(span.span_id)) return;
      seen.add(span.span_id);
      rows.push({ span: span, depth: depth });
      for (const child of (children.get(span.span_id) || []).sort(byStart)) visit(child, depth + 1);
    }
    for (const root of roots.sort(byStart)) visit(root, 0);
    return rows;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Draw `spans` into `container`. options.onSelect(span) is called when a row is clicked.
  function render(container, spans, options) {
    const opts = options || {};
    container.replaceChildren();
    if (!spans.length) {
      container.appendChild(el("p", "ft-empty", "No spans."));
      return;
    }
    const rows = buildTree(spans);
    let start = Infinity;
    let end = -Infinity;
    for (const { span } of rows) {
      start = Math.min(start, span.start_time_ns);
      end = Math.max(end, span.end_time_ns || span.start_time_ns);
    }
    const total = Math.max(end - start, 1);
    const table = el("div", "ft-waterfall");
    table.setAttribute("role", "tree");
    const axis = el("div", "ft-row ft-axis");
    axis.appendChild(el("div", "ft-label", "span"));
    const ticks = el("div", "ft-track");
    for (let i = 0; i <= 4; i++) {
      const tick = el("span", "ft-tick", formatDuration(Math.round((total * i) / 4)));
      tick.style.left = i * 25 + "%";
      ticks.appendChild(tick);
    }
    axis.appendChild(ticks);
    table.appendChild(axis);
    for (const { span, depth } of rows) {
      const row = el("div", "ft-row ft-span");
      row.setAttribute("role", "treeitem");
      row.dataset.spanId = span.span_id;
      row.dataset.depth = String(depth);
      const label = el("div", "ft-label");
      label.style.paddingLeft = depth * 14 + 4 + "px";
      label.appendChild(el("span", "ft-name", span.name));
      if (span.span_kind && span.span_kind !== "INTERNAL") {
        label.appendChild(el("span", "ft-kind", span.span_kind.toLowerCase()));
      }
      row.appendChild(label);
      const track = el("div", "ft-track");
      const duration = span.end_time_ns ? span.end_time_ns - span.start_time_ns : null;
      const bar = el("div", "ft-bar ft-status-" + String(span.status || "UNSET").toLowerCase());
      bar.style.left = ((span.start_time_ns - start) / total) * 100 + "%";
      bar.style.width = (((duration === null ? end - span.start_time_ns : duration) / total) * 100) + "%";
      bar.title = span.name + " — " + formatDuration(duration);
      bar.dataset.startNs = String(span.start_time_ns);
      bar.dataset.durationNs = String(duration === null ? "" : duration);
      track.appendChild(bar);
      for (const event of span.events || []) {
        const mark = el("span", "ft-event");
        mark.style.left = ((event.timestamp_ns - start) / total) * 100 + "%";
        mark.title = event.name;
        track.appendChild(mark);
      }
      track.appendChild(el("span", "ft-duration", formatDuration(duration)));
      row.appendChild(track);
      if (opts.onSelect) {
        row.tabIndex = 0;
        row.addEventListener("click", () => opts.onSelect(span));
        row.addEventListener("keydown", (e) => { if (e.key === "Enter") opts.onSelect(span); });
      }
      table.appendChild(row);
    }
    container.appendChild(table);
  }

  globalThis.FoundationWaterfall = { buildTree: buildTree, render: render, formatDuration: formatDuration };
})();
