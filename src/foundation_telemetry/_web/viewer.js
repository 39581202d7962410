// The sink viewer: traces, logs and events, metrics and health from the sink's own JSON API,
// kept live by its server-sent event stream. Plain browser APIs, no build step, no network
// beyond the sink itself.
(function () {
  "use strict";
  const W = globalThis.FoundationWaterfall;
  const LIST_LIMIT = 500;
  const state = {
    spans: new Map(), // span_id -> span
    traces: new Map(), // trace_id -> [span]
    events: [],
    metrics: [],
    selectedTrace: null,
    selectedSpan: null,
    selectedInstrument: null,
    tab: "traces",
  };

  // ---- data ---------------------------------------------------------------------------------
  // The page lives at /ui/; the API next to it at /api/.
  async function api(path) {
    const response = await fetch("../api/" + path, { credentials: "same-origin" });
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  }

  function addSpans(spans) {
    for (const span of spans) {
      if (state.spans.has(span.span_id)) continue;
      state.spans.set(span.span_id, span);
      if (!state.traces.has(span.trace_id)) state.traces.set(span.trace_id, []);
      state.traces.get(span.trace_id).push(span);
    }
  }

  function addRecords(batch) {
    addSpans(batch.spans || []);
    for (const event of batch.events || []) state.events.push(event);
    for (const point of batch.metrics || []) state.metrics.push(point);
  }

  let renderQueued = false;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
    });
  }

  function connect() {
    const live = document.getElementById("live");
    const source = new EventSource("../api/stream");
    source.addEventListener("open", () => { live.textContent = "live"; live.className = "ft-live ft-on"; });
    source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "ft-live"; });
    source.addEventListener("records", (message) => {
      addRecords(JSON.parse(message.data));
      document.body.dataset.received = String(Date.now());
      if (document.body.dataset.ready === "true") scheduleRender(); // the backlog renders once, at "ready"
    });
    // The stream starts with everything already received, then sends what arrives; "ready" marks
    // the end of that backlog.
    source.addEventListener("ready", () => {
      render();
      document.body.dataset.ready = "true";
    });
  }

  // ---- helpers ------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function globToRegExp(glob) {
    const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp("^" + escaped + "$");
  }

  function parseKeyValue(text) {
    const at = text.indexOf("=");
    if (!text.trim() || at < 1) return null;
    return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
  }

  function attrText(value) {
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  }

  function clock(ns) {
    const date = new Date(ns / 1e6);
    return date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
  }

  function service(record) {
    return (record.resource && record.resource["service.name"]) || "unknown";
  }

  function keyValueTable(mapping) {
    const entries = Object.entries(mapping || {});
    if (!entries.length) return el("p", { class: "ft-muted" }, "none");
    return el("table", { class: "ft-table ft-kv" },
      el("tbody", {}, ...entries.map(([key, value]) => el("tr", {}, el("th", {}, key), el("td", { class: "ft-mono" }, attrText(value))))));
  }

  function fill(tbody, rows) {
    const fragment = document.createDocumentFragment();
    for (const row of rows) fragment.append(row);
    tbody.replaceChildren(fragment);
  }

  // ---- traces -------------------------------------------------------------------------------
  function summarize(traceId, spans) {
    const ids = new Set(spans.map((s) => s.span_id));
    const roots = spans.filter((s) => !s.parent_span_id || !ids.has(s.parent_span_id));
    roots.sort((a, b) => a.start_time_ns - b.start_time_ns);
    const root = roots[0] || spans[0];
    let start = Infinity, end = -Infinity, error = false;
    for (const span of spans) {
      start = Math.min(start, span.start_time_ns);
      end = Math.max(end, span.end_time_ns || span.start_time_ns);
      if (span.status === "ERROR") error = true;
    }
    return { traceId, root, spans, start, duration: end - start, error, service: service(root) };
  }

  function traceFilter() {
    const form = document.getElementById("trace-filters");
    const name = form.name.value.trim();
    const attr = parseKeyValue(form.attr.value);
    const minMs = parseFloat(form.min_ms.value);
    return {
      service: form.service.value,
      name: name ? globToRegExp(name) : null,
      status: form.status.value,
      minNs: Number.isFinite(minMs) ? minMs * 1e6 : null,
      attr,
    };
  }

  function traceMatches(summary, f) {
    if (f.service && summary.service !== f.service) return false;
    if (f.minNs !== null && summary.duration < f.minNs) return false;
    if (f.name && !summary.spans.some((s) => f.name.test(s.name))) return false;
    if (f.status && !summary.spans.some((s) => s.status === f.status)) return false;
    if (f.attr && !summary.spans.some((s) => s.attributes && f.attr[0] in s.attributes && attrText(s.attributes[f.attr[0]]) === f.attr[1])) return false;
    return true;
  }

  function renderTraces() {
    const services = new Set();
    const summaries = [];
    for (const [traceId, spans] of state.traces) {
      const summary = summarize(traceId, spans);
      services.add(summary.service);
      summaries.push(summary);
    }
    const select = document.querySelector("#trace-filters select[name=service]");
    const known = new Set([...select.options].map((o) => o.value));
    for (const name of [...services].sort()) if (!known.has(name)) select.append(el("option", {}, name));
    const f = traceFilter();
    const shown = summaries.filter((s) => traceMatches(s, f)).sort((a, b) => b.start - a.start);
    document.getElementById("trace-count").textContent =
      shown.length + " trace(s)" + (shown.length > LIST_LIMIT ? ", newest " + LIST_LIMIT + " shown: narrow the filters" : "") +
      " · " + state.spans.size + " span(s) received";
    fill(document.querySelector("#trace-list tbody"), shown.slice(0, LIST_LIMIT).map((s) =>
      el("tr", { class: "ft-trace" + (s.traceId === state.selectedTrace ? " ft-selected" : ""), dataset: { traceId: s.traceId }, onclick: () => openTrace(s.traceId) },
        el("td", {}, s.service), el("td", {}, s.root.name), el("td", {}, clock(s.start)),
        el("td", {}, W.formatDuration(s.duration)), el("td", {}, s.spans.length),
        el("td", { class: s.error ? "ft-severity-error" : "" }, s.error ? "error" : ""))));
    renderTraceView();
  }

  function openTrace(traceId, spanId) {
    state.selectedTrace = traceId;
    state.selectedSpan = spanId || null;
    location.hash = "trace=" + traceId + (spanId ? "&span=" + spanId : "");
    showTab("traces");
    render();
  }

  function renderTraceView() {
    const view = document.getElementById("trace-view");
    const spans = state.traces.get(state.selectedTrace);
    if (!spans) { view.hidden = true; return; }
    view.hidden = false;
    const summary = summarize(state.selectedTrace, spans);
    document.getElementById("trace-title").textContent =
      summary.root.name + " · " + summary.service + " · " + W.formatDuration(summary.duration) + " · trace " + state.selectedTrace;
    W.render(document.getElementById("waterfall"), spans, { onSelect: (span) => selectSpan(span.span_id) });
    const span = state.spans.get(state.selectedSpan);
    for (const row of document.querySelectorAll("#waterfall .ft-span")) {
      row.classList.toggle("ft-selected", !!span && row.dataset.spanId === span.span_id);
    }
    renderSpanDetails(span);
  }

  function selectSpan(spanId) {
    state.selectedSpan = spanId;
    location.hash = "trace=" + state.selectedTrace + "&span=" + spanId;
    renderTraceView();
  }

  function renderSpanDetails(span) {
    const box = document.getElementById("span-details");
    if (!span) { box.replaceChildren(el("p", { class: "ft-muted" }, "Click a span for its details.")); return; }
    const events = (span.events || []).map((e) => el("li", {},
      el("strong", {}, e.name), " +" + W.formatDuration(e.timestamp_ns - span.start_time_ns) + " ", el("span", { class: "ft-mono" }, JSON.stringify(e.attributes))));
    const links = (span.links || []).map((link) => {
      const [traceId, spanId] = Array.isArray(link) ? link : [link.trace_id, link.span_id];
      return el("li", {}, el("a", { href: "#trace=" + traceId + "&span=" + spanId, class: "ft-link", onclick: (e) => { e.preventDefault(); openTrace(traceId, spanId); } },
        "trace " + traceId.slice(0, 8) + "… span " + spanId));
    });
    box.replaceChildren(
      el("h3", {}, span.name, " ", el("span", { class: "ft-kind" }, span.span_kind), " ",
        el("span", { class: "ft-status-text-" + String(span.status).toLowerCase() }, span.status + (span.status_description ? ": " + span.status_description : ""))),
      el("p", { class: "ft-muted" }, "span " + span.span_id + " · duration " + W.formatDuration(span.end_time_ns ? span.end_time_ns - span.start_time_ns : null) + " · scope " + (span.scope || "?")),
      el("h4", {}, "Attributes"), keyValueTable(span.attributes),
      el("h4", {}, "Events"), events.length ? el("ul", { class: "ft-events" }, ...events) : el("p", { class: "ft-muted" }, "none"),
      el("h4", {}, "Links"), links.length ? el("ul", { class: "ft-links" }, ...links) : el("p", { class: "ft-muted" }, "none"),
      el("h4", {}, "Resource"), keyValueTable(span.resource));
  }

  // ---- logs ---------------------------------------------------------------------------------
  function renderLogs() {
    const form = document.getElementById("log-filters");
    const text = form.text.value.trim().toLowerCase();
    const severity = form.severity.value;
    const shown = [];
    for (let i = state.events.length - 1; i >= 0 && shown.length < LIST_LIMIT; i--) {
      const e = state.events[i];
      if (severity && !String(e.severity || "").toUpperCase().startsWith(severity)) continue;
      if (text && !(e.name + " " + attrText(e.body)).toLowerCase().includes(text)) continue;
      shown.push(e);
    }
    fill(document.querySelector("#log-list tbody"), shown.map((e) => el("tr", { class: "ft-log" },
      el("td", {}, clock(e.timestamp_ns)),
      el("td", { class: "ft-severity-" + String(e.severity || "").toLowerCase() }, e.severity || ""),
      el("td", {}, e.name), el("td", {}, e.body === null || e.body === undefined ? "" : attrText(e.body)),
      el("td", { class: "ft-mono" }, Object.keys(e.attributes || {}).length ? JSON.stringify(e.attributes) : ""),
      el("td", {}, e.trace_id ? el("a", { href: "#trace=" + e.trace_id, class: "ft-link ft-trace-link", onclick: (ev) => { ev.preventDefault(); openTrace(e.trace_id, e.span_id); } }, e.trace_id.slice(0, 8) + "…") : ""))));
  }

  // ---- metrics ------------------------------------------------------------------------------
  function seriesKey(point) { return JSON.stringify(point.attributes || {}); }

  function instruments() {
    const byName = new Map();
    for (const point of state.metrics) {
      if (!byName.has(point.name)) byName.set(point.name, { name: point.name, kind: point.instrument_kind, unit: point.unit, series: new Map() });
      const instrument = byName.get(point.name);
      const key = seriesKey(point);
      if (!instrument.series.has(key)) instrument.series.set(key, []);
      instrument.series.get(key).push(point);
    }
    return byName;
  }

  // Percentile from explicit-bucket counts, interpolated linearly inside the bucket.
  function bucketPercentile(point, q) {
    const counts = point.bucket_counts, bounds = point.explicit_bounds;
    if (!counts || !bounds) return point.count ? point.value / point.count : null;
    const total = counts.reduce((a, b) => a + b, 0);
    if (!total) return null;
    let rank = q * total, seen = 0;
    for (let i = 0; i < counts.length; i++) {
      if (seen + counts[i] >= rank && counts[i] > 0) {
        // The recorded min and max narrow the first and last occupied buckets.
        let low = i === 0 ? (point.min ?? 0) : bounds[i - 1];
        let high = i < bounds.length ? bounds[i] : (point.max ?? bounds[bounds.length - 1]);
        if (point.min !== undefined && point.min !== null) low = Math.max(low, point.min);
        if (point.max !== undefined && point.max !== null) high = Math.min(high, point.max);
        return low + ((rank - seen) / counts[i]) * (high - low);
      }
      seen += counts[i];
    }
    return point.max ?? bounds[bounds.length - 1];
  }

  // [timeNs, value] pairs to draw for one series: a rate for counters, the level for gauges and
  // up-down counters, percentiles for histograms.
  function chartLines(instrument, points) {
    points = points.slice().sort((a, b) => a.timestamp_ns - b.timestamp_ns);
    const kind = String(instrument.kind || "");
    if (kind.includes("histogram")) {
      return [0.5, 0.9, 0.99].map((q) => ({ label: "p" + Math.round(q * 100), values: points.map((p) => [p.timestamp_ns, bucketPercentile(p, q)]).filter((v) => v[1] !== null) }));
    }
    if (kind.includes("counter") && !kind.includes("up_down")) {
      const values = [];
      for (let i = 1; i < points.length; i++) {
        const dt = (points[i].timestamp_ns - points[i - 1].timestamp_ns) / 1e9;
        if (dt <= 0) continue;
        const cumulative = points[i].temporality === "cumulative";
        let increase = cumulative ? points[i].value - points[i - 1].value : points[i].value;
        if (increase < 0) increase = points[i].value; // a counter reset, as Prometheus reads it
        values.push([points[i].timestamp_ns, increase / dt]);
      }
      return [{ label: "rate /s", values }];
    }
    return [{ label: "value", values: points.map((p) => [p.timestamp_ns, p.value]) }];
  }

  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    return node;
  }

  const COLOURS = ["#2f7de1", "#d64545", "#2e9e6a", "#b7791f", "#7c4dcc", "#1496a3"];

  function drawChart(box, lines) {
    const width = 720, height = 240, pad = 48;
    const all = lines.flatMap((l) => l.values);
    box.replaceChildren();
    if (!all.length) { box.append(el("p", { class: "ft-muted" }, "Not enough points to draw yet.")); return; }
    const t0 = Math.min(...all.map((v) => v[0])), t1 = Math.max(...all.map((v) => v[0]));
    const y0 = Math.min(0, ...all.map((v) => v[1])), y1 = Math.max(...all.map((v) => v[1]));
    const x = (t) => pad + ((t - t0) / Math.max(t1 - t0, 1)) * (width - 2 * pad);
    const y = (v) => height - pad + -((v - y0) / Math.max(y1 - y0, 1e-12)) * (height - 2 * pad);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "ft-chart", role: "img" });
    chart.append(svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: "ft-axis-line" }));
    for (const [value, label] of [[y0, y0], [y1, y1]]) {
      const text = svg("text", { x: 4, y: y(value) + 4, class: "ft-axis-label" });
      text.textContent = Number(label.toPrecision(4)).toString();
      chart.append(text);
    }
    lines.forEach((line, i) => {
      const colour = COLOURS[i % COLOURS.length];
      chart.append(svg("polyline", { points: line.values.map((v) => x(v[0]) + "," + y(v[1])).join(" "), fill: "none", stroke: colour, "stroke-width": 2 }));
      for (const [t, v] of line.values) chart.append(svg("circle", { cx: x(t), cy: y(v), r: 3, fill: colour, class: "ft-point", "data-value": String(v), "data-series": line.label }));
    });
    const legend = lines.map((l, i) => {
      const entry = el("span", {}, "■ " + l.label + " ");
      entry.style.color = COLOURS[i % COLOURS.length]; // CSSOM, which the page's CSP allows
      return entry;
    });
    box.append(chart, el("p", { class: "ft-legend" }, ...legend));
  }

  function renderMetrics() {
    const byName = instruments();
    fill(document.querySelector("#instrument-list tbody"), [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)).map((i) =>
      el("tr", { class: "ft-instrument" + (i.name === state.selectedInstrument ? " ft-selected" : ""), dataset: { name: i.name }, onclick: () => { state.selectedInstrument = i.name; render(); } },
        el("td", {}, i.name), el("td", {}, i.kind), el("td", {}, i.unit || ""), el("td", {}, i.series.size))));
    const instrument = byName.get(state.selectedInstrument);
    const box = document.getElementById("metric-chart");
    if (!instrument) { document.getElementById("metric-title").textContent = ""; box.replaceChildren(el("p", { class: "ft-muted" }, "Pick an instrument.")); return; }
    const attr = parseKeyValue(document.getElementById("metric-filters").attr.value);
    document.getElementById("metric-title").textContent = instrument.name + " (" + instrument.kind + (instrument.unit ? ", " + instrument.unit : "") + ")";
    box.replaceChildren();
    for (const [key, points] of instrument.series) {
      const attributes = JSON.parse(key);
      if (attr && attrText(attributes[attr[0]]) !== attr[1]) continue;
      const section = el("div", { class: "ft-series", dataset: { series: key } }, el("h4", { class: "ft-mono" }, key === "{}" ? "(no attributes)" : key));
      const chartBox = el("div", {});
      section.append(chartBox);
      box.append(section);
      drawChart(chartBox, chartLines(instrument, points));
    }
  }

  // ---- health -------------------------------------------------------------------------------
  async function renderHealth() {
    let health;
    try { health = await api("health"); } catch (error) { document.getElementById("faults").textContent = String(error); return; }
    fill(document.querySelector("#stats tbody"), Object.entries(health.stats || {}).map(([key, value]) =>
      el("tr", {}, el("th", {}, key), el("td", { class: "ft-mono" }, attrText(value)))));
    document.getElementById("faults").textContent = health.faults || "none";
    fill(document.querySelector("#alerts tbody"), (health.alerts || []).map((a) => el("tr", { class: "ft-alert" },
      el("td", {}, a.time_ns ? clock(a.time_ns) : ""), el("td", { class: a.state === "fired" ? "ft-severity-error" : "" }, a.state),
      el("td", {}, a.rule), el("td", {}, attrText(a.value)), el("td", {}, a.severity || ""))));
  }

  // ---- shell --------------------------------------------------------------------------------
  function showTab(tab) {
    state.tab = tab;
    for (const button of document.querySelectorAll(".ft-tab")) button.classList.toggle("ft-active", button.dataset.tab === tab);
    for (const view of document.querySelectorAll(".ft-view")) view.hidden = view.id !== tab;
  }

  function render() {
    const started = performance.now();
    if (state.tab === "traces") renderTraces();
    else if (state.tab === "logs") renderLogs();
    else if (state.tab === "metrics") renderMetrics();
    else renderHealth();
    document.body.dataset.rendered = String(Date.now());
    document.body.dataset.renderMs = (performance.now() - started).toFixed(1); // for the browser tests
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.get("trace")) { state.selectedTrace = params.get("trace"); state.selectedSpan = params.get("span"); }
  }

  function main() {
    for (const button of document.querySelectorAll(".ft-tab")) button.addEventListener("click", () => { showTab(button.dataset.tab); render(); });
    for (const form of document.querySelectorAll(".ft-filters")) {
      form.addEventListener("input", scheduleRender);
      form.addEventListener("submit", (e) => e.preventDefault());
    }
    setInterval(() => { if (state.tab === "health") renderHealth(); }, 2000);
    readHash();
    connect();
  }

  main();
})();
