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
  function socket(auth) {
    const s = io({transports: ["websocket"], auth: auth || {}});
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
  function debounce(fn, ms) {
    let t = null;
    return function () { clearTimeout(t); const a = arguments; t = setTimeout(() => fn.apply(null, a), ms); };
  }
  window.BF = {locale: locale, intl: intl, csrf: csrf, fetchJSON: fetchJSON, socket: socket, num: num, time: time, debounce: debounce};
})();
