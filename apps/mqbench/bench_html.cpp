// The self-contained HTML report of `mqbench bench` (see bench_report.h): the data as
// embedded JSON, a static table of every row (readable without script), and an inline
// script that draws the three charts as SVG. Nothing is fetched from the network.
#include <sstream>

#include "bench_report.h"

namespace mqb::cli {

namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// JSON inside <script>: '<' only occurs in strings, where \u003c means the same, so no
// "</script>" in a label can end the element.
std::string script_json(const nlohmann::json& j) {
  std::string out;
  for (char c : j.dump()) out += c == '<' ? std::string("\\u003c") : std::string(1, c);
  return out;
}

const char* const kStyle = R"CSS(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.skipped td, tr.failed td { color: #888; }
svg text { font: 11px system-ui, sans-serif; fill: #222; }
.meta { color: #555; }
pre { font-size: 12px; margin: 4px 0; }
#render-error { color: #b00; white-space: pre-wrap; }
)CSS";

// Draws into #chart-accuracy, #chart-sqnr and #chart-calibration from #bench-data.
const char* const kScript = R"JS(
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function svg(host, width, height) {
    return el("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img" }, host);
  }
  function fmt(v, d) { return typeof v === "number" ? v.toFixed(d) : String(v); }
  var LABEL = 160, BAR = 480, ROW = 20, TOP = 24;
  // Room for the longest label (about 6.3 px per character at 11 px).
  function fitLabels(rows) {
    var n = 0;
    rows.forEach(function (r) { n = Math.max(n, r.label.length); });
    LABEL = Math.max(160, Math.min(560, Math.ceil(n * 6.3) + 14));
  }

  // Horizontal bars, one per row, on an axis zoomed around the FP32 accuracy.
  function accuracy(host, rows, fp32) {
    var lo = fp32, hi = fp32;
    rows.forEach(function (r) { lo = Math.min(lo, r.top1); hi = Math.max(hi, r.top1); });
    lo = Math.max(0, Math.floor(lo - 1)); hi = Math.min(100, Math.ceil(hi + 0.5));
    var x = function (v) { return LABEL + (v - lo) / (hi - lo) * BAR; };
    var s = svg(host, LABEL + BAR + 120, TOP + rows.length * ROW + 24);
    rows.forEach(function (r, i) {
      var y = TOP + i * ROW;
      el("text", { x: LABEL - 6, y: y + 14, "text-anchor": "end", "class": "acc-label" }, s, r.label);
      var bar = el("rect", { x: LABEL, y: y + 3, width: Math.max(1, x(r.top1) - LABEL), height: ROW - 6,
                             fill: r.mode === "qat" ? "#e8883a" : "#3a78c2", "class": "acc-bar", "data-id": r.id }, s);
      el("title", {}, bar, r.label + ": " + fmt(r.top1, 2) + " % (" + fmt(r.top1 - fp32, 2) + " vs FP32)");
      el("text", { x: x(r.top1) + 4, y: y + 14, "class": "acc-value" }, s,
         fmt(r.top1, 2) + " (" + (r.top1 >= fp32 ? "+" : "") + fmt(r.top1 - fp32, 2) + ")");
    });
    var bottom = TOP + rows.length * ROW;
    el("line", { x1: x(fp32), x2: x(fp32), y1: TOP - 6, y2: bottom, stroke: "#c22", "stroke-dasharray": "4 3",
                 "class": "fp32-line" }, s);
    el("text", { x: x(fp32), y: TOP - 10, "text-anchor": "middle", fill: "#c22", "class": "fp32-label" }, s,
       "FP32 " + fmt(fp32, 2));
    [lo, (lo + hi) / 2, hi].forEach(function (v) {
      el("text", { x: x(v), y: bottom + 16, "text-anchor": "middle", "class": "axis" }, s, fmt(v, 1) + " %");
    });
  }

  // A heat map: one line per row, one cell per quantization site, colour from red (low SQNR) to green.
  function sqnr(host, rows) {
    var sites = [];
    rows.forEach(function (r) { r.site_sqnr.forEach(function (e) { if (sites.indexOf(e.site) < 0) sites.push(e.site); }); });
    var CELL = 46, HEAD = 110;
    var s = svg(host, LABEL + sites.length * CELL + 20, HEAD + rows.length * ROW + 10);
    sites.forEach(function (name, j) {
      var cx = LABEL + j * CELL + CELL / 2;
      el("text", { x: cx, y: HEAD - 6, transform: "rotate(-50 " + cx + " " + (HEAD - 6) + ")", "class": "site-label" },
         s, name);
    });
    rows.forEach(function (r, i) {
      var y = HEAD + i * ROW;
      el("text", { x: LABEL - 6, y: y + 14, "text-anchor": "end", "class": "sqnr-row-label" }, s, r.label);
      var by = {};
      r.site_sqnr.forEach(function (e) { by[e.site] = e.sqnr_db; });
      sites.forEach(function (name, j) {
        var v = by[name], x = LABEL + j * CELL;
        if (v === undefined) {
          el("rect", { x: x, y: y + 1, width: CELL - 2, height: ROW - 2, fill: "#eee", "class": "sqnr-missing" }, s);
          return;
        }
        var db = v === "inf" ? 60 : v;
        var t = Math.max(0, Math.min(1, (db - 5) / 40));  // 5 dB red .. 45 dB green
        var cell = el("rect", { x: x, y: y + 1, width: CELL - 2, height: ROW - 2,
                                fill: "hsl(" + Math.round(120 * t) + ",65%,62%)", "class": "sqnr-cell" }, s);
        el("title", {}, cell, r.label + " / " + name + ": " + fmt(v, 1) + " dB");
        el("text", { x: x + CELL / 2 - 1, y: y + 14, "text-anchor": "middle" }, s, v === "inf" ? "inf" : fmt(v, 1));
      });
    });
  }

