/* Pillars: the secretariat dashboard's charts (Chart.js, vendored). Data come from the
   data-charts attribute of #dashboard-charts; each <canvas data-chart="name" data-keys="a b">
   draws one stacked horizontal bar chart. The tables beside them hold the same figures. */
(function () {
  "use strict";
  var holder = document.getElementById("dashboard-charts");
  if (!holder || typeof Chart === "undefined") { return; }
  var data = JSON.parse(holder.getAttribute("data-charts"));
  var labels = JSON.parse(holder.getAttribute("data-labels"));
  var colours = {
    supported: "#198754", noted: "#6c757d", none: "#dee2e6",
    implemented: "#198754", partially_implemented: "#ffc107", not_implemented: "#dc3545",
    no_longer_applicable: "#6c757d", not_assessed: "#dee2e6"
  };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var figures = data[canvas.getAttribute("data-chart")];
    if (!figures || figures.labels.length === 0) {
      canvas.parentNode.classList.add("d-none");
      return;
    }
    var keys = canvas.getAttribute("data-keys").split(" ");
    canvas.parentNode.style.height = (figures.labels.length * 28 + 90) + "px";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: figures.labels,
        datasets: keys.map(function (key) {
          return { label: labels[key], data: figures.series[key], backgroundColor: colours[key] };
        })
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        responsive: true,
        animation: false,
        scales: { x: { stacked: true, ticks: { precision: 0 } }, y: { stacked: true } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  });
})();
