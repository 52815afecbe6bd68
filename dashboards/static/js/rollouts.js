// Rollout buttons: POST the action, then reload the page to show the new status (errors shown, not thrown).
(function () {
  "use strict";
  const box = document.getElementById("rollout-detail");
  if (!box) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const error = document.getElementById("rollout-error");
  box.querySelectorAll("button[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch("/api/rollouts/" + encodeURIComponent(box.dataset.id) + "/" + button.dataset.action, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: "{}",
      }).then(function (r) {
        if (r.ok) { window.location.reload(); return null; }
        return r.json().then(function (doc) {
          error.textContent = (doc.error && doc.error.message) || String(r.status);
          error.hidden = false;
        });
      }).finally(function () { button.disabled = false; });
    });
  });
  // Follow a running rollout without a click.
  if (box.dataset.status === "running") setTimeout(function () { window.location.reload(); }, 5000);
})();
