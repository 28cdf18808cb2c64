// Every page: a form with data-confirm asks first (withdrawing a need, say); a form that
// changes something is sent once. A second click (or tap on a slow
// line) while the first request is on its way is ignored, so a need, an offer or a decision is
// not posted twice; the server refuses a true duplicate too, this only spares the round trip.
// Nothing is disabled (a disabled button would drop its name=value, e.g. verify or reject), and
// the form is usable again after 10 seconds or when the page is shown again from the history.
"use strict";
(function () {
  var AGAIN_AFTER_MS = 10000;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") {
      return;
    }
    if (event.defaultPrevented) { return; }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    form.setAttribute("aria-busy", "true");
    window.setTimeout(function () {
      delete form.dataset.sending;
      form.removeAttribute("aria-busy");
    }, AGAIN_AFTER_MS);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
      form.removeAttribute("aria-busy");
    });
  });
})();
