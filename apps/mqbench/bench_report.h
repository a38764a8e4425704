// The reports of `mqbench bench`: a terminal table, Markdown, CSV, JSON and one
// self-contained HTML page (inline CSS and script, no network) whose script draws the
// charts as SVG: accuracy per configuration against FP32, per-site SQNR, calibration time.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "bench_run.h"

namespace mqb::cli {

nlohmann::json bench_json(const BenchRun& run);
std::string bench_markdown(const BenchRun& run);
std::string bench_csv(const BenchRun& run);
std::string bench_terminal_table(const BenchRun& run);
// The page embeds bench_json(run); its script sets data-charts="ok" on <body> once every
// chart is drawn, or data-charts="error" and shows the error.
std::string bench_html(const BenchRun& run);

// bench.json, bench.csv, bench.md and bench.html in `out`, each written atomically.
void write_bench_reports(const BenchRun& run, const std::filesystem::path& out);

}  // namespace mqb::cli
