// Small progressive enhancements for every page. Each page works without this file.
(function () {
  "use strict";

  function rowBoxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name="ids"]'));
  }

  function updateSelection(form) {
    var boxes = rowBoxes(form);
    var checked = boxes.filter(function (box) { return box.checked; }).length;
    form.querySelectorAll("[data-selected-count]").forEach(function (out) { out.textContent = checked; });
    form.querySelectorAll("[data-needs-selection]").forEach(function (button) { button.disabled = checked === 0; });
    form.querySelectorAll("input[data-check-all]").forEach(function (all) {
      all.checked = checked > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    });
    boxes.forEach(function (box) {
      var row = box.closest("tr");
      if (row) { row.classList.toggle("is-selected", box.checked); }
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) || target.type !== "checkbox" || !target.form) { return; }
    if (target.hasAttribute("data-check-all")) {
      rowBoxes(target.form).forEach(function (box) { box.checked = target.checked; });
    }
    if (target.hasAttribute("data-check-all") || target.name === "ids") { updateSelection(target.form); }
  });

  function initSelections(root) {
    root.querySelectorAll("form[data-bulk]").forEach(updateSelection);
  }

  // Confirm dangerous buttons (data-confirm="…"); without JS the server-side preview is the check.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
  });

  // The user menu closes when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });

  document.addEventListener("DOMContentLoaded", function () { initSelections(document); });
  document.addEventListener("htmx:afterSwap", function (event) { initSelections(event.detail.target || document); });
})();
