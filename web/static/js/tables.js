// Issue 23: every table with a heading row and three or more columns is readable on a phone.
// Each cell gets its column's heading as data-label, and the table the class "cards": below
// 600 px the stylesheet shows each row as a card of "label: value" lines (nothing is hidden).
"use strict";
(function () {
  function headings(table) {
    var rows = table.tHead ? table.tHead.rows : [];
    if (!rows.length) { return null; }
    var names = [];
    Array.prototype.forEach.call(rows[rows.length - 1].cells, function (cell) {
      var text = (cell.getAttribute("aria-label") || cell.textContent || "").trim();
      for (var i = 0; i < (cell.colSpan || 1); i += 1) { names.push(text); }
    });
    return names;
  }
  function label(table) {
    var names = headings(table);
    if (!names || names.length < 3) { return; }
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label")) {
            var spans = (cell.colSpan || 1) > 1;
            cell.setAttribute("data-label", spans ? "" : (names[column] || ""));
          }
          column += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("cards");
  }
  function all() {
    document.querySelectorAll("table").forEach(label);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", all);
  } else {
    all();
  }
})();
