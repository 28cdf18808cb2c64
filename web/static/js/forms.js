// Every page: a form with data-confirm asks first (withdrawing a need, say); when it also holds
// a confirm checkbox (shown to browsers without JavaScript, and checked by the server), the box
// is hidden and ticked when the question is answered "OK". A form that
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
    var box = form.querySelector("input[name=confirm]");
    if (question && box) { box.checked = true; }
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
  function askInDialog() {
    document.querySelectorAll("form[data-confirm] input[name=confirm]").forEach(function (box) {
      box.required = false;
      var label = box.closest("label");
      if (label) { label.hidden = true; }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", askInDialog);
  } else {
    askInDialog();
  }
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
      form.removeAttribute("aria-busy");
    });
  });
})();
