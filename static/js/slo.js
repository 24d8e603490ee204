/* /slo/ charts: uPlot (vendored) fed from the page's json_script "slo-data".
   The SLI per SLO with its target line, the error-budget burn-down with the ideal line, traffic and
   response times. Hovering shows the values in each chart's legend; the same numbers are in the
   page's "charts as tables" section for screen readers. Times are UTC, like the rest of the console. */
(function () {
  "use strict";

  var source = document.getElementById("slo-data");
  if (!source || typeof window.uPlot === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var COLORS = { latency: "#2a6496", error_rate: "#9a6700", uptime: "#1a7f37" };
  var TARGET = "#c62828";
  var MUTED = "#5b6770";
  var charts = [];

  function percent(values) {
    return values.map(function (v) { return v === null ? null : v * 100; });
  }

  function formatPercent(digits) {
    return function (u, v) { return v === null || v === undefined ? "–" : v.toFixed(digits) + " %"; };
  }

  function formatNumber(suffix) {
    return function (u, v) { return v === null || v === undefined ? "–" : String(Math.round(v * 10) / 10) + suffix; };
  }

  function widthOf(el) {
    return Math.max(260, Math.floor(el.getBoundingClientRect().width) || 600);
  }

  function utc(ts) {
    return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
  }

  function draw(el, options, columns) {
    var base = {
      width: widthOf(el),
      height: options.height || 220,
      tzDate: utc,
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
    };
    var chart = new window.uPlot(Object.assign(base, options), columns, el);
    el.setAttribute("data-rendered", "true");
    charts.push({ el: el, chart: chart });
    return chart;
  }

  function lowest(values) {
    var found = null;
    values.forEach(function (v) {
      if (v !== null && (found === null || v < found)) { found = v; }
    });
    return found;
  }

  function sliChart(el) {
    var key = el.getAttribute("data-slo");
    var target = data.objectives[key] * 100;
    var sli = percent(data.sli[key]);
    var floor = lowest(sli);
    var bottom = Math.min(floor === null ? target : floor, target);
    // Leave room under the lower of the target and the worst point so both stay readable.
    bottom = Math.max(0, bottom - Math.max(0.5, (100 - bottom) * 0.25));
    draw(el, {
      scales: { y: { range: function () { return [bottom, 100]; } } },
      axes: [{}, { size: 60, values: function (u, ticks) { return ticks.map(function (t) { return t + " %"; }); } }],
      series: [
        {},
        { label: data.names[key], stroke: COLORS[key], width: 2, spanGaps: false, value: formatPercent(3) },
        { label: "target", stroke: TARGET, dash: [6, 4], width: 1, value: formatPercent(2) },
      ],
    }, [data.x, sli, data.x.map(function () { return target; })]);
  }

  function burnDownChart(el) {
    var series = [{}];
    var columns = [data.burn_down.x];
    Object.keys(data.burn_down.remaining).forEach(function (key) {
      series.push({ label: data.names[key], stroke: COLORS[key], width: 2, value: formatPercent(1) });
      columns.push(percent(data.burn_down.remaining[key]));
    });
    series.push({ label: "ideal", stroke: MUTED, dash: [6, 4], width: 1, value: formatPercent(1) });
    columns.push(percent(data.burn_down.ideal));
    draw(el, {
      height: 260,
      axes: [{}, { size: 60, values: function (u, ticks) { return ticks.map(function (t) { return t + " %"; }); } }],
      series: series,
    }, columns);
  }

  function trafficChart(el) {
    var t = data.traffic;
    draw(el, {
      series: [
        {},
        { label: "received", stroke: "#2a6496", width: 2, value: formatNumber("") },
        { label: "delivered", stroke: "#1a7f37", width: 1, value: formatNumber("") },
        { label: "dead-lettered", stroke: "#c62828", width: 2, value: formatNumber("") },
        { label: "ingress 5xx", stroke: "#9a6700", width: 2, value: formatNumber("") },
      ],
    }, [data.x, t.received, t.delivered, t.dead_lettered, t.ingress_5xx]);
  }

  function latencyChart(el) {
    var l = data.latency;
    draw(el, {
      axes: [{}, { size: 60, values: function (u, ticks) { return ticks.map(function (t) { return t + " ms"; }); } }],
      series: [
        {},
        { label: "ingress p95", stroke: "#2a6496", width: 2, spanGaps: false, value: formatNumber(" ms") },
        { label: "app p95", stroke: "#6f42c1", width: 1, spanGaps: false, value: formatNumber(" ms") },
        { label: "threshold", stroke: TARGET, dash: [6, 4], width: 1, value: formatNumber(" ms") },
      ],
    }, [data.x, l.ingress_p95, l.app_p95, data.x.map(function () { return data.threshold_ms; })]);
  }

  var builders = { sli: sliChart, burn_down: burnDownChart, traffic: trafficChart, latency: latencyChart };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var build = builders[el.getAttribute("data-chart")];
    if (build) { build(el); }
  });

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(function () {
      charts.forEach(function (item) {
        item.chart.setSize({ width: widthOf(item.el), height: item.chart.height });
      });
    }, 150);
  });
})();
