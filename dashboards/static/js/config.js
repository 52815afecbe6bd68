// Configuration page: send only changed fields, show field errors in place, follow pending → applied live.
(function () {
  "use strict";
  const T = window.CONFIG_TEXT;
  const form = document.getElementById("config-form");
  const inputs = Array.from(form.querySelectorAll(".fields input"));
  let initial = {};

  const valueOf = (el) => el.type === "checkbox" ? el.checked : el.value;
  function snapshot() { initial = {}; inputs.forEach((el) => { initial[el.name] = valueOf(el); }); }
  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    form.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
    document.getElementById("form-error").textContent = "";
  }
  function showErrors(fields) {
    for (const [path, msg] of Object.entries(fields || {})) {
      const slot = form.querySelector('.field-error[data-for="' + path + '"]');
      const input = document.getElementById("f-" + path);
      if (input) input.classList.add("invalid");
      if (slot) slot.textContent = msg;
      else document.getElementById("form-error").textContent += (T.labels[path] || path) + ": " + msg + " ";
    }
  }
  function row(r) {
    const tr = document.createElement("tr");
    tr.dataset.bench = r.bench_id;
    tr.innerHTML = "<td></td><td></td><td class='state'></td><td class='err'></td>";
    tr.children[0].textContent = r.bench_id;
    tr.children[1].textContent = "v" + r.version;
    tr.children[2].textContent = window.STATE_TEXT[r.state] || r.state;
    tr.children[2].className = "state " + r.state;
    tr.children[3].textContent = r.error || "";
    tr.dataset.version = r.version;
    return tr;
  }

  // Fill the form from values; a field named in `mixed` is left empty and marked (it differs between benches).
  function fill(values, mixed) {
    inputs.forEach((el) => {
      const isMixed = (mixed || []).includes(el.name);
      el.classList.toggle("mixed", isMixed);
      el.title = isMixed ? T.mixed : "";
      const v = isMixed ? (el.type === "checkbox" ? false : "") : values[el.name];
      if (el.type === "checkbox") { el.checked = !!v; el.indeterminate = isMixed; } else el.value = v;
      if (el.type !== "checkbox") el.placeholder = isMixed ? T.mixed : "";
    });
    snapshot();
  }
  function target() { return form.querySelector("input[name=target]:checked").value; }
  async function reload() {
    const t = target();
    const url = t === "bench" ? "/config/values.json?bench=" + encodeURIComponent(form.bench.value)
      : "/config/common.json?target=" + t + "&name=" + encodeURIComponent(t === "municipality" ? form.municipality.value : "");
    const res = await BF.fetchJSON(url);
    if (res.ok) fill(res.data.values, res.data.mixed);
    form.dataset.loaded = t;
  }
  form.bench.addEventListener("change", reload);
  form.municipality.addEventListener("change", reload);
  form.querySelectorAll("input[name=target]").forEach((el) => el.addEventListener("change", reload));
  // How many benches a push changes: the confirmation names it (in the server's plural forms) beyond one bench.
  function chosenTarget() {
    const t = target();
    if (t === "bench") return null;
    return t === "fleet" ? form.querySelector("input[name=target][value=fleet]") : form.municipality.selectedOptions[0];
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const values = {};
    inputs.forEach((el) => {
      const v = valueOf(el);
      if (v !== initial[el.name] && !(el.classList.contains("mixed") && v === "")) values[el.name] = v;
    });
    const target = form.querySelector("input[name=target]:checked").value;
    const chosen = chosenTarget();
    if (chosen && Number(chosen.dataset.count) > 1 && Object.keys(values).length &&
        !window.confirm(chosen.dataset.confirm)) return;
    const name = target === "bench" ? form.bench.value : (target === "municipality" ? form.municipality.value : "");
    const res = await BF.fetchJSON("/config/push", {method: "POST", body: {target: target, name: name, values: values}});
    if (!res.ok) {
      const err = (res.data && res.data.error) || {message: "HTTP " + res.status};
      if (err.fields) showErrors(err.fields); else document.getElementById("form-error").textContent = err.message;
      return;
    }
    const body = document.querySelector("#push-results tbody");
    body.innerHTML = "";
    res.data.results.forEach((r) => body.appendChild(row(r)));
    snapshot();
  });

  const s = BF.socket();
  s.on("config_status", (ev) => {
    const tr = document.querySelector('#push-results tr[data-bench="' + ev.bench_id + '"]');
    if (!tr || Number(tr.dataset.version) > ev.version) return;
    tr.replaceWith(row({bench_id: ev.bench_id, version: ev.version, state: ev.state, error: ev.error}));
  });
  snapshot();
  document.body.dataset.ready = "true";
})();
