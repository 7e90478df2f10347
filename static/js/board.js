/* The Kanban board: drag a card to another stage (SortableJS), post the move, and keep the card
 * in its new column only when the server answers 200. Anything else puts it back where it was:
 * 422 brings a dialog asking for what is missing (evidence, won amount, lost reason); other
 * answers bring the card as it really is and a message. The figures of every column come back
 * with each answer, computed by the server.
 */
(function () {
  "use strict";

  function init() {
    var board = document.getElementById("board");
    if (!board || !window.Sortable) return;
    var csrf = board.dataset.csrf;
    var query = board.dataset.boardQuery || "";
    var toast = document.getElementById("board-toast");
    var sink = document.getElementById("board-sink");
    var sortables = [];
    var timer = null;

    function say(text, level) {
      if (!text) return;
      toast.textContent = text;
      toast.className = "board-toast is-visible is-" + level;
      clearTimeout(timer);
      timer = setTimeout(function () {
        toast.classList.remove("is-visible");
      }, level === "error" ? 9000 : 4000);
    }

    function list(stageId) {
      return board.querySelector('.board-cards[data-stage="' + stageId + '"]');
    }

    // Put the server's answer in place: the card (moved to the column of its real stage, or
    // removed when it is closed), every column head and the totals.
    function apply(html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var update = holder.querySelector(".board-update");
      if (!update) return false;
      var card = update.querySelector(".opp-card");
      if (card) {
        var current = document.getElementById(card.id);
        var column = list(card.dataset.stage);
        if (current && column && current.parentNode === column) {
          current.replaceWith(card);
        } else {
          if (current) current.remove();
          if (column) column.prepend(card);
        }
      }
      update.querySelectorAll("[data-remove]").forEach(function (marker) {
        var gone = document.getElementById(marker.dataset.remove);
        if (gone) gone.remove();
      });
      update.querySelectorAll(".board-col-head, #board-totals").forEach(function (fresh) {
        var old = document.getElementById(fresh.id);
        if (old) old.replaceWith(fresh);
      });
      say(update.dataset.message, update.dataset.level || "success");
      return true;
    }

    function putBack(item, origin) {
      origin.list.insertBefore(item, origin.list.children[origin.index] || null);
    }

    function lock(locked) {
      board.classList.toggle("is-busy", locked);
      sortables.forEach(function (sortable) {
        sortable.option("disabled", locked);
      });
    }

    function move(item, stageId, origin) {
      var body = new FormData();
      body.append("stage", stageId);
      body.append("version", item.dataset.version);
      body.append("context", "board");
      body.append("board_query", query);
      item.classList.add("is-moving");
      lock(true);
      fetch(item.dataset.moveUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "HX-Request": "true" },
      })
        .then(function (response) {
          return response.text().then(function (text) {
            return { status: response.status, text: text };
          });
        })
        .then(function (answer) {
          if (answer.status === 200 && apply(answer.text)) return;
          putBack(item, origin);
          if (answer.status === 422) {
            var container = window.JihuiMoveDialog.slot();
            container.innerHTML = answer.text;
            if (window.htmx) window.htmx.process(container);
            window.JihuiMoveDialog.open(container);
          } else if (!apply(answer.text)) {
            say(board.dataset.msgFailed, "error");
          }
        })
        .catch(function () {
          putBack(item, origin);
          say(board.dataset.msgNetwork, "error");
        })
        .finally(function () {
          item.classList.remove("is-moving");
          lock(false);
        });
    }

    function onEnd(event) {
      board.classList.remove("is-dragging");
      var origin = { list: event.from, index: event.oldIndex };
      if (event.to === event.from) {
        // Cards are ordered by close date; an order within the column is not kept, so undo it.
        if (event.oldIndex !== event.newIndex) putBack(event.item, origin);
        return;
      }
      move(event.item, event.to.dataset.stage, origin);
    }

    var options = {
      group: "board",
      animation: 150,
      draggable: ".opp-card",
      forceFallback: true, // one code path for mouse, touch and tests
      fallbackTolerance: 4, // a click on the title still opens the deal
      delay: 200,
      delayOnTouchOnly: true, // on a phone, press and hold to drag; a swipe scrolls the columns
      scroll: true,
      bubbleScroll: true,
      ghostClass: "is-ghost",
      chosenClass: "is-chosen",
      dragClass: "is-dragging-card",
      onStart: function () {
        board.classList.add("is-dragging");
      },
      onEnd: onEnd,
    };
    board.querySelectorAll("[data-cards]").forEach(function (element) {
      sortables.push(window.Sortable.create(element, options));
    });
    board.querySelectorAll("[data-closer]").forEach(function (element) {
      sortables.push(
        window.Sortable.create(element, {
          group: { name: "board", pull: false, put: true },
          sort: false,
          draggable: ".opp-card",
          ghostClass: "is-ghost",
        })
      );
    });

    // The dialog moved the deal (htmx put the answer in the sink): apply it, close the dialog.
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target === sink) {
        apply(sink.innerHTML);
        sink.innerHTML = "";
        var dialog = document.querySelector("#move-dialog-slot dialog");
        if (dialog) dialog.close();
      } else if (event.detail.target.matches && event.detail.target.matches("[data-cards]")) {
        // "Load more" may bring a card that was dragged into this column meanwhile: keep one.
        var seen = {};
        event.detail.target.querySelectorAll(".opp-card").forEach(function (card) {
          if (seen[card.id]) card.remove();
          seen[card.id] = true;
        });
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
