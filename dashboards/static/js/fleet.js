// Fleet page: WebGL map and a sortable, filterable, paged table; live twin updates restyle both.
(function () {
  "use strict";
  const T = window.FLEET_TEXT;
  const K = window.METRIC_KEYS;  // column names by role: the metric table's keys
  const PAGE = 100;
  const REFRESH_MS = 60000;
  // "attention" (the default) puts critical benches first, then warnings, then the rest; by name within.
  const state = {cols: null, index: new Map(), colours: {}, sortKey: "attention", sortDir: 1, page: 0, rows: []};
  const RANK = {critical: 0, warning: 1, unknown: 2, ok: 3};
  const mapDiv = document.getElementById("fleet-map");
  const size = (p) => (p === null || p === undefined) ? 6 : 6 + Math.min(p, 70) / 5;

  function colour(h) { return state.colours[h] || state.colours.unknown; }

  // Name, municipality, health and the reasons behind it (the crew's first question).
  function hover(c, n, i) {
    const reasons = c.reasons[i] || [];
    const head = escapeHtml(n) + " (" + escapeHtml(c.municipality[i]) + ")<br>" + (T.health[c.health[i]] || c.health[i]);
    return reasons.length ? head + "<br>" + reasons.map((r) => "• " + escapeHtml(r)).join("<br>") : head;
  }

  // The bench trace's arrays, from the columns: used for the first draw and for every live update.
  function benchArrays(kind) {
    const c = state.cols;
    const xy = kind === "tiles" ? ["lon", "lat"] : ["x", "y"];
    const out = {
      color: c.health.map(colour),
      size: c[K.load].map(size),
      customdata: c.bench_id.slice(),
      hovertext: c.name.map((n, i) => hover(c, n, i)),
    };
    out[xy[0]] = c.lon.slice();
    out[xy[1]] = c.lat.slice();
    return out;
  }

  function redrawMap() {
    const a = benchArrays(mapDiv.layout.meta.kind);
    const update = {"marker.color": [a.color], "marker.size": [a.size], customdata: [a.customdata],
      hovertext: [a.hovertext]};
    for (const k of ["x", "y", "lon", "lat"]) if (k in a) update[k] = [a[k]];
    Plotly.restyle(mapDiv, update, [0]);
  }

  function filtered() {
    const c = state.cols;
    const text = document.getElementById("filter-text").value.trim().toLowerCase();
    const health = document.getElementById("filter-health").value;
    const municipality = document.getElementById("filter-municipality").value;
    const online = document.getElementById("filter-online").value;
    const idx = [];
    for (let i = 0; i < c.bench_id.length; i++) {
      if (health && c.health[i] !== health) continue;
      if (municipality && c.municipality[i] !== municipality) continue;
      if (online && String(c.online[i] === true) !== online) continue;
      if (text && !(c.name[i].toLowerCase().includes(text) || c.municipality[i].toLowerCase().includes(text) ||
                    c.bench_id[i].includes(text))) continue;
      idx.push(i);
    }
    const dir = state.sortDir;
    if (state.sortKey === "attention") {
      idx.sort((a, b) => ((RANK[c.health[a]] ?? 2) - (RANK[c.health[b]] ?? 2)) * dir ||
        String(c.name[a]).localeCompare(String(c.name[b]), BF.locale()));
      return idx;
    }
    const col = c[state.sortKey];
    idx.sort((a, b) => {
      const x = col[a], y = col[b];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    return idx;
  }

  function renderTable() {
    const c = state.cols;
    state.rows = filtered();
    const pages = Math.max(1, Math.ceil(state.rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const body = document.querySelector("#fleet-table tbody");
    const html = [];
    for (const i of state.rows.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
      const on = c.online[i] === null ? T.unknown : (c.online[i] ? T.yes : T.no);
      html.push('<tr data-bench="' + c.bench_id[i] + '"><td><a href="/benches/' + c.bench_id[i] + '">' +
        escapeHtml(c.name[i]) + '</a></td><td>' + escapeHtml(c.municipality[i]) + '</td><td class="health ' +
        c.health[i] + '">' + (T.health[c.health[i]] || c.health[i]) + '</td><td>' + on + '</td><td>' +
        BF.num(c[K.soc][i], 0, "%") + '</td><td>' + BF.num(c[K.solar][i], 0, "W") + '</td><td>' +
        BF.num(c[K.load][i], 0, "W") + '</td><td class="firmware">' + escapeHtml(c.firmware[i] || "—") +
        '</td><td class="config ' + c.config_state[i] + '">' + (T.config[c.config_state[i]] || c.config_state[i]) +
        '</td><td>' + BF.time(c.last_seen[i]) + '</td></tr>');
    }
    body.innerHTML = html.join("");
    document.getElementById("page").textContent = (state.page + 1) + " / " + pages;
    document.getElementById("fleet-count").textContent = state.rows.length + " " + T.count;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, (ch) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));
  }

  let dirty = false;
  function scheduleRedraw() {
    if (dirty) return;
    dirty = true;
    requestAnimationFrame(() => {
      dirty = false;
      redrawMap();
      renderTable();
      document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
    });
  }

  function applyTwins(twins) {
    const c = state.cols;
    for (const t of twins) {
      let i = state.index.get(t.bench_id);
      if (i === undefined) {
        i = c.bench_id.length;
        state.index.set(t.bench_id, i);
        for (const k of Object.keys(c)) c[k].push(null);
      }
      for (const k of Object.keys(c)) if (k in t) c[k][i] = t[k];
    }
    scheduleRedraw();
  }

  async function load() {
    const res = await BF.fetchJSON("/fleet/data.json");
    if (!res.ok) return;
    performance.mark("fleet:parsed");
    state.cols = res.data.columns;
    state.colours = res.data.figure.layout.meta.colours;
    state.cols.bench_id.forEach((id, i) => state.index.set(id, i));
    const fig = res.data.figure;
    const a = benchArrays(fig.layout.meta.kind);
    const bench = fig.data[0];
    Object.assign(bench, {customdata: a.customdata, hovertext: a.hovertext});
    bench.marker = Object.assign({}, bench.marker, {color: a.color, size: a.size});
    for (const k of ["x", "y", "lon", "lat"]) if (k in a) bench[k] = a[k];
    performance.mark("fleet:arrays");
    await Plotly.newPlot(mapDiv, fig.data, fig.layout,
      {responsive: true, displaylogo: false, scrollZoom: true});
    performance.mark("fleet:plotted");
    mapDiv.on("plotly_click", (ev) => {
      const p = ev.points && ev.points[0];
      if (p && p.curveNumber === 0 && p.customdata) window.location = "/benches/" + p.customdata;
    });
    if (window.FLEET_ZOOM_TO_BENCHES) zoomToBenches(fig.layout.meta.kind);
    const select = document.getElementById("filter-municipality");
    for (const m of Array.from(new Set(state.cols.municipality)).sort()) {
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

  // Fit the view to the benches' bounding box (with a margin; at least ~5 km across for a lone bench).
  function zoomToBenches(kind) {
    const c = state.cols;
    if (!c.lon.length) return;
    const pad = 0.03;
    const x0 = Math.min(...c.lon) - pad, x1 = Math.max(...c.lon) + pad;
    const y0 = Math.min(...c.lat) - pad, y1 = Math.max(...c.lat) + pad;
    if (kind === "tiles") {
      const span = Math.max(x1 - x0, (y1 - y0) * 1.4);
      Plotly.relayout(mapDiv, {"map.center": {lon: (x0 + x1) / 2, lat: (y0 + y1) / 2},
        "map.zoom": Math.max(1, Math.min(14, Math.log2(360 / span) - 0.5))});
    } else {
      Plotly.relayout(mapDiv, {"xaxis.range": [x0, x1], "yaxis.range": [y0, y1]});
    }
  }

  async function refresh() {
    const res = await BF.fetchJSON("/fleet/data.json");
    if (!res.ok) return;
    const fresh = res.data.columns;
    const twins = fresh.bench_id.map((id, i) => {
      const t = {};
      for (const k of Object.keys(fresh)) t[k] = fresh[k][i];
      return t;
    });
    applyTwins(twins);
  }

  document.querySelectorAll("#fleet-table th[data-sort]").forEach((th) => th.addEventListener("click", () => {
    const key = th.dataset.sort;
    state.sortDir = state.sortKey === key ? -state.sortDir : 1;
    state.sortKey = key;
    renderTable();
  }));
  ["filter-text", "filter-municipality", "filter-health", "filter-online"].forEach((id) =>
    document.getElementById(id).addEventListener("input", () => { state.page = 0; renderTable(); }));
  document.getElementById("prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); renderTable(); });
  document.getElementById("next").addEventListener("click", () => { state.page += 1; renderTable(); });
  load();
})();
