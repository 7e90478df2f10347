/* The opportunity page: on a narrow screen the stage path scrolls sideways; start it at the
 * current stage rather than at the first one. */
(function () {
  "use strict";
  function showCurrentStage() {
    var path = document.querySelector(".stage-path ol");
    var current = path && path.querySelector(".step-current");
    if (!current || path.scrollWidth <= path.clientWidth) return;
    path.scrollLeft = current.offsetLeft - (path.clientWidth - current.offsetWidth) / 2;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", showCurrentStage);
  else showCurrentStage();
})();
