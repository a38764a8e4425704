// Text reports of `mqbench bench` (see bench_report.h); the HTML page is in bench_html.cpp.
#include "bench_report.h"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "mqb/host/tensor_io.h"
#include "mqb/plugin.h"

namespace fs = std::filesystem;

namespace mqb::cli {

namespace {

nlohmann::json sqnr_value(double db) { return std::isfinite(db) ? nlohmann::json(db) : nlohmann::json("inf"); }

// Mean and minimum of the finite per-site SQNRs (an exact site, +inf, adds nothing).
std::pair<double, double> sqnr_summary(const BenchRow& r) {
  double sum = 0, lo = INFINITY;
  int n = 0;
  for (const auto& e : r.site_errors)
    if (std::isfinite(e.sqnr_db)) {
      sum += e.sqnr_db;
      lo = std::min(lo, e.sqnr_db);
      ++n;
    }
  return {n ? sum / n : NAN, n ? lo : NAN};
}

std::string fixed(double v, int digits = 2, bool sign = false) {
  if (!std::isfinite(v)) return "";
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(digits) << (sign ? std::showpos : std::noshowpos) << v;
  return ss.str();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Markdown table cells: pipes and HTML escaped, line breaks flattened.
std::string md_cell(std::string s) {
  std::string out;
  for (char c : s)
    out += c == '|' ? std::string("\\|") : c == '<' ? std::string("&lt;") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out;
}

std::string plugin_versions(const BenchRow& r) {
  std::string s;
  if (r.versions.contains("plugins"))
    for (auto it = r.versions["plugins"].begin(); it != r.versions["plugins"].end(); ++it)
      s += (s.empty() ? "" : " ") + it.key() + "=" + it.value().get<std::string>();
  return s;
}

}  // namespace

nlohmann::json bench_json(const BenchRun& run) {
  const BenchMatrix& m = run.matrix;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : run.rows) {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& e : r.site_errors) sites.push_back({{"site", e.name}, {"sqnr_db", sqnr_value(e.sqnr_db)}});
    nlohmann::json j = {{"index", r.spec.index},
                        {"id", r.spec.id},
                        {"group", r.spec.group},
                        {"label", r.spec.label},
                        {"mode", r.spec.mode},
                        {"seed", r.spec.seed},
                        {"status", r.status},
                        {"base_config", r.spec.base_config},
                        {"config_toml", r.spec.config_toml},
                        {"out_dir", r.out_dir},
                        {"seconds", r.seconds}};
    if (!r.reason.empty()) j["reason"] = r.reason;
    if (r.status == "ok") {
      j.update({{"backend", r.backend},
                {"weight", r.weight},
                {"activation", r.activation},
                {"float_top1", r.float_top1},
                {"top1", r.top1},
                {"delta_top1", r.top1 - r.float_top1},
                {"calibrated_top1", r.calibrated_top1},
                {"calibration_seconds", r.calibration_seconds},
                {"sites", r.sites},
                {"site_sqnr", sites},
                {"versions", r.versions},
                {"resolved", r.resolved}});
    }
    rows.push_back(std::move(j));
  }
  return {{"matrix", m.file},
          {"model", run.model},
          {"data", run.data},
          {"float_top1", run.float_top1},
          {"eval_images", run.eval_images},
          {"train_images", run.train_images},
          {"calib_batches", m.calib_batches},
          {"batch_size", m.batch_size},
          {"seeds", m.seeds},
          {"qat",
           {{"epochs", m.qat.epochs},
            {"lr", m.qat.lr},
            {"batch_size", m.qat.batch_size},
            {"train_images", m.qat.train_images},
            {"freeze_bn_epoch", m.qat.freeze_bn_epoch}}},
          {"started", run.started},
          {"seconds", run.seconds},
          {"mqbench_version", MQB_SDK_VERSION},
          {"counts", {{"ok", run.count("ok")}, {"skipped", run.count("skipped")}, {"failed", run.count("failed")}}},
          {"rows", rows}};
}

std::string bench_csv(const BenchRun& run) {
  std::ostringstream ss;
  ss << "index,id,group,label,mode,seed,status,backend,weight,activation,float_top1,top1,delta_top1,"
        "calibrated_top1,calibration_seconds,seconds,sites,mean_sqnr_db,min_sqnr_db,mqbench_version,"
        "libtorch_version,plugin_versions,config,reason\n";
  for (const auto& r : run.rows) {
    const bool ok = r.status == "ok";
    const auto [mean, lo] = sqnr_summary(r);
    const std::vector<std::string> f = {
        std::to_string(r.spec.index), r.spec.id, r.spec.group, r.spec.label, r.spec.mode,
        std::to_string(r.spec.seed), r.status, r.backend, r.weight, r.activation,
        ok ? fixed(r.float_top1) : "", ok ? fixed(r.top1) : "", ok ? fixed(r.top1 - r.float_top1) : "",
        ok ? fixed(r.calibrated_top1) : "", ok ? fixed(r.calibration_seconds, 4) : "", fixed(r.seconds, 3),
        ok ? std::to_string(r.sites) : "", ok ? fixed(mean) : "", ok ? fixed(lo) : "",
        ok ? r.versions.value("mqbench", "") : "", ok ? r.versions.value("libtorch", "") : "", plugin_versions(r),
        fs::path(r.out_dir).append("config.toml").string(), r.reason};
    for (size_t i = 0; i < f.size(); ++i) ss << (i ? "," : "") << csv_field(f[i]);
    ss << "\n";
  }
  return ss.str();
}

