// Participation page: one poll's tallies, map and turnout; live votes refresh it.
(function () {
  "use strict";
  const root = document.querySelector(".participation");
  const isPublic = root.dataset.public === "true";
  const base = root.dataset.base;
  let current = null;

  async function show(pollId) {
    current = pollId;
    const res = await BF.fetchJSON(base + "/" + pollId + "/data.json");
    if (!res.ok) return;
    const d = res.data;
    document.getElementById("poll-detail").hidden = false;
    document.getElementById("poll-question").textContent = d.poll.text;
    document.getElementById("poll-votes").textContent = BF.num(d.results.votes, 0);
    document.getElementById("poll-votes-word").textContent = d.votes_word;
    const csv = document.getElementById("poll-csv");
    if (csv) csv.href = base + "/" + pollId + ".csv";
    const table = document.querySelector("#by-bench tbody");
    if (table && d.results.by_bench) {
      table.innerHTML = "";
      const names = d.poll.bench_names || {};
      const label = (id) => names[id] || id;
      const rows = Object.entries(d.results.by_bench)
        .sort((a, b) => label(a[0]).localeCompare(label(b[0]), BF.locale()));
      for (const [bench, tally] of rows) {
        const tr = document.createElement("tr");
        const total = Object.values(tally).reduce((a, b) => a + b, 0);
        const detail = Object.entries(tally).map(([o, n]) => (d.poll.option_text[o] || o) + ": " + n).join(", ");
        tr.dataset.bench = bench;
        for (const text of [label(bench), BF.num(total, 0), detail]) {
          const td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        }
        table.appendChild(tr);
      }
    }
    for (const [name, fig] of Object.entries(d.figures)) {
      const div = document.getElementById("chart-" + name);
      if (div) await Plotly.react(div, fig.data, BF.plotLayout(fig.layout), BF.plotConfig());
    }
    document.body.dataset.ready = "true";
  }

  const refresh = BF.debounce(() => { if (current) show(current); }, 300);
  document.querySelectorAll("#poll-list a[data-poll]").forEach((a) => a.addEventListener("click", (ev) => {
    ev.preventDefault();
    show(a.dataset.poll);
  }));
  // Publishing a closed poll's results (staff page): the list is rendered by the server, so reload after.
  document.querySelectorAll("button.publish-toggle").forEach((b) => b.addEventListener("click", async () => {
    const res = await BF.fetchJSON(base + "/" + b.dataset.poll + "/" + b.dataset.action, {method: "POST"});
    if (res.ok) window.location.reload();
  }));
  const first = document.querySelector("#poll-list a[data-poll]");
  if (first) show(first.dataset.poll); else document.body.dataset.ready = "true";
  const s = BF.socket(isPublic ? {public: true} : {});
  s.on("vote", (ev) => { if (ev.poll_id === current) refresh(); });
})();
