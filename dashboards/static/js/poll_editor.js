// Poll editor: the polls on the user's benches (edit, close early, delete), and the form that pushes one.
// The id patterns escape "-" in their classes: browsers compile pattern="" with the "v" flag, where an
// unescaped "-" at the end of a class is a syntax error (the check silently never ran).
// Every change is conditional on the desired versions the list showed (the server answers "changed
// meanwhile" for a bench changed since), and the list follows the benches live (pending → applied).
(function () {
  "use strict";
  const form = document.getElementById("poll-form");
  const langs = window.POLL_LANGUAGES;
  const T = window.POLL_TEXT;
  const title = document.getElementById("form-title");
  let count = 0;
  let polls = {};          // poll id → the list's row (with the versions to change it at)
  let editing = null;      // the poll id being edited, or null for a new poll

  function addOption() {
    const i = count++;
    const box = document.createElement("div");
    box.className = "option";
    let html = "<label>" + T.option + " id <input name='options." + i + ".id' pattern='[a-z0-9][a-z0-9_\\-]{0,31}'></label>";
    for (const l of langs) html += "<label>" + l + " <input name='options." + i + ".labels." + l + "'></label>";
    html += "<span class='field-error' data-for='options." + i + "'></span>";
    box.innerHTML = html;
    document.getElementById("options").appendChild(box);
  }
  function utc(local) { return local ? new Date(local).toISOString().replace(/\.\d{3}Z$/, "Z") : ""; }
  // An RFC 3339 UTC time as the value of a datetime-local input (in the browser's zone, as collect() reads it).
  function local(ts) {
    const d = new Date(ts);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }
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
    const versions = editing && polls[editing] ? polls[editing].versions : {};
    return {municipalities: f.getAll("municipality"), poll: poll, versions: versions};
  }
  function showErrors(fields) {
    for (const [path, msg] of Object.entries(fields || {})) {
      const parts = path.split(".");
      let slot = null;
      while (parts.length && !slot) {
        slot = form.querySelector('.field-error[data-for="' + parts.join(".") + '"]');
        parts.pop();
      }
      if (slot) slot.textContent += msg + " ";
      else form.querySelector('.field-error[data-for="poll"]').textContent += msg + " ";
    }
  }
  function item(r) {
    const li = document.createElement("li");
    li.dataset.bench = r.bench_id;
    li.dataset.version = r.version;
    li.dataset.state = r.state;
    li.className = "state " + r.state;
    li.textContent = r.bench_id + ": v" + r.version + " " + (r.state_text || r.state) + (r.error ? " — " + r.error : "");
    return li;
  }
  function showResults(results) {
    const out = document.getElementById("poll-push-results");
    out.innerHTML = "";
    results.forEach((r) => out.appendChild(item(r)));
  }

  // -- the list -----------------------------------------------------------------------------------
  function button(text, cls, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }
  function row(p) {
    const tr = document.createElement("tr");
    tr.dataset.poll = p.id;
    tr.dataset.phase = p.phase;
    tr.dataset.states = Object.values(p.states).join(" ");
    const cells = [p.text + " (" + p.id + ")", p.municipalities.join(", "), p.phase_text + " · " + p.when, p.votes_text,
      p.states_text];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    tr.children[4].className = "poll-states";
    const actions = document.createElement("td");
    actions.className = "actions";
    actions.appendChild(button(T.edit, "edit", () => edit(p)));
    if (p.phase === "open") actions.appendChild(button(T.close, "close", () => change(p, "close")));
    const del = button(T.remove, "delete", () => change(p, "delete"));
    if (p.votes > 0) { del.disabled = true; del.title = T.hasVotes; }
    actions.appendChild(del);
    tr.appendChild(actions);
    return tr;
  }
  async function load() {
    const res = await BF.fetchJSON("/participation/polls.json");
    if (!res.ok) return;
    polls = {};
    const body = document.querySelector("#poll-table tbody");
    body.innerHTML = "";
    res.data.polls.forEach((p) => { polls[p.id] = p; body.appendChild(row(p)); });
    document.getElementById("no-polls").hidden = res.data.polls.length > 0;
    document.getElementById("poll-table").dataset.loaded = String(Date.now());
  }
  async function change(p, action) {
    if (!window.confirm(action === "close" ? T.confirmClose : T.confirmRemove)) return;
    const url = "/participation/polls/" + encodeURIComponent(p.id) + (action === "close" ? "/close" : "");
    const res = await BF.fetchJSON(url, {method: action === "close" ? "POST" : "DELETE", body: {versions: p.versions}});
    document.getElementById("list-error").textContent = res.ok ? "" : (res.data && res.data.error ? res.data.error.message : "HTTP " + res.status);
    if (res.ok) showResults(res.data.results);
    await load();
  }

  // -- the form -----------------------------------------------------------------------------------
  function fill(p) {
    form.reset();
    form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    form.querySelectorAll("input[name=municipality]").forEach((el) => { el.checked = p ? p.municipalities.includes(el.value) : false; });
    document.getElementById("options").querySelectorAll(".option").forEach((el) => el.remove());
    count = 0;
    const options = p ? p.options : [null, null];
    options.forEach(() => addOption());
    if (!p) return;
    form.elements.id.value = p.id;
    for (const l of langs) form.elements["question." + l].value = p.question[l] || "";
    options.forEach((o, i) => {
      form.elements["options." + i + ".id"].value = o.id;
      for (const l of langs) form.elements["options." + i + ".labels." + l].value = o.labels[l] || "";
    });
    form.elements.opens.value = local(p.opens);
    form.elements.closes.value = local(p.closes);
  }
  function edit(p) {
    editing = p.id;
    fill(p);
    form.elements.id.readOnly = true;  // another id would be another poll: its votes would not follow
    title.textContent = title.dataset.edit + ": " + p.id;
    document.getElementById("new-poll").hidden = false;
    form.dataset.editing = p.id;
    form.scrollIntoView();
  }
  function startNew() {
    editing = null;
    fill(null);
    form.elements.id.readOnly = false;
    title.textContent = title.dataset.new;
    document.getElementById("new-poll").hidden = true;
    delete form.dataset.editing;
  }
  document.getElementById("add-option").addEventListener("click", addOption);
  document.getElementById("new-poll").addEventListener("click", startNew);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    const res = await BF.fetchJSON("/participation/polls", {method: "POST", body: collect()});
    document.getElementById("poll-push-results").innerHTML = "";
    if (!res.ok) {
      const err = (res.data && res.data.error) || {};
      showErrors(err.fields || {poll: err.message || ("HTTP " + res.status)});
      return;
    }
    showResults(res.data.results);
    await load();
  });
  // The status follows the benches: pending turns applied (or rejected) as each bench reports.
  const reload = BF.debounce(load, 200);
  BF.socket().on("config_status", (ev) => {
    const li = document.querySelector('#poll-push-results li[data-bench="' + ev.bench_id + '"]');
    if (li && Number(li.dataset.version) <= ev.version) {
      li.replaceWith(item({bench_id: ev.bench_id, version: ev.version, state: ev.state, error: ev.error,
        state_text: (window.STATE_TEXT || {})[ev.state]}));
    }
    reload();
  });
  startNew();
  load().then(() => { document.body.dataset.ready = "true"; });
})();
