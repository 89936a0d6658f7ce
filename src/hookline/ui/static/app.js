// The dashboard's behaviour: the theme toggle (an Alpine component, CSP build) and the charts.
"use strict";

function effectiveTheme() {
  var chosen = document.documentElement.dataset.theme;
  if (chosen) return chosen;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

document.addEventListener("alpine:init", function () {
  window.Alpine.data("themeToggle", function () {
    return {
      label: "Switch to " + (effectiveTheme() === "dark" ? "light" : "dark") + " theme",
      toggle: function () {
        var next = effectiveTheme() === "dark" ? "light" : "dark";
        document.documentElement.dataset.theme = next;
        try {
          localStorage.setItem("hookline-theme", next);
        } catch (e) {
          /* not remembered, still applied */
        }
        this.label = "Switch to " + (next === "dark" ? "light" : "dark") + " theme";
        document.dispatchEvent(new CustomEvent("hookline:theme"));
      },
    };
  });
});

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function deliveriesChart(container, data) {
  var ink = cssVar("--muted");
  var grid = cssVar("--line");
  var axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  var opts = {
    width: container.clientWidth,
    height: container.clientWidth < 500 ? 180 : 240,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(4, max)]; } } },
    axes: [axis, Object.assign({}, axis, { size: 40 })],
    series: [
      {},
      { label: "succeeded", stroke: cssVar("--ok"), fill: cssVar("--ok-fill"), width: 1.5, points: { show: false } },
      { label: "failed", stroke: cssVar("--fail"), fill: cssVar("--fail-fill"), width: 1.5, points: { show: false } },
    ],
  };
  return new window.uPlot(opts, [data.t, data.ok, data.fail], container);
}

function mountCharts() {
  var container = document.getElementById("deliveries-chart");
  var source = document.getElementById("deliveries-data");
  if (!container || !source || !window.uPlot) return;
  var data = JSON.parse(source.textContent);
  var chart = deliveriesChart(container, data);
  function redraw() {
    chart.destroy();
    chart = deliveriesChart(container, data);
  }
  var width = container.clientWidth;
  window.addEventListener("resize", function () {
    if (container.clientWidth !== width) {
      width = container.clientWidth;
      redraw();
    }
  });
  document.addEventListener("hookline:theme", redraw);
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);
}

document.addEventListener("DOMContentLoaded", mountCharts);
