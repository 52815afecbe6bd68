// Fleet page: WebGL map and a sortable, filterable, paged table; live twin updates patch the columns in place.
//
// Sized for 100,000 benches (docs/performance.md): the data arrives as dictionary-coded columns, decoded once;
// the table renders one page, picking its rows without sorting the whole fleet; above MAX_MARKERS benches in
// view the map draws one marker per screen cell (the worst health in it, sized by its count) and re-draws at
// each zoom; live updates change the columns in place and redraw at most once per frame, less often when a
// redraw is slow.
(function () {
  "use strict";
  const T = window.FLEET_TEXT;
  const K = window.METRIC_KEYS;  // column names by role: the metric table's keys
  const PAGE = 100;
  const REFRESH_MS = 60000;
  const MAX_MARKERS = window.FLEET_MAX_MARKERS || 20000;  // more benches in view than this: cells
  const CELL_PX = 14;  // side of a cell in screen pixels
  const MIN_SPAN = 0.1;  // degrees of latitude a fit to the benches shows at least (a lone bench: its town)
  const MAX_ZOOM = 12;  // the same limit on a tile map
  // "attention" (the default) puts critical benches first, then warnings, then the rest; by name within.
  const state = {cols: null, index: null, colours: {}, sortKey: "attention", sortDir: 1, page: 0, kind: "offline",
    shown: [], cells: null};
  const RANK = {critical: 0, warning: 1, unknown: 2, ok: 3};
  const MAP_FIELDS = ["lat", "lon", "health", "reasons", "name", "municipality", K.load];
  const mapDiv = document.getElementById("fleet-map");
  const collator = new Intl.Collator(BF.locale());
  const size = (p) => (p === null || p === undefined) ? 6 : 6 + Math.min(p, 70) / 5;

  function colour(h) { return state.colours[h] || state.colours.unknown; }

  function escapeHtml(s) {
    s = String(s);
    if (!/[&<>"']/.test(s)) return s;
    return s.replace(/[&<>"']/g, (ch) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));
  }

  // Name, municipality, health and the reasons behind it (the crew's first question).
  function hover(i) {
    const c = state.cols;
    const reasons = c.reasons[i] || [];
    const head = escapeHtml(c.name[i]) + " (" + escapeHtml(c.municipality[i]) + ")<br>" +
      (T.health[c.health[i]] || c.health[i]);
    return reasons.length ? head + "<br>" + reasons.map((r) => "• " + escapeHtml(r)).join("<br>") : head;
  }

  // The dictionary-coded answer of /fleet/data.json → one plain array per column (dashboards/fleet_data.py).
  function decode(doc) {
    const c = doc.columns;
    for (const [k, values] of Object.entries(doc.dicts)) c[k] = c[k].map((code) => values[code]);
    for (const [k, factor] of Object.entries(doc.scale)) c[k] = c[k].map((v) => v === null ? null : v / factor);
    return c;
  }

  // Bench id → column index, built on the first live update (a page that is only looked at never needs it).
  function indexOf(benchId) {
    if (state.index === null) {
      state.index = new Map();
      state.cols.bench_id.forEach((id, i) => state.index.set(id, i));
    }
    return state.index.get(benchId);
  }

  // -- the map ---------------------------------------------------------------------------------------------
  // The box in view (offline map), widened by half a view on each side so that a short pan shows no gap.
  function viewBox() {
    const fl = mapDiv._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return null;
    const [x0, x1] = fl.xaxis.range, [y0, y1] = fl.yaxis.range;
    const dx = (x1 - x0) / 2, dy = (y1 - y0) / 2;
    return {x0: x0 - dx, x1: x1 + dx, y0: y0 - dy, y1: y1 + dy,
      cell: CELL_PX * (x1 - x0) / Math.max(1, fl.xaxis._length), ratio: fl.yaxis.scaleratio || 1};
  }

  // One marker per bench, or per cell when there are too many: the bench trace's arrays.
  function markerArrays(box) {
    const c = state.cols, n = c.bench_id.length;
    let idx = [];
    if (box && state.kind !== "tiles") {
      for (let i = 0; i < n; i++) {
        const x = c.lon[i], y = c.lat[i];
        if (x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1) idx.push(i);
      }
    } else {
      idx = Array.from({length: n}, (_, i) => i);
    }
    if (idx.length <= MAX_MARKERS || state.kind === "tiles") {
      state.shown = idx;
      state.cells = null;
      return {x: idx.map((i) => c.lon[i]), y: idx.map((i) => c.lat[i]), color: idx.map((i) => colour(c.health[i])),
        size: idx.map((i) => size(c[K.load][i])), customdata: idx.map((i) => c.bench_id[i]),
        hovertext: idx.map(hover), text: null};
    }
    return cellArrays(idx, box);
  }

  function cellArrays(idx, box) {
    const c = state.cols, lon = c.lon, lat = c.lat, health = c.health;
    // Without a plot yet (the first draw): cells from the figure's longitude range and the div's width.
    const cx = box ? box.cell : CELL_PX * 4.2 / Math.max(1, mapDiv.clientWidth);
    const cy = cx / (box ? box.ratio : 1 / Math.cos(44.2 * Math.PI / 180));
    // Per cell: count, sums of coordinates, the worst bench, and counts by health rank (typed arrays).
    const byKey = new Map();
    const cap = idx.length;
    const count = new Uint32Array(cap), sx = new Float64Array(cap), sy = new Float64Array(cap);
    const worst = new Uint8Array(cap).fill(3), first = new Uint32Array(cap), ranks = new Uint32Array(cap * 4);
    let cells = 0;
    for (const i of idx) {
      const key = Math.floor(lon[i] / cx) * 1e6 + Math.floor(lat[i] / cy);
      let k = byKey.get(key);
      if (k === undefined) { k = cells++; byKey.set(key, k); first[k] = i; }
      const rank = RANK[health[i]] ?? 2;
      count[k] += 1;
      sx[k] += lon[i];
      sy[k] += lat[i];
      ranks[k * 4 + rank] += 1;
      if (rank < worst[k]) { worst[k] = rank; first[k] = i; }
    }
    // The worst cells last: drawn on top.
    const order = Array.from({length: cells}, (_, k) => k).sort((a, b) => worst[b] - worst[a]);
    const names = ["critical", "warning", "unknown", "ok"];
    const many = (k) => count[k] + " " + T.count + "<br>" + names.map((h, r) => ranks[k * 4 + r] ?
      (T.health[h] || h) + ": " + ranks[k * 4 + r] : "").filter(Boolean).join(" · ") +
      (worst[k] < 2 ? "<br>" + hover(first[k]) : "");
    state.cells = order;
    state.shown = [];
    return {
      x: order.map((k) => sx[k] / count[k]), y: order.map((k) => sy[k] / count[k]),
      color: order.map((k) => colour(names[worst[k]])),
      size: order.map((k) => count[k] === 1 ? size(c[K.load][first[k]]) :
        Math.min(24, 7 + 2.5 * Math.log2(count[k]))),
      customdata: order.map((k) => count[k] === 1 ? c.bench_id[first[k]] : ""),
      hovertext: order.map((k) => count[k] === 1 ? hover(first[k]) : many(k)),
      text: order.map((k) => count[k]),
    };
  }

  function setTrace(trace, a) {
    const xy = state.kind === "tiles" ? ["lon", "lat"] : ["x", "y"];
    trace[xy[0]] = a.x;
    trace[xy[1]] = a.y;
    trace.customdata = a.customdata;
    trace.hovertext = a.hovertext;
    trace.text = a.text;
    trace.marker = Object.assign({}, trace.marker, {color: a.color, size: a.size});
    mapDiv.dataset.markers = state.cells ? "cells" : "benches";
  }

  function redrawMap() {
    const a = markerArrays(viewBox());
    const xy = state.kind === "tiles" ? ["lon", "lat"] : ["x", "y"];
    const update = {"marker.color": [a.color], "marker.size": [a.size], customdata: [a.customdata],
      hovertext: [a.hovertext], text: [a.text]};
    update[xy[0]] = [a.x];
    update[xy[1]] = [a.y];
    const markers = state.cells ? "cells" : "benches";
    return Plotly.restyle(mapDiv, update, [0]).then(() => { mapDiv.dataset.markers = markers; });
  }

  // -- the table -------------------------------------------------------------------------------------------
  function matching() {
    const c = state.cols, n = c.bench_id.length;
    const text = document.getElementById("filter-text").value.trim().toLowerCase();
    const health = document.getElementById("filter-health").value;
    const municipality = document.getElementById("filter-municipality").value;
    const online = document.getElementById("filter-online").value;
    const idx = [];
    if (!text && !health && !municipality && !online) {
      for (let i = 0; i < n; i++) idx.push(i);
      return idx;
    }
    for (let i = 0; i < n; i++) {
      if (health && c.health[i] !== health) continue;
      if (municipality && c.municipality[i] !== municipality) continue;
      if (online && String(c.online[i] === true) !== online) continue;
      if (text && !(c.name[i].toLowerCase().includes(text) || c.municipality[i].toLowerCase().includes(text) ||
                    c.bench_id[i].includes(text))) continue;
      idx.push(i);
    }
    return idx;
  }

  function comparator() {
    const c = state.cols, dir = state.sortDir;
    if (state.sortKey === "attention") {
      const h = c.health, name = c.name;
      return (a, b) => ((RANK[h[a]] ?? 2) - (RANK[h[b]] ?? 2)) * dir || collator.compare(name[a], name[b]) || a - b;
    }
    const col = c[state.sortKey];
    return (a, b) => {
      const x = col[a], y = col[b];
      if (x === y) return a - b;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    };
  }

  // The first ``need`` of ``idx`` in order: a bounded insertion (one comparison for most benches) rather
  // than sorting 100,000 to show 100.
  function firstInOrder(idx, cmp, need) {
    if (need * 8 >= idx.length) return idx.sort(cmp).slice(0, need);
    const top = [];
    for (const i of idx) {
      if (top.length === need && cmp(i, top[need - 1]) >= 0) continue;
      let lo = 0, hi = top.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cmp(top[mid], i) <= 0) lo = mid + 1; else hi = mid; }
      top.splice(lo, 0, i);
      if (top.length > need) top.pop();
    }
    return top;
  }

  function renderTable() {
    const c = state.cols;
    const idx = matching();
    const pages = Math.max(1, Math.ceil(idx.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const rows = firstInOrder(idx, comparator(), (state.page + 1) * PAGE).slice(state.page * PAGE);
    const html = [];
    for (const i of rows) {
      const on = c.online[i] === null ? T.unknown : (c.online[i] ? T.yes : T.no);
      html.push('<tr data-bench="' + c.bench_id[i] + '"><td><a href="/benches/' + c.bench_id[i] + '">' +
        escapeHtml(c.name[i]) + '</a></td><td>' + escapeHtml(c.municipality[i]) + '</td><td class="health ' +
        c.health[i] + '">' + (T.health[c.health[i]] || c.health[i]) + '</td><td>' + on + '</td><td>' +
        BF.num(c[K.soc][i], 0, "%") + '</td><td>' + BF.num(c[K.solar][i], 0, "W") + '</td><td>' +
        BF.num(c[K.load][i], 0, "W") + '</td><td class="firmware">' + escapeHtml(c.firmware[i] || "—") +
        '</td><td class="config ' + c.config_state[i] + '">' + (T.config[c.config_state[i]] || c.config_state[i]) +
        '</td><td>' + (c.last_seen[i] ? BF.time(c.last_seen[i] * 1000) : "—") + '</td></tr>');
    }
    document.querySelector("#fleet-table tbody").innerHTML = html.join("");
    document.getElementById("page").textContent = (state.page + 1) + " / " + pages;
    document.getElementById("fleet-count").textContent = idx.length + " " + T.count;
  }

  // -- live updates ----------------------------------------------------------------------------------------
  let pending = null, mapDirty = false, lastEnd = 0, cost = 0;
  function scheduleRedraw() {
    if (pending) return;
    // Once per frame, and after a slow redraw (a big fleet) wait as long again: the page stays usable.
    const wait = Math.max(0, lastEnd + Math.min(2000, cost) - performance.now());
    pending = setTimeout(() => requestAnimationFrame(async () => {
      const start = performance.now();
      try {
        if (mapDirty) { mapDirty = false; await redrawMap(); }
        renderTable();
      } finally {  // a failed redraw must not end live updates
        lastEnd = performance.now();
        cost = lastEnd - start;
        pending = null;
      }
      document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
    }), wait);
  }

  // Whether a live value differs from the column's (which holds coordinates to 5 decimals, metrics to 1).
  function changed(held, fresh, tolerance) {
    if (typeof held === "number" && typeof fresh === "number") return Math.abs(held - fresh) > tolerance;
    return String(held) !== String(fresh);
  }

  function applyTwins(twins) {
    const c = state.cols, keys = Object.keys(c);
    for (const t of twins) {
      if (typeof t.last_seen === "string") t.last_seen = Date.parse(t.last_seen) / 1000;
      let i = indexOf(t.bench_id);
      if (i === undefined) {
        i = c.bench_id.length;
        state.index.set(t.bench_id, i);
        for (const k of keys) c[k].push(null);
        mapDirty = true;
      }
      if (!mapDirty) {
        mapDirty = MAP_FIELDS.some((k) => k in t && changed(c[k][i], t[k], k === "lat" || k === "lon" ? 1e-5 : 0.05));
      }
      for (const k of keys) if (k in t) c[k][i] = t[k];
    }
    scheduleRedraw();
  }

  async function load() {
    const res = await BF.fetchJSON("/fleet/data.json");
    if (!res.ok) return;
    performance.mark("fleet:parsed");
    state.cols = decode(res.data);
    state.colours = res.data.figure.layout.meta.colours;
    state.kind = res.data.figure.layout.meta.kind;
    const fig = res.data.figure;
    setTrace(fig.data[0], markerArrays(null));
    performance.mark("fleet:arrays");
    await Plotly.newPlot(mapDiv, fig.data, fig.layout,
      {responsive: true, displaylogo: false, scrollZoom: true});
    performance.mark("fleet:plotted");
    mapDiv.on("plotly_click", (ev) => {
      const p = ev.points && ev.points[0];
      if (!p || p.curveNumber !== 0) return;
      if (p.customdata) window.location = "/benches/" + p.customdata;
      else zoomAround(p.x, p.y);  // a cell of many benches: closer
    });
    // A zoom or pan redraws the markers (cells become benches as the view narrows).
    mapDiv.on("plotly_relayout", (ev) => {
      if (ev && Object.keys(ev).some((k) => k.startsWith("xaxis") || k.startsWith("yaxis") || k === "autosize")) {
        mapDirty = true;
        scheduleRedraw();
      }
    });
    if (window.FLEET_ZOOM_TO_BENCHES) zoomToBenches();
    const select = document.getElementById("filter-municipality");
    for (const m of Array.from(new Set(state.cols.municipality)).sort(collator.compare)) {
      const opt = document.createElement("option");
      opt.value = m;
      opt.textContent = m;
      select.appendChild(opt);
    }
    renderTable();
    performance.mark("fleet:table");
    document.body.dataset.ready = "true";
    performance.mark("fleet:ready");
    const s = BF.socket();
    s.on("twin", (msg) => applyTwins(msg.twins || []));
    // Health also changes with time alone (a silent bench turns stale) and that sends no event: re-read the
    // columns once a minute.
    setInterval(refresh, REFRESH_MS);
  }

  function zoomAround(x, y) {
    const fl = mapDiv._fullLayout;
    const w = (fl.xaxis.range[1] - fl.xaxis.range[0]) / 8, h = (fl.yaxis.range[1] - fl.yaxis.range[0]) / 8;
    Plotly.relayout(mapDiv, {"xaxis.range": [x - w / 2, x + w / 2], "yaxis.range": [y - h / 2, y + h / 2]});
  }

  // Fit the view to the benches' bounding box, with a margin; a lone bench shows at least MIN_SPAN around it.
  function zoomToBenches() {
    const c = state.cols;
    if (!c.lon.length) return;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < c.lon.length; i++) {
      x0 = Math.min(x0, c.lon[i]); x1 = Math.max(x1, c.lon[i]);
      y0 = Math.min(y0, c.lat[i]); y1 = Math.max(y1, c.lat[i]);
    }
    const half = Math.max(MIN_SPAN, (y1 - y0) * 1.2, (x1 - x0) * 1.2 * Math.cos(44.2 * Math.PI / 180)) / 2;
    const mx = (x0 + x1) / 2, my = (y0 + y1) / 2, hx = half / Math.cos(my * Math.PI / 180);
    if (state.kind === "tiles") {
      Plotly.relayout(mapDiv, {"map.center": {lon: mx, lat: my},
        "map.zoom": Math.max(1, Math.min(MAX_ZOOM, Math.log2(360 / (2 * hx)) - 0.5))});
    } else {
      Plotly.relayout(mapDiv, {"xaxis.range": [mx - hx, mx + hx], "yaxis.range": [my - half, my + half]});
    }
  }

  async function refresh() {
    const res = await BF.fetchJSON("/fleet/data.json");
    if (!res.ok) return;
    state.cols = decode(res.data);
    state.index = null;
    mapDirty = true;
    scheduleRedraw();
  }

  document.querySelectorAll("#fleet-table th[data-sort]").forEach((th) => th.addEventListener("click", () => {
    const key = th.dataset.sort;
    state.sortDir = state.sortKey === key ? -state.sortDir : 1;
    state.sortKey = key;
    renderTable();
  }));
  ["filter-text", "filter-municipality", "filter-health", "filter-online"].forEach((id) =>
    document.getElementById(id).addEventListener("input", () => { state.page = 0; renderTable(); }));
  document.getElementById("prev").addEventListener("click", () => {
    state.page = Math.max(0, state.page - 1);
    renderTable();
  });
  document.getElementById("next").addEventListener("click", () => { state.page += 1; renderTable(); });
  load();
})();
