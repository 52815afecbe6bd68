// The alarms page (a table with filters, acknowledge and assign) and the alarm list of a bench page.
(function () {
  "use strict";
  // A severity, state or rule code in the viewer's language (window.ALARM_TEXT, from dashboards/labels.py).
  function said(kind, code) { return ((window.ALARM_TEXT || {})[kind] || {})[code] || code; }
  // The message in the viewer's language from its code and parameters (English for alarms stored before).
  function message(a) { return a.text ? BF.reason(a.text) : a.message; }

  function query(form) {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) {
      if (v && v !== "all") params.set(k, String(v).trim());
    }
    return params;
  }

  async function act(id, action, body, onDone) {
    const res = await BF.fetchJSON("/api/alerts/" + id + "/" + action, {method: "POST", body: body});
    const err = document.getElementById("alarm-error");
    if (err) err.textContent = res.ok ? "" : (res.data && res.data.error ? res.data.error.message : "HTTP " + res.status);
    onDone();
  }

  function row(tpl, a, reload) {
    const tr = tpl.content.firstElementChild.cloneNode(true);
    tr.dataset.id = a.id;
    tr.dataset.state = a.state;
    tr.dataset.severity = a.severity;
    tr.querySelector(".severity").textContent = said("severity", a.severity);
    const link = tr.querySelector(".bench a");
    link.textContent = a.bench_id;
    link.href = "/benches/" + encodeURIComponent(a.bench_id);
    tr.querySelector(".rule").textContent = said("rule", a.rule);
    tr.querySelector(".message").textContent = message(a);
    tr.querySelector(".state").textContent = said("state", a.state);
    tr.querySelector(".raised").textContent = BF.time(a.raised_at);
    tr.querySelector(".acked").textContent = a.acknowledged_by ? a.acknowledged_by + " · " + BF.time(a.acknowledged_at) + (a.comment ? " · " + a.comment : "") : "—";
    tr.querySelector(".assignee").textContent = a.assignee || "—";
    tr.querySelector(".ack-box").hidden = a.state !== "active";
    tr.querySelector(".assign-box").hidden = a.state === "cleared";
    tr.querySelector(".ack").addEventListener("click", () =>
      act(a.id, "ack", {comment: tr.querySelector(".ack-comment").value}, reload));
    tr.querySelector(".assign").addEventListener("click", () =>
      act(a.id, "assign", {assignee: tr.querySelector(".assign-to").value}, reload));
    return tr;
  }

  async function load(form, table, tpl) {
    const params = query(form);
    const open = !params.has("state") && !new FormData(form).get("state");
    const res = await BF.fetchJSON("/api/alerts?" + params.toString());
    if (!res.ok) return;
    let alerts = res.data.alerts;
    if (open) alerts = alerts.filter((a) => a.state !== "cleared");
    // Worst first, as a crew works them: active before acknowledged before cleared, then by severity
    // (window.ALARM_ORDER: fleet.ops.alarms.ALARM_STATES, twins.alarm_rules.SEVERITIES), then newest first.
    const rank = (kind, code) => {
      const order = (window.ALARM_ORDER || {})[kind] || [];
      return order.includes(code) ? order.indexOf(code) : order.length;
    };
    alerts = alerts.map((a, i) => [a, i]).sort(([a, i], [b, j]) =>
      rank("state", a.state) - rank("state", b.state) || rank("severity", a.severity) - rank("severity", b.severity) || i - j,
    ).map(([a]) => a);
    const body = table.querySelector("tbody");
    // A live reload must not wipe what someone is typing: keep each row's inputs (and focus) by alarm id.
    const typed = new Map();
    body.querySelectorAll("tr[data-id] input").forEach((input) => {
      if (input.value) typed.set(input.closest("tr").dataset.id + " " + input.className, input.value);
    });
    const focused = document.activeElement && body.contains(document.activeElement)
      ? document.activeElement.closest("tr").dataset.id + " " + document.activeElement.className : null;
    body.replaceChildren(...alerts.map((a) => row(tpl, a, () => load(form, table, tpl))));
    body.querySelectorAll("tr[data-id] input").forEach((input) => {
      const key = input.closest("tr").dataset.id + " " + input.className;
      if (typed.has(key)) input.value = typed.get(key);
      if (key === focused) input.focus();
    });
    document.getElementById("alarm-empty").hidden = alerts.length > 0;
    table.dataset.loaded = String(Date.now());
  }

  function alarmsPage() {
    const form = document.getElementById("alarm-filters");
    const table = document.getElementById("alarm-table");
    const tpl = document.getElementById("alarm-row");
    if (!form || !table || !tpl) return;
    const reload = () => load(form, table, tpl);
    form.addEventListener("change", reload);
    form.addEventListener("input", BF.debounce(reload, 300));
    form.addEventListener("submit", (e) => { e.preventDefault(); reload(); });
    BF.socket().on("alert", reload);  // once per alarm transition
    reload();
  }

  async function benchAlarms() {
    const box = document.getElementById("bench-alarms");
    if (!box) return;
    const res = await BF.fetchJSON("/api/alerts?bench_id=" + encodeURIComponent(box.dataset.bench));
    if (!res.ok) return;
    const open = res.data.alerts.filter((a) => a.state !== "cleared");
    box.querySelector(".count").textContent = String(open.length);
    box.dataset.count = String(open.length);
    box.querySelector("ul").replaceChildren(...open.map((a) => {
      const li = document.createElement("li");
      li.className = "sev-" + a.severity;
      li.textContent = said("severity", a.severity) + " · " + said("rule", a.rule) + " · " + message(a) + " (" + said("state", a.state) + ")";
      return li;
    }));
  }

  document.addEventListener("DOMContentLoaded", () => { alarmsPage(); benchAlarms(); });
})();
