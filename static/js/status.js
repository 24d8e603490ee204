/* The status board's 24 h response-time chart (uPlot).
   Data: <script id="latency-data" type="application/json"> inside the htmx-polled #board;
   after each poll the chart is fed the new data instead of being rebuilt.
   Shape: {"x": [unix seconds…], "series": [{"name": "app", "values": [ms|null…]}…], "bucket_minutes": 5} */
(function () {
  "use strict";

  var PALETTE = ["#2a6496", "#c62828", "#1a7f37", "#9a6700", "#6f42c1", "#0b7285", "#d6336c", "#495057"];
  var HEIGHT = 260;
  var chart = null;
  var shownJson = null;
  var shownNames = null;

  function readData() {
    var node = document.getElementById("latency-data");
    if (!node) return null;
    var text = node.textContent;
    if (text === shownJson) return null;
    shownJson = text;
    return JSON.parse(text);
  }

  function aligned(data) {
    return [data.x].concat(data.series.map(function (s) { return s.values; }));
  }

  function utc(ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); }
  var clock = null;
  var stamp = null;

  function build(container, data) {
    clock = clock || uPlot.fmtDate("{HH}:{mm}");
    stamp = stamp || uPlot.fmtDate("{YYYY}-{MM}-{DD} {HH}:{mm}");
    var series = [{ value: function (u, ts) { return ts == null ? "—" : stamp(utc(ts)) + " UTC"; } }].concat(data.series.map(function (s, index) {
      return {
        label: s.name,
        stroke: PALETTE[index % PALETTE.length],
        width: 1.5,
        spanGaps: false,
        value: function (u, v) { return v == null ? "—" : v.toFixed(1) + " ms"; }
      };
    }));
    var options = {
      width: Math.max(container.clientWidth, 300),
      height: HEIGHT,
      // The console speaks UTC everywhere.
      tzDate: utc,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(max || 0, 10) * 1.1]; } } },
      axes: [
        // 24-hour clock; midnight shows the date instead.
        { values: function (u, ticks) {
          return ticks.map(function (ts) {
            var text = clock(utc(ts));
            return text === "00:00" ? stamp(utc(ts)).slice(5, 10) : text;
          });
        } },
        { label: "ms" }
      ],
      series: series
    };
    return new uPlot(options, aligned(data), container);
  }

  function render() {
    var container = document.getElementById("latency-chart");
    if (!container || typeof uPlot === "undefined") return;
    var data = readData();
    if (!data) return;
    var names = data.series.map(function (s) { return s.name; }).join("\n");
    if (chart && names === shownNames) {
      chart.setData(aligned(data));
      return;
    }
    // First draw, or the set of probes changed: rebuild.
    if (chart) chart.destroy();
    chart = build(container, data);
    shownNames = names;
  }

  function resize() {
    var container = document.getElementById("latency-chart");
    if (chart && container) chart.setSize({ width: Math.max(container.clientWidth, 300), height: HEIGHT });
  }

  document.addEventListener("DOMContentLoaded", render);
  document.body.addEventListener("htmx:afterSettle", render);
  window.addEventListener("resize", resize);
})();