  function calibration(host, rows) {
    var hi = 0;
    rows.forEach(function (r) { hi = Math.max(hi, r.calibration_seconds); });
    hi = hi > 0 ? hi : 1;
    var s = svg(host, LABEL + BAR + 90, TOP + rows.length * ROW + 10);
    rows.forEach(function (r, i) {
      var y = TOP + i * ROW;
      el("text", { x: LABEL - 6, y: y + 14, "text-anchor": "end", "class": "calib-label" }, s, r.label);
      var w = Math.max(1, r.calibration_seconds / hi * BAR);
      var bar = el("rect", { x: LABEL, y: y + 3, width: w, height: ROW - 6, fill: "#6a9f58", "class": "calib-bar",
                             "data-id": r.id }, s);
      el("title", {}, bar, r.label + ": " + fmt(r.calibration_seconds, 3) + " s");
      el("text", { x: LABEL + w + 4, y: y + 14 }, s, fmt(r.calibration_seconds, 3) + " s");
    });
    el("text", { x: LABEL, y: TOP - 8 }, s, "seconds to calibrate (" + rows.length + " rows)");
  }

  try {
    var data = JSON.parse(document.getElementById("bench-data").textContent);
    var ok = data.rows.filter(function (r) { return r.status === "ok"; });
    fitLabels(ok);
    accuracy(document.getElementById("chart-accuracy"), ok, data.float_top1);
    sqnr(document.getElementById("chart-sqnr"), ok);
    calibration(document.getElementById("chart-calibration"), ok);
    document.body.setAttribute("data-rows", String(ok.length));
    document.body.setAttribute("data-charts", "ok");
  } catch (e) {
    document.body.setAttribute("data-charts", "error");
    var pre = document.getElementById("render-error");
    pre.textContent = "The charts could not be drawn: " + (e && e.stack ? e.stack : e);
    pre.hidden = false;
  }
})();
)JS";

std::string num(double v, int digits) {
  std::ostringstream ss;
  ss.setf(std::ios::fixed);
  ss.precision(digits);
  ss << v;
  return ss.str();
}

}  // namespace

std::string bench_html(const BenchRun& run) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'\">\n"
    << "<title>mqbench bench: " << escape(run.matrix.file) << "</title>\n<style>" << kStyle << "</style>\n</head>\n"
    << "<body data-charts=\"pending\">\n<h1>mqbench bench: " << escape(run.matrix.file) << "</h1>\n"
    << "<p class=\"meta\">Model <code>" << escape(run.model) << "</code>, data " << escape(run.data) << " ("
    << run.eval_images << " evaluation images), FP32 top-1 <b>" << num(run.float_top1, 2) << " %</b>. Started "
    << escape(run.started) << ", " << num(run.seconds, 0) << " s. " << run.count("ok") << " rows run, "
    << run.count("skipped") << " skipped, " << run.count("failed") << " failed.</p>\n"
    << "<pre id=\"render-error\" hidden></pre>\n"
    << "<h2>Top-1 accuracy per configuration against FP32</h2>\n<div id=\"chart-accuracy\"></div>\n"
    << "<h2>Per-site SQNR (dB, first calibration batch)</h2>\n<div id=\"chart-sqnr\"></div>\n"
    << "<h2>Calibration time</h2>\n<div id=\"chart-calibration\"></div>\n"
    << "<h2>Rows</h2>\n<table id=\"rows\">\n<tr><th>#</th><th>group</th><th>configuration</th><th>mode</th>"
       "<th>seed</th><th>backend</th><th>weights / activations</th><th>top-1 %</th><th>vs FP32</th>"
       "<th>calib s</th><th>status</th></tr>\n";
  for (const auto& r : run.rows) {
    const bool ok = r.status == "ok";
    h << "<tr class=\"" << r.status << "\"><td class=\"num\">" << r.spec.index << "</td><td>" << escape(r.spec.group)
      << "</td><td>" << escape(r.spec.label) << "<details><summary>config.toml</summary><pre>"
      << escape(r.spec.config_toml) << "</pre></details></td><td>" << r.spec.mode << "</td><td class=\"num\">"
      << r.spec.seed << "</td><td>" << escape(r.backend) << "</td><td>"
      << (ok ? escape(r.weight) + "<br>" + escape(r.activation) : "") << "</td><td class=\"num\">"
      << (ok ? num(r.top1, 2) : "") << "</td><td class=\"num\">"
      << (ok ? (r.top1 >= r.float_top1 ? "+" : "") + num(r.top1 - r.float_top1, 2) : "") << "</td><td class=\"num\">"
      << (ok ? num(r.calibration_seconds, 3) : "") << "</td><td>" << r.status
      << (r.reason.empty() ? "" : ": " + escape(r.reason)) << "</td></tr>\n";
  }
  h << "</table>\n<script type=\"application/json\" id=\"bench-data\">" << script_json(bench_json(run))
    << "</script>\n<script>" << kScript << "</script>\n</body>\n</html>\n";
  return h.str();
}

}  // namespace mqb::cli