std::string bench_markdown(const BenchRun& run) {
  std::ostringstream ss;
  ss << "# mqbench bench: " << md_cell(run.matrix.file) << "\n\n"
     << "Model `" << run.model << "`, data " << run.data << " (" << run.eval_images << " evaluation images), "
     << "FP32 top-1 **" << fixed(run.float_top1) << " %**. Started " << run.started << ", "
     << fixed(run.seconds, 0) << " s; mqbench " << MQB_SDK_VERSION << ".\n\n"
     << "| # | group | configuration | mode | backend | top-1 % | vs FP32 | calib s | min SQNR dB | status |\n"
     << "|---:|---|---|---|---|---:|---:|---:|---:|---|\n";
  for (const auto& r : run.rows) {
    const bool ok = r.status == "ok";
    ss << "| " << r.spec.index << " | " << md_cell(r.spec.group) << " | " << md_cell(r.spec.label) << " | "
       << r.spec.mode << " | " << md_cell(r.backend) << " | " << (ok ? fixed(r.top1) : "") << " | "
       << (ok ? fixed(r.top1 - r.float_top1, 2, true) : "") << " | " << (ok ? fixed(r.calibration_seconds, 3) : "")
       << " | " << (ok ? fixed(sqnr_summary(r).second, 1) : "") << " | " << r.status << " |\n";
  }
  if (run.count("ok") < static_cast<int>(run.rows.size())) {
    ss << "\nNot run:\n\n";
    for (const auto& r : run.rows)
      if (r.status != "ok") ss << "- " << r.spec.index << " " << md_cell(r.spec.label) << " (" << r.status << "): " << md_cell(r.reason) << "\n";
  }
  ss << "\nEach row's `config.toml`, prepared state, deployed model and `report.json` are in `runs/<id>/` "
        "beside this file; `bench.json` has each row's seed, versions and resolved config.\n";
  return ss.str();
}

std::string bench_terminal_table(const BenchRun& run) {
  std::ostringstream ss;
  size_t width = 13;
  for (const auto& r : run.rows) width = std::max(width, r.spec.label.size() + 1);
  width = std::min<size_t>(width, 60);
  ss << "model " << run.model << ", " << run.eval_images << " evaluation images, FP32 top-1 " << fixed(run.float_top1)
     << " %\n"
     << std::right << std::setw(3) << "#" << "  " << std::left << std::setw(static_cast<int>(width)) << "configuration"
     << std::setw(5) << "mode" << std::setw(14) << "backend" << std::right << std::setw(8) << "top-1" << std::setw(9)
     << "vs FP32" << std::setw(9) << "calib s" << "  status\n";
  for (const auto& r : run.rows) {
    const bool ok = r.status == "ok";
    std::string label = r.spec.label;
    if (label.size() >= width) label = label.substr(0, width - 2) + "~";
    ss << std::right << std::setw(3) << r.spec.index << "  " << std::left << std::setw(static_cast<int>(width)) << label
       << std::setw(5) << r.spec.mode << std::setw(14) << (ok ? r.backend : "-") << std::right << std::setw(8)
       << (ok ? fixed(r.top1) : "-") << std::setw(9) << (ok ? fixed(r.top1 - r.float_top1, 2, true) : "-")
       << std::setw(9) << (ok ? fixed(r.calibration_seconds, 3) : "-") << "  " << r.status;
    if (!ok) ss << ": " << r.reason.substr(0, r.reason.find('\n'));
    ss << "\n";
  }
  ss << run.count("ok") << " run, " << run.count("skipped") << " skipped, " << run.count("failed") << " failed in "
     << fixed(run.seconds, 0) << " s\n";
  return ss.str();
}

void write_bench_reports(const BenchRun& run, const fs::path& out) {
  write_text_file(out / "bench.json", bench_json(run).dump(2) + "\n");
  write_text_file(out / "bench.csv", bench_csv(run));
  write_text_file(out / "bench.md", bench_markdown(run));
  write_text_file(out / "bench.html", bench_html(run));
}

}  // namespace mqb::cli
