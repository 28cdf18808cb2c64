// The committee's invitation slip: the print button.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-slip");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
});
