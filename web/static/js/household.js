// Household pages: ask before withdrawing, keep a slow phone from sending a form twice, and
// fill in the invitation code carried by the slip's QR code (/h/#code=...). The code travels
// in the URL's fragment, which browsers never send to the server, so it stays out of logs.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var match = /(?:^#|&)code=([A-Za-z0-9-]{1,16})/.exec(window.location.hash);
  var invite = document.getElementById("first-time");
  if (match && invite) {
    var field = invite.querySelector("input[name=code]");
    if (field && !field.value) {
      field.value = match[1].replace(/-/g, "").toUpperCase();
    }
    var first = document.querySelector(".hh-main form");
    if (first && first !== invite) {
      first.parentNode.insertBefore(invite, first);
    }
    window.history.replaceState(null, "", window.location.pathname);
  }
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        return;
      }
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
    });
  });
});
