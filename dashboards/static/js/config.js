// Configuration page: send only changed fields, show field errors in place, follow pending → applied live.
(function () {
  "use strict";
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
      if (slot) slot.textContent = msg; else document.getElementById("form-error").textContent += path + ": " + msg + " ";
    }
  }
  function row(r) {
    const tr = document.createElement("tr");
    tr.dataset.bench = r.bench_id;
    tr.innerHTML = "<td></td><td></td><td class='state'></td><td class='err'></td>";
    tr.children[0].textContent = r.bench_id;
    tr.children[1].textContent = "v" + r.version;
    tr.children[2].textContent = r.state;
    tr.children[2].className = "state " + r.state;
    tr.children[3].textContent = r.error || "";
    tr.dataset.version = r.version;
    return tr;
  }

  document.getElementById("target-bench").addEventListener("change", async (ev) => {
    const res = await BF.fetchJSON("/config/values.json?bench=" + encodeURIComponent(ev.target.value));
    if (!res.ok) return;
    inputs.forEach((el) => {
      const v = res.data.values[el.name];
      if (el.type === "checkbox") el.checked = !!v; else el.value = v;
    });
    snapshot();
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const values = {};
    inputs.forEach((el) => { const v = valueOf(el); if (v !== initial[el.name]) values[el.name] = v; });
    const target = form.querySelector("input[name=target]:checked").value;
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
