// The kind picker (品类): a search box filters the kinds of the chosen category, and while no kind
// is chosen, the title's likely kind is asked of /kinds/guess and pre-selected. Without script
// the plain select still works, and an empty kind is recognised from the title on saving.
"use strict";
(function () {
  function categoryOf(form) {
    var select = form.querySelector("select[name=category]");
    return select ? select.value : "";
  }
  function filter(picker, text, category) {
    var words = (text || "").trim().toLowerCase();
    Array.prototype.forEach.call(picker.options, function (option) {
      if (!option.value) { return; }
      var inCategory = !category || option.getAttribute("data-category") === category;
      var matches = !words || option.textContent.toLowerCase().indexOf(words) !== -1;
      option.hidden = !(inCategory && matches) && !option.selected;
    });
    Array.prototype.forEach.call(picker.querySelectorAll("optgroup"), function (group) {
      group.hidden = !Array.prototype.some.call(group.children, function (o) { return !o.hidden; });
    });
  }
  function chosen(picker) {
    return Array.prototype.some.call(picker.options, function (o) { return o.selected && o.value; });
  }
  function guess(form, picker, title) {
    if (chosen(picker) || !title.value.trim()) { return; }
    var url = "/kinds/guess?title=" + encodeURIComponent(title.value) +
      "&category=" + encodeURIComponent(categoryOf(form));
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (answer) {
      if (!answer || !answer.best || chosen(picker)) { return; }
      Array.prototype.forEach.call(picker.options, function (o) {
        if (o.value === answer.best) { o.selected = true; }
      });
      picker.dispatchEvent(new Event("change"));
    }).catch(function () { /* offline: the server recognises it on saving */ });
  }
  document.querySelectorAll("select[data-kind-picker]").forEach(function (picker) {
    var form = picker.form;
    var box = document.querySelector("[data-kind-filter='" + picker.id + "']");
    var title = form && form.querySelector("input[name=title]");
    var refresh = function () { filter(picker, box ? box.value : "", form ? categoryOf(form) : ""); };
    if (box) { box.hidden = false; box.addEventListener("input", refresh); }
    var category = form && form.querySelector("select[name=category]");
    if (category) { category.addEventListener("change", refresh); }
    if (title && picker.hasAttribute("data-kind-guess")) {
      title.addEventListener("change", function () { guess(form, picker, title); });
    }
    refresh();
  });
})();
