// Shared helpers of every page: CSRF-aware fetch, the live socket and locale formatting.
(function () {
  "use strict";
  function locale() { return (document.body && document.body.dataset.locale) || "bs"; }
  // Dates and numbers: the locale the server names for Intl (Chromium has no Bosnian formats, see i18n.py).
  function intl() { return (document.body && document.body.dataset.intlLocale) || locale(); }
  function csrf() { const m = document.querySelector("meta[name=csrf-token]"); return m ? m.content : ""; }
  async function fetchJSON(url, opts) {
    opts = opts || {};
    const headers = Object.assign({"Accept": "application/json"}, opts.headers || {});
    if (opts.body !== undefined && typeof opts.body !== "string") {
      opts.body = JSON.stringify(opts.body);
      headers["Content-Type"] = "application/json";
    }
    if (opts.method && opts.method !== "GET") headers["X-CSRFToken"] = csrf();
    const res = await fetch(url, Object.assign({}, opts, {headers: headers, credentials: "same-origin"}));
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return {ok: res.ok, status: res.status, data: data};
  }
  // Health reasons and alarm messages arrive as a code with parameters ({code, params}); the page holds their
  // translated templates (window.BF_REASONS, dashboards/reason_text.py) and writes them in the viewer's language.
  const UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  function duration(seconds) {
    const [unit, size] = UNITS.find(([, n]) => seconds >= n) || UNITS[3];
    return new Intl.NumberFormat(intl(), {style: "unit", unit: unit, unitDisplay: "long"}).format(Math.floor(seconds / size));
  }
  function term(w) { const c = window.BF_REASONS; return (c && c.terms[w]) || String(w); }
  const KINDS = {
    int: (v) => num(Math.round(v), 0),
    dec1: (v) => num(v, 1),
    pct: (v) => new Intl.NumberFormat(intl(), {style: "percent", maximumFractionDigits: 0}).format(v),
    time: (v) => time(v),
    duration: (v) => duration(Number(v)),
    term: term,
    terms: (v) => String(v).split(", ").map(term).join(", "),
    text: (v) => String(v),
  };
  function reason(doc) {
    const spec = window.BF_REASONS && doc && window.BF_REASONS.texts[doc.code];
    if (!spec) return doc && doc.code ? doc.code : "";
    const params = doc.params || {};
    return spec.t.replace(/%\((\w+)\)s|%%/g, (m, name) =>
      name === undefined ? "%" : (KINDS[spec.k[name] || "text"] || KINDS.text)(params[name]));
  }
  // Live events carry the English text beside the code: translate on arrival, so every page's handler
  // (fleet, bench, alarms) shows the viewer's language without knowing about it.
  const LOCALISE = {
    twin: (msg) => { (msg.twins || []).forEach((t) => { if (t.reason_texts) t.reasons = t.reason_texts.map(reason); }); },
    health: (msg) => { (msg.reasons || []).forEach((r) => { if (r.text) r.message = reason(r.text); }); },
    alert: (msg) => { if (msg.text) msg.message = reason(msg.text); },
  };
  function socket(auth) {
    const s = io({transports: ["websocket"], auth: auth || {}});
    const on = s.on.bind(s);
    s.on = (name, fn) => on(name, LOCALISE[name] ? (msg) => { LOCALISE[name](msg); return fn(msg); } : fn);
    const badge = () => document.getElementById("live-status");
    s.on("connect", () => { const b = badge(); if (b) b.dataset.state = "live"; });
    s.on("disconnect", () => { const b = badge(); if (b) b.dataset.state = "offline"; });
    s.on("connect_error", () => { const b = badge(); if (b) b.dataset.state = "offline"; });
    return s;
  }
  function num(v, digits, unit) {
    if (v === null || v === undefined) return "—";
    const t = new Intl.NumberFormat(intl(), {minimumFractionDigits: digits, maximumFractionDigits: digits}).format(v);
    return unit ? t + "\u202f" + unit : t;
  }
  function time(ts) {
    if (!ts) return "—";
    return new Intl.DateTimeFormat(intl(), {dateStyle: "medium", timeStyle: "medium", timeZone: "UTC"}).format(new Date(ts));
  }
  // Charts: Plotly's month and day names in the viewer's language (vendor/plotly-locales.js, chosen by the
  // server: i18n.PLOTLY_LOCALES) and its number separators from Intl (decimal comma in bs/hr/sr).
  function plotConfig() {
    return {responsive: true, displaylogo: false, locale: (document.body && document.body.dataset.plotlyLocale) || "en"};
  }
  function plotLayout(layout) {
    const parts = new Intl.NumberFormat(intl()).formatToParts(12345.6);
    const part = (type) => (parts.find((p) => p.type === type) || {value: ""}).value;
    return Object.assign({separators: part("decimal") + part("group")}, layout);
  }
  function debounce(fn, ms) {
    let t = null;
    return function () { clearTimeout(t); const a = arguments; t = setTimeout(() => fn.apply(null, a), ms); };
  }
  window.BF = {locale: locale, intl: intl, csrf: csrf, fetchJSON: fetchJSON, socket: socket, num: num, time: time, debounce: debounce,
    reason: reason, plotConfig: plotConfig, plotLayout: plotLayout};
})();
