// Live progress of an allocation run's background job (week/_progress.html): a preview's
// solve, or a preview's commit (stage "committing"). Polls the run's JSON endpoint about once a
// second and fills the <progress> bar and the figures; when the job is over (preview, failed,
// cancelled; committed, or a failed commit) it reloads the page, which then shows the outcome
// or the reason. Without JavaScript the page refreshes itself (noscript).
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");
  var failures = 0;

  function number(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
  }

  function show(field, text) {
    var node = box.querySelector('[data-field="' + field + '"]');
    if (node) { node.textContent = text; }
  }

  function render(state) {
    if (bar) {
      bar.value = state.fraction;
      bar.textContent = Math.round(100 * state.fraction) + "%";
    }
    show("status_label", state.status_label);
    show("stage_label", state.stage_label);
    show("elapsed", number(state.elapsed, 1));
    show("objective", number(state.objective, 1));
    show("bound", number(state.bound, 1));
    if (state.parts_total) {
      show("parts", (state.parts_done || 0) + " / " + state.parts_total);
      box.querySelectorAll('[data-show-if="parts"]').forEach(function (node) { node.hidden = false; });
    }
    var warning = box.querySelector('[data-show-if="no_worker"]');
    if (warning) { warning.hidden = !state.no_worker; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        render(state);
        if (state.done) {
          window.location.replace(box.getAttribute("data-done-url"));
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        failures += 1;  // the server restarting, a dropped connection: back off, keep trying
        window.setTimeout(poll, Math.min(30000, 1000 * Math.pow(2, failures)));
      });
  }

  window.setTimeout(poll, 500);
})();
