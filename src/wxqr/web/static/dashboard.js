// wxqr dashboard: the daily chart of a channel page, and small form helpers.
// Chart.js is served by wxqr itself from /static/vendor/ (built from npm), never a CDN.
(function () {
  "use strict";

  var COLOURS = {
    scans: "#2563eb",
    unique_scanners: "#7c3aed",
    new_followers: "#16a34a",
    returning_followers: "#0d9488",
    unfollows: "#dc2626",
    net_followers: "#ea580c"
  };

  function drawChart() {
    var canvas = document.getElementById("series-chart");
    var source = document.getElementById("series-data");
    if (!canvas || !source) {
      return;
    }
    if (typeof window.Chart !== "function") {
      var missing = document.getElementById("chart-missing");
      if (missing) {
        missing.hidden = false;
      }
      return;
    }
    var data = JSON.parse(source.textContent);
    var datasets = data.series.map(function (s) {
      return {
        label: s.label,
        data: s.values,
        borderColor: COLOURS[s.key],
        backgroundColor: COLOURS[s.key],
        // Counts are integers per day: straight segments between them, never a curve
        // that dips below zero or overshoots between two points.
        tension: 0,
        pointRadius: 2,
        hidden: s.key === "returning_followers" || s.key === "unique_scanners"
      };
    });
    canvas.chart = new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.setAttribute("data-ready", "1");
  }

  function autoSubmit() {
    var selects = document.querySelectorAll("select[data-autosubmit]");
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener("change", function () {
        select.form.submit();
      });
    });
  }

  // Switching a channel from a (maybe printed) permanent code to a temporary one is
  // confirmed first; without JavaScript the server asks the same question (409).
  function confirmKindSwitch() {
    var select = document.getElementById("issue-kind");
    if (!select || select.getAttribute("data-current") !== "permanent") {
      return;
    }
    select.form.addEventListener("submit", function (event) {
      var confirmField = select.form.querySelector("input[name=confirm]");
      if (select.value === "temporary" && !confirmField) {
        if (!window.confirm(select.getAttribute("data-confirm-temporary"))) {
          event.preventDefault();
          return;
        }
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "confirm";
        hidden.value = "1";
        select.form.appendChild(hidden);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawChart();
    autoSubmit();
    confirmKindSwitch();
  });
})();
