// Command buttons of the bench page: POST a command, then follow it until the bench answered or it timed out.
(function () {
  "use strict";
  const box = document.getElementById("bench-commands");
  if (!box) return;
  const bench = box.dataset.bench;
  const body = box.querySelector("#command-list tbody");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const FINISHED = new Set(["succeeded", "failed", "timed_out"]);

  function summary(c) {
    if (c.error) return c.error;
    return c.result ? JSON.stringify(c.result) : "";
  }

  function render(list) {
    body.replaceChildren(...list.map(function (c) {
      const tr = document.createElement("tr");
      tr.dataset.id = c.id;
      tr.dataset.status = c.status;
      for (const text of [c.name, c.status, summary(c), c.sent_at]) {
        const td = document.createElement("td");
        td.textContent = text;  // bench answers are data, never markup
        tr.appendChild(td);
      }
      tr.children[1].className = "status " + c.status;
      return tr;
    }));
    return list;
  }

  function refresh() {
    return fetch("/api/benches/" + encodeURIComponent(bench) + "/commands", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (doc) { return render(doc.commands || []); });
  }

  function follow() {
    // Poll while any command is still waiting for its answer (the timeout job bounds the wait).
    refresh().then(function (list) {
      if (list.some(function (c) { return !FINISHED.has(c.status); })) setTimeout(follow, 1000);
    });
  }

  box.querySelectorAll("button[data-command]").forEach(function (button) {
    button.addEventListener("click", function () {
      // A reboot cuts the bench's users off for a minute: ask once.
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      button.disabled = true;
      fetch("/api/benches/" + encodeURIComponent(bench) + "/commands", {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({name: button.dataset.command, args: {}}),
      }).then(follow).finally(function () { button.disabled = false; });
    });
  });
  follow();
})();
