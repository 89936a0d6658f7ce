// The dashboard's behaviour: the theme toggle, the source forms and the copy button (Alpine
// components, CSP build), and the charts.
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

// The new-source and verification forms: show the fields the chosen provider type and
// verification scheme take (the server hides the others for the first paint, and reads only
// those). Initial values come from the form's data-type and data-verification.
document.addEventListener("alpine:init", function () {
  window.Alpine.data("sourceForm", function () {
    return {
      type: "",
      verification: "none",
      optional: [],
      init: function () {
        this.type = this.$el.dataset.type || "";
        this.verification = this.$el.dataset.verification || "none";
        this.optional = (this.$el.dataset.secretOptional || "").split(" ");
      },
      pickType: function (event) {
        this.type = event.target.value;
      },
      pickVerification: function (event) {
        this.verification = event.target.value;
      },
      get generic() {
        return this.type === "generic-webhook";
      },
      get notGeneric() {
        return !this.generic;
      },
      get noSecret() {
        return this.generic && this.verification !== "hmac";
      },
      get secretRequired() {
        return this.optional.indexOf(this.type) < 0;
      },
      get notHmac() {
        return !(this.generic && this.verification === "hmac");
      },
      get notBasic() {
        return !(this.generic && this.verification === "basic-auth");
      },
      get notApiKey() {
        return !(this.generic && this.verification === "api-key");
      },
    };
  });

  // A value to paste elsewhere (an ingest URL): its Copy button puts it on the clipboard, or,
  // where the page may not (plain http on another host), selects it for Ctrl+C.
  window.Alpine.data("copyText", function () {
    return {
      label: "Copy",
      unavailable: false,
      copy: function () {
        var text = this.$refs.text.textContent.trim();
        var self = this;
        var done = function (label) {
          self.label = label;
          setTimeout(function () {
            self.label = "Copy";
          }, 2000);
        };
        var select = function () {
          window.getSelection().selectAllChildren(self.$refs.text);
          done("Selected: press Ctrl+C");
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () {
            done("Copied");
          }, select);
        } else {
          select();
        }
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
  var clock = window.uPlot.fmtDate("{HH}:{mm}");
  var time = Object.assign({}, axis, {
    size: 32,
    values: function (u, splits) {
      return splits.map(function (s) { return clock(new Date(s * 1000)); });
    },
  });
  // Counts are whole numbers: no 2.5 deliveries on the axis.
  var counts = Object.assign({}, axis, { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6] });
  var opts = {
    width: container.clientWidth,
    height: container.clientWidth < 500 ? 180 : 240,
    padding: [12, 28, 0, 0],
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(4, max)]; } } },
    axes: [time, counts],
    series: [
      {},
      { label: "succeeded", stroke: cssVar("--ok"), fill: cssVar("--ok-fill"), width: 1.5, points: { show: false } },
      { label: "failed", stroke: cssVar("--fail"), fill: cssVar("--fail-fill"), width: 1.5, points: { show: false } },
    ],
  };
  return new window.uPlot(opts, [data.t, data.ok, data.fail], container);
}

// The p95 response time of one endpoint, per hour (hours without attempts are gaps).
function latencyChart(container, data) {
  var ink = cssVar("--muted");
  var grid = cssVar("--line");
  var axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  var clock = window.uPlot.fmtDate("{HH}:{mm}");
  var opts = {
    width: container.clientWidth,
    height: 140,
    padding: [12, 28, 0, 0],
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(10, max)]; } } },
    axes: [
      Object.assign({}, axis, {
        size: 32,
        values: function (u, splits) {
          return splits.map(function (s) { return clock(new Date(s * 1000)); });
        },
      }),
      Object.assign({}, axis, { size: 48 }),
    ],
    series: [{}, { label: "p95 ms", stroke: cssVar("--accent"), width: 1.5, spanGaps: false, points: { show: true, size: 4 } }],
  };
  return new window.uPlot(opts, [data.t, data.p95], container);
}

var latency = null;

function mountLatency() {
  if (latency) latency.chart.destroy();
  latency = null;
  var container = document.getElementById("latency-chart");
  if (!container || !window.uPlot) return;
  var data = JSON.parse(container.dataset.series);
  latency = { container: container, data: data, width: container.clientWidth };
  latency.chart = latencyChart(container, data);
}

function redrawLatency() {
  if (!latency) return;
  latency.chart.destroy();
  latency.width = latency.container.clientWidth;
  latency.chart = latencyChart(latency.container, latency.data);
}

document.addEventListener("DOMContentLoaded", mountLatency);
document.addEventListener("hookline:theme", redrawLatency);
window.addEventListener("resize", function () {
  if (latency && latency.container.clientWidth !== latency.width) redrawLatency();
});

// One chart at a time: the overview replaces itself every 30 s (HTMX), so the chart is
// rebuilt from the new page's data, and the resize and theme listeners are set up once.
var current = null;

function mountCharts() {
  if (current) current.chart.destroy();
  current = null;
  var container = document.getElementById("deliveries-chart");
  if (!container || !window.uPlot) return;
  var data = JSON.parse(container.dataset.series);
  current = { container: container, data: data, width: container.clientWidth };
  current.chart = deliveriesChart(container, data);
}

function redraw() {
  if (!current) return;
  current.chart.destroy();
  current.width = current.container.clientWidth;
  current.chart = deliveriesChart(current.container, current.data);
}

document.addEventListener("DOMContentLoaded", mountCharts);
document.addEventListener("htmx:load", mountCharts);
document.addEventListener("hookline:theme", redraw);
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);
window.addEventListener("resize", function () {
  if (current && current.container.clientWidth !== current.width) redraw();
});

// The portal's magic link carries its secret in the fragment (#link=…): post it, once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("portal-open");
  if (!form) return;
  var params = new URLSearchParams(window.location.hash.slice(1));
  var link = params.get("link");
  if (!link) return;
  form.elements.link.value = link;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  form.submit();
});

// A list that refreshes itself (a capture URL's requests, every two seconds) is replaced whole:
// each <details data-keep=ID> keeps the open or closed state the reader gave it, instead of
// snapping back to the server's default under the reader's eyes.
var kept = {};

document.addEventListener("htmx:beforeSwap", function (event) {
  event.detail.target.querySelectorAll("details[data-keep]").forEach(function (d) {
    kept[d.dataset.keep] = d.open;
  });
});

document.addEventListener("htmx:afterSwap", function () {
  document.querySelectorAll("details[data-keep]").forEach(function (d) {
    if (Object.prototype.hasOwnProperty.call(kept, d.dataset.keep)) d.open = kept[d.dataset.keep];
  });
});

// A page shown once in answer to a form (a new token) names the page it belongs to: the browser's
// entry becomes that page, fetched with GET, so a reload neither posts the form again (a second
// token) nor shows the first one again.
document.addEventListener("DOMContentLoaded", function () {
  var once = document.querySelector("[data-history-url]");
  if (once) history.replaceState(null, "", once.dataset.historyUrl);
});
