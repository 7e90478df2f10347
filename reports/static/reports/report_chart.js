// Draws the report's chart from the JSON the page embeds (the table's own numbers).
(function () {
  "use strict";
  var source = document.getElementById("report-chart-data");
  var canvas = document.getElementById("report-chart");
  if (!source || !canvas || typeof Chart === "undefined") { return; }
  var spec = JSON.parse(source.textContent);
  if (!spec.labels.length) { canvas.parentNode.hidden = true; return; }
  var colours = ["#c8102e", "#0b5cad", "#2f9e44", "#f08c00", "#7048e8"];
  new Chart(canvas, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map(function (set, i) {
        return { label: set.label, data: set.data, backgroundColor: colours[i % colours.length] };
      })
    },
    options: {
      indexAxis: spec.horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: spec.datasets.length > 1 } }
    }
  });
})();
