/* The move dialog (board and opportunity page).
 *
 * The move endpoint answers 422 (something to ask or a refusal) or 409 (a conflict) with a
 * <dialog> partial for #move-dialog-slot. htmx leaves 4xx answers unswapped by default, so allow
 * it for that slot only; open whatever dialog lands there as a modal; Cancel closes it.
 */
(function () {
  "use strict";
  var SLOT_ID = "move-dialog-slot";

  function slot() {
    return document.getElementById(SLOT_ID);
  }

  function open(container) {
    var dialog = container && container.querySelector("dialog");
    if (!dialog) return;
    if (dialog.open) dialog.close(); // an inline (no-JS) dialog becomes a modal one
    dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function inSlot(element) {
    return element && (element.id === SLOT_ID || (element.closest && element.closest("#" + SLOT_ID)));
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 409 || status === 422) && inSlot(event.detail.target)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === SLOT_ID) open(event.detail.target);
  });

  // A server error or no network: say so where the user is looking, change nothing.
  function failed(event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
    var container = slot();
    if (!form || !container) return;
    var note = form.querySelector(".js-request-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "form-errors js-request-error";
      note.setAttribute("role", "alert");
      form.prepend(note);
    }
    note.textContent = container.dataset.msgFailed || "Error";
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);

  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-dialog-close]");
    if (!closer) return;
    var dialog = closer.closest("dialog");
    if (!dialog) return;
    event.preventDefault(); // without JS the link leads back to the opportunity page
    dialog.close();
  });

  // A closed dialog is gone: the next move brings its own.
  document.addEventListener(
    "close",
    function (event) {
      if (event.target.matches && event.target.matches("dialog.move-dialog")) event.target.remove();
    },
    true
  );

  document.addEventListener("DOMContentLoaded", function () {
    open(slot()); // the page was rendered with the dialog (a move posted without JS)
  });

  window.JihuiMoveDialog = { open: open, slot: slot };
})();
