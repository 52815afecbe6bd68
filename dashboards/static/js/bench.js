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
      if (fig) await Plotly.react("chart-" + name, fig.data, BF.plotLayout(fig.layout), BF.plotConfig());
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
    cfg.textContent = (window.STATE_TEXT[s.config_state] || s.config_state) + " (v" + s.desired_version + ")";
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

  // The desired/reported table and the versions change only with a new desired version, a config report
  // or a new firmware: fetch the small twin.json then, never the whole page, and never for telemetry.
  let configKey = null;
  const refreshCompare = BF.debounce(async () => {
    const res = await BF.fetchJSON("/benches/" + benchId + "/twin.json");
    if (!res.ok) return;
    const doc = res.data;
    const tbody = document.querySelector("#config-compare tbody");
    if (tbody) {
      tbody.replaceChildren(...doc.compare.map((row) => {
        const tr = document.createElement("tr");
        tr.className = row.differs ? "delta" : "";
        tr.dataset.path = row.path;
        for (const v of [row.label, row.desired, row.reported]) {
          const td = document.createElement("td");
          td.textContent = String(v);
          tr.appendChild(td);
        }
        return tr;
      }));
    }
    const fw = doc.reported ? {firmware: doc.reported.firmware.version, hardware: doc.reported.hardware.model} : {};
    const values = Object.assign({}, fw, Object.fromEntries(Object.entries(doc.versions).map(([k, v]) => [k, "v" + v])));
    document.querySelectorAll("#versions dd[data-key]").forEach((dd) => {
      if (dd.dataset.key in values) dd.textContent = values[dd.dataset.key];
    });
    document.body.dataset.compareVersion = String(doc.desired.version);
  }, 100);

  function configChanged(s) {
    const key = s.desired_version + "/" + s.config_state;
    const changed = configKey !== null && key !== configKey;
    configKey = key;
    return changed;
  }

  document.querySelectorAll(".ranges button").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll(".ranges button").forEach((x) => x.classList.remove("active"));
    b.classList.add("active");
    range = b.dataset.range;
    loadCharts();
  }));

  configKey = document.getElementById("bench").dataset.configKey || null;
  loadCharts().then(() => {
    const s = BF.socket();
    s.on("twin", (msg) => {
      for (const t of msg.twins || []) {
        if (t.bench_id !== benchId) continue;
        showSummary(t);
        // Charts after the next paint: redrawing six Plotly charts takes tens of milliseconds, and the new
        // numbers should not wait for it (nor should the next message).
        requestAnimationFrame(() => setTimeout(() => extend(t), 0));
        if (configChanged(t)) refreshCompare();
      }
    });
    s.on("config_status", (ev) => {
      if (ev.bench_id !== benchId) return;
      const cfg = document.getElementById("config-state");
      cfg.className = "state " + ev.state;
      cfg.textContent = (window.STATE_TEXT[ev.state] || ev.state) + " (v" + ev.version + ")";  // as showSummary
      refreshCompare();
    });
    document.body.dataset.ready = "true";
  });
})();
