// Running a benchmark matrix: every row through run_ptq / run_qat, with the seeds,
// versions and resolved config that produced it. Invalid combinations are skipped
// with their reason; an error while a row runs marks that row failed and the run goes on.
#pragma once
#include <nlohmann/json.hpp>

#include "bench_matrix.h"
#include "mqb/host/prepared_model.h"

namespace mqb::cli {

struct BenchRow {
  BenchRowSpec spec;
  std::string status = "skipped";  // "ok", "skipped" (invalid combination) or "failed"
  std::string reason;              // why skipped or failed
  std::string backend, weight, activation;
  double float_top1 = 0;
  double top1 = 0;
  double calibrated_top1 = 0;  // QAT rows: before training
  double calibration_seconds = 0;
  double seconds = 0;  // the whole row
  int64_t sites = 0;
  std::vector<SiteError> site_errors;
  nlohmann::json versions;  // mqbench, LibTorch, and each plugin the row used
  nlohmann::json resolved;  // the config after resolution against the backend
  std::string out_dir;
};

struct BenchRun {
  BenchMatrix matrix;
  std::string model;  // the TorchScript file used
  std::string data;
  double float_top1 = 0;
  int64_t eval_images = 0, train_images = 0;
  std::string started;  // UTC, ISO 8601
  double seconds = 0;
  std::vector<BenchRow> rows;
  int count(const std::string& status) const;
};

// Why the row cannot run (its config does not resolve, a plugin refuses its parameters,
// or it was invalid when expanded), or "" when it can. Runs nothing.
std::string check_bench_row(const BenchRowSpec& row, Registry& registry);

// Writes <out>/runs/<row id>/ (config.toml and the run's artefacts) for every row.
BenchRun run_bench(const BenchMatrix& matrix, const std::filesystem::path& out, Registry& registry, bool quiet);

}  // namespace mqb::cli
