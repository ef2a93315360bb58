// wxqr dashboard: the daily chart of a channel page, and small form helpers.
// Chart.js is served by wxqr itself from /static/vendor/ (built from npm), never a CDN.
(function () {
  "use strict";

  var COLOURS = {
    scans: "#0072B2",
    unique_scanners: "#56B4E9",
    new_followers: "#009E73",
    returning_followers: "#CC79A7",
    unfollows: "#D55E00",
    net_followers: "#E69F00"
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

  // Okabe-Ito colours: told apart with every common colour-vision deficiency.
  var SAFE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"];

  function chartMissing() {
    var missing = document.getElementById("chart-missing");
    if (missing) {
      missing.hidden = false;
    }
  }

  function drawOverview() {
    var source = document.getElementById("overview-data");
    if (!source) {
      return;
    }
    if (typeof window.Chart !== "function") {
      chartMissing();
      return;
    }
    var data = JSON.parse(source.textContent);
    var common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } }
    };
    var trend = document.getElementById("trend-chart");
    if (trend) {
      // Counts per day as bars: nothing drawn between two days, a zero baseline.
      trend.chart = new window.Chart(trend, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: data.metricLabel, data: data.values, backgroundColor: SAFE[0] },
            { label: data.previousLabel, data: data.previous, backgroundColor: SAFE[1] }
          ]
        },
        options: Object.assign({}, common, {
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        })
      });
      trend.setAttribute("data-ready", "1");
    }
    var bars = document.getElementById("channels-chart");
    if (bars) {
      bars.chart = new window.Chart(bars, {
        type: "bar",
        data: {
          labels: data.channels,
          datasets: [{ label: data.metricLabel, data: data.channelValues, backgroundColor: SAFE[2] }]
        },
        options: Object.assign({}, common, {
          indexAxis: "y",
          scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }
        })
      });
      bars.setAttribute("data-ready", "1");
    }
  }

  // A line with straight segments over the points it has, zero-based: the channel
  // page's retention curve (percent) and the overview's audience (followers).
  function drawLine(canvasId, dataId, colour, percent) {
    var canvas = document.getElementById(canvasId);
    var source = document.getElementById(dataId);
    if (!canvas || !source) {
      return;
    }
    if (typeof window.Chart !== "function") {
      chartMissing();
      return;
    }
    var data = JSON.parse(source.textContent);
    var y = { beginAtZero: true, ticks: { precision: 0 } };
    if (percent) {
      y = { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } };
    }
    canvas.chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ label: data.label, data: data.values, borderColor: colour, backgroundColor: colour, tension: 0, pointRadius: 2 }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: y },
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.setAttribute("data-ready", "1");
  }

  // Today's figures on the KPI cards, refreshed every 30 s without reloading the page.
  function pollToday() {
    var source = document.getElementById("today-source");
    if (!source || typeof window.fetch !== "function") {
      return;
    }
    var url = source.getAttribute("data-url");
    function refresh() {
      window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) {
            return;
          }
          Object.keys(body.formatted).forEach(function (name) {
            var cell = document.querySelector("[data-today='" + name + "']");
            if (cell) {
              cell.textContent = body.formatted[name];
            }
          });
          source.setAttribute("data-refreshed", body.date);
        })
        .catch(function () { /* the next poll tries again */ });
    }
    refresh();
    window.setInterval(refresh, 30000);
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

  // Forms that cannot be undone (removing a user...) ask first: data-confirm="question".
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  // The feed of recent scans: new rows come on top without a reload.
  function cell(row, text) {
    var td = document.createElement("td");
    if (text !== undefined) {
      td.textContent = text;
    }
    row.appendChild(td);
    return td;
  }

  function code(parent, text) {
    var c = document.createElement("code");
    c.textContent = text;
    parent.appendChild(c);
  }

  function feedRow(table, scan) {
    var row = document.createElement("tr");
    row.setAttribute("data-id", String(scan.id));
    cell(row, scan.time);
    var where = cell(row);
    if (scan.channel_id) {
      var link = document.createElement("a");
      link.href = "/dashboard/channels/" + scan.channel_id;
      link.textContent = scan.channel || "";
      where.appendChild(link);
    } else if (scan.orphan) {
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = table.getAttribute("data-orphan");
      where.appendChild(tag);
      if (scan.scene && table.getAttribute("data-can-edit") === "1") {
        var make = document.createElement("a");
        var base = table.getAttribute("data-new-channel");
        make.href = base + (base.indexOf("?") < 0 ? "?" : "&") + "scene=" + encodeURIComponent(scan.scene);
        make.textContent = table.getAttribute("data-make");
        where.appendChild(document.createTextNode(" "));
        where.appendChild(make);
      }
    } else {
      where.textContent = "—";
    }
    code(cell(row), scan.scene || "—");
    cell(row, table.getAttribute(scan.followed ? "data-followed" : "data-scanned"));
    code(cell(row), scan.who);
    return row;
  }

  function pollScans() {
    var table = document.getElementById("scan-feed");
    if (!table || !window.fetch) {
      return;
    }
    var body = table.querySelector("tbody");
    function tick() {
      var source = table.getAttribute("data-source");
      var url = source + (source.indexOf("?") < 0 ? "?" : "&") + "after=" + table.getAttribute("data-after");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || !data.scans.length) {
            return;
          }
          var empty = body.querySelector(".empty-row");
          if (empty) {
            empty.remove();
          }
          var newest = Number(table.getAttribute("data-after"));
          data.scans.slice().reverse().forEach(function (scan) {
            body.insertBefore(feedRow(table, scan), body.firstChild);
            newest = Math.max(newest, scan.id);
          });
          table.setAttribute("data-after", String(newest));
        })
        .catch(function () { /* the next tick tries again */ });
    }
    window.setInterval(tick, 5000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    confirmForms();
    pollScans();
    drawChart();
    drawOverview();
    drawLine("retention-chart", "retention-data", SAFE[2], true);
    drawLine("audience-chart", "audience-data", SAFE[0], false);
    pollToday();
    autoSubmit();
    confirmKindSwitch();
  });
})();
