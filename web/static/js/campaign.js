// Live progress of a campaign (claims/campaign.html): polls the campaign's small JSON endpoint
// every 15 seconds and fills the figures and the <progress> bar. Without JavaScript the page
// shows the figures as they were when it was loaded (reload to refresh).
(function () {
  "use strict";
  var box = document.querySelector("[data-campaign-progress]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-campaign-progress");
  var bar = box.querySelector("progress");

  function show(field, value) {
    var node = box.querySelector('[data-field="' + field + '"]');
    if (node) { node.textContent = Number(value).toLocaleString(); }
  }

  function refresh() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (figures) {
        if (!figures) { return; }
        ["total", "met", "claimed", "open", "percent", "value_total", "value_met"].forEach(
          function (name) { show(name, figures[name]); }
        );
        if (bar) { bar.value = figures.percent; bar.textContent = figures.percent + "%"; }
      })
      .catch(function () { /* keep the figures shown; try again at the next tick */ });
  }

  window.setInterval(refresh, 15000);
}());
