// Poll editor: question and options in every kiosk language, open/close times; pushes to the chosen benches.
// The id patterns escape "-" in their classes: browsers compile pattern="" with the "v" flag, where an
// unescaped "-" at the end of a class is a syntax error (the check silently never ran).
(function () {
  "use strict";
  const form = document.getElementById("poll-form");
  const langs = window.POLL_LANGUAGES;
  let count = 0;

  function addOption() {
    const i = count++;
    const box = document.createElement("div");
    box.className = "option";
    let html = "<label>" + window.OPTION_TEXT + " id <input name='options." + i + ".id' pattern='[a-z0-9][a-z0-9_\\-]{0,31}'></label>";
    for (const l of langs) html += "<label>" + l + " <input name='options." + i + ".labels." + l + "'></label>";
    html += "<span class='field-error' data-for='options." + i + "'></span>";
    box.innerHTML = html;
    document.getElementById("options").appendChild(box);
  }
  function utc(local) { return local ? new Date(local).toISOString().replace(/\.\d{3}Z$/, "Z") : ""; }
  function collect() {
    const f = new FormData(form);
    const poll = {id: f.get("id"), question: {}, options: [], opens: utc(f.get("opens")), closes: utc(f.get("closes"))};
    for (const l of langs) poll.question[l] = f.get("question." + l) || "";
    for (let i = 0; i < count; i++) {
      const id = f.get("options." + i + ".id");
      if (!id) continue;
      const labels = {};
      for (const l of langs) labels[l] = f.get("options." + i + ".labels." + l) || "";
      poll.options.push({id: id, labels: labels});
    }
    return {municipality: f.get("municipality") || null, poll: poll};
  }
  function showErrors(fields) {
    for (const [path, msg] of Object.entries(fields || {})) {
      const parts = path.split(".");
      let slot = null;
      while (parts.length && !slot) {
        slot = form.querySelector('.field-error[data-for="' + parts.join(".") + '"]');
        parts.pop();
      }
      (slot || form.querySelector('.field-error[data-for="poll"]')).textContent += path + ": " + msg + " ";
    }
  }
  document.getElementById("add-option").addEventListener("click", addOption);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    const res = await BF.fetchJSON("/participation/polls", {method: "POST", body: collect()});
    const out = document.getElementById("poll-push-results");
    out.innerHTML = "";
    if (!res.ok) { showErrors((res.data && res.data.error && res.data.error.fields) || {poll: res.status}); return; }
    res.data.results.forEach((r) => out.appendChild(item(r)));
  });
  function item(r) {
    const li = document.createElement("li");
    li.dataset.bench = r.bench_id;
    li.dataset.version = r.version;
    li.dataset.state = r.state;
    li.className = "state " + r.state;
    li.textContent = r.bench_id + ": v" + r.version + " " + r.state + (r.error ? " " + r.error : "");
    return li;
  }
  // The status follows the benches: pending turns applied (or rejected) as each bench reports.
  BF.socket().on("config_status", (ev) => {
    const li = document.querySelector('#poll-push-results li[data-bench="' + ev.bench_id + '"]');
    if (!li || Number(li.dataset.version) > ev.version) return;
    li.replaceWith(item({bench_id: ev.bench_id, version: ev.version, state: ev.state, error: ev.error}));
  });
  addOption(); addOption();
  document.body.dataset.ready = "true";
})();
