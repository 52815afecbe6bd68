// Bench page: charts from the TSDB for 24 h / 7 d / 30 d that extend live, and twin panels refreshed live.
(function () {
  "use strict";
  const root = document.getElementById("bench");
  const benchId = root.dataset.bench;
  const T = window.BENCH_TEXT;
  const K = window.METRIC_KEYS;  // summary keys by role: the metric table's keys
  const charts = ["battery", "solar", "energy", "load", "ports", "wifi"];
  let lastTs = null;
  let range = "24h";

  async function loadCharts() {
    const res = await BF.fetchJSON("/benches/" + benchId + "/charts.json?range=" + range);
    if (!res.ok) return;
    for (const name of charts) {
      const fig = res.data.figures[name];
      if (fig) await Plotly.react("chart-" + name, fig.data, fig.layout, {responsive: true, displaylogo: false});
    }
    document.body.dataset.chartsReady = "true";
  }

  function setText(id, text) { const el = document.getElementById(id); if (el) el.textContent = text; }

  function showSummary(s) {
    setText("now-soc", BF.num(s[K.soc], 1, "%"));
    setText("now-temp", BF.num(s[K.temp], 1, "°C"));
    setText("now-solar", BF.num(s[K.solar], 1, "W"));
    setText("now-load", BF.num(s[K.load], 1, "W"));
    setText("now-wifi", BF.num(s[K.wifi], 0));
    setText("now-ts", BF.time(s.ts));
    setText("conn-online", s.online === null ? "—" : (s.online ? T.yes : T.no));
    const seen = document.getElementById("conn-last-seen");
    seen.textContent = BF.time(s.last_seen);
    seen.dataset.ts = s.last_seen || "";
    const badge = document.getElementById("health-badge");
    badge.className = "badge " + s.health;
    badge.textContent = T.health[s.health] || s.health;
    const cfg = document.getElementById("config-state");
    cfg.className = "state " + s.config_state;
    cfg.textContent = s.config_state + " (v" + s.desired_version + ")";
    const ul = document.getElementById("health-reasons");
    ul.innerHTML = "";
    (s.reasons.length ? s.reasons : [T.none]).forEach((r) => {
      const li = document.createElement("li");
      li.textContent = r;
      li.className = s.reasons.length ? s.health : "ok";
      ul.appendChild(li);
    });
  }

  function extend(s) {
    if (!s.ts || s.ts === lastTs) return;
    lastTs = s.ts;
    const byChart = {};
    for (const [chart, trace, key] of window.LIVE_TRACES) {
      if (s[key] === null || s[key] === undefined) continue;
      (byChart[chart] = byChart[chart] || {x: [], y: [], idx: []});
      byChart[chart].x.push([s.ts]);
      byChart[chart].y.push([s[key]]);
      byChart[chart].idx.push(trace);
    }
    for (const [chart, u] of Object.entries(byChart)) {
      const div = document.getElementById("chart-" + chart);
      if (div && div.data) Plotly.extendTraces(div, {x: u.x, y: u.y}, u.idx);
    }
  }

  const refreshCompare = BF.debounce(async () => {
    // Desired/reported table and attributes come from the server-rendered page; reload only that fragment.
    const res = await fetch(window.location.pathname, {credentials: "same-origin"});
    if (!res.ok) return;
    const html = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = html.getElementById("config-compare");
    const versions = html.getElementById("versions");
    if (fresh) document.getElementById("config-compare").replaceWith(fresh);
    if (versions) document.getElementById("versions").replaceWith(versions);
  }, 300);

  document.querySelectorAll(".ranges button").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll(".ranges button").forEach((x) => x.classList.remove("active"));
    b.classList.add("active");
    range = b.dataset.range;
    loadCharts();
  }));

  loadCharts().then(() => {
    const s = BF.socket();
    s.on("twin", (msg) => {
      for (const t of msg.twins || []) {
        if (t.bench_id !== benchId) continue;
        showSummary(t);
        extend(t);
        refreshCompare();
      }
    });
    s.on("config_status", (ev) => {
      if (ev.bench_id !== benchId) return;
      const cfg = document.getElementById("config-state");
      cfg.className = "state " + ev.state;
      cfg.textContent = ev.state + " (v" + ev.version + ")";
      refreshCompare();
    });
    document.body.dataset.ready = "true";
  });
})();
